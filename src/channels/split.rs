//! Cutting a long reply into messages the service accepts.

/// Split `text` into parts of at most `max` characters, cutting at the last
/// paragraph break, else line break, else space inside each window, and only
/// mid-word when a single word is longer than `max`. Whitespace at the cut is
/// dropped so no part starts or ends with the separator. `max == 0` is treated as 1.
pub fn split_message(text: &str, max: usize) -> Vec<String> {
    split_by(text, max, |_| 1)
}

/// [`split_message`] for Telegram, which measures a message in UTF-16 code
/// units: a character outside the Basic Multilingual Plane (most emoji) counts
/// twice, so 4,096 `char`s with emoji in them can be refused as too long.
/// A single character longer than `max` units still makes a part of its own.
pub fn split_message_utf16(text: &str, max: usize) -> Vec<String> {
    split_by(text, max, char::len_utf16)
}

fn split_by(text: &str, max: usize, units: impl Fn(char) -> usize) -> Vec<String> {
    let max = max.max(1);
    let mut parts = Vec::new();
    let mut rest = text.trim_end();
    while let Some(window_end) = window_end(rest, max, &units) {
        let window = &rest[..window_end];
        let cut = ["\n\n", "\n", " "].iter().find_map(|sep| {
            window
                .rfind(sep)
                .filter(|&i| i > 0)
                .map(|i| (i, i + sep.len()))
        });
        let (head_end, tail_start) = cut.unwrap_or((window_end, window_end));
        let head = rest[..head_end].trim_end();
        if !head.is_empty() {
            parts.push(head.to_string());
        }
        rest = rest[tail_start..].trim_start_matches([' ', '\n']);
    }
    if !rest.is_empty() || parts.is_empty() {
        parts.push(rest.to_string());
    }
    parts
}

/// Byte index just past the longest prefix of `rest` within `max` units (at
/// least one character), or `None` when all of `rest` fits.
fn window_end(rest: &str, max: usize, units: &impl Fn(char) -> usize) -> Option<usize> {
    let mut used = 0;
    for (i, c) in rest.char_indices() {
        used += units(c);
        if used > max {
            return Some(if i == 0 { c.len_utf8() } else { i });
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::{split_message, split_message_utf16};

    fn lens_ok(parts: &[String], max: usize) -> bool {
        parts.iter().all(|p| p.chars().count() <= max)
    }

    #[test]
    fn short_text_is_one_part() {
        assert_eq!(split_message("hello", 10), vec!["hello"]);
        assert_eq!(split_message("", 10), vec![""]);
    }

    #[test]
    fn prefers_paragraphs_then_lines_then_words() {
        let text = "aaaa bbbb\ncccc\n\ndddd";
        assert_eq!(split_message(text, 16), vec!["aaaa bbbb\ncccc", "dddd"]);
        let text = "aaaa bbbb\ncccc dddd";
        assert_eq!(split_message(text, 12), vec!["aaaa bbbb", "cccc dddd"]);
        let text = "aaaa bbbb cccc";
        assert_eq!(split_message(text, 10), vec!["aaaa bbbb", "cccc"]);
    }

    #[test]
    fn hard_cut_inside_a_long_word_and_multibyte_safe() {
        let text = "é".repeat(25);
        let parts = split_message(&text, 10);
        assert_eq!(parts.len(), 3);
        assert!(lens_ok(&parts, 10));
        assert_eq!(parts.concat(), text);
    }

    #[test]
    fn utf16_counts_emoji_twice() {
        let utf16 = |p: &String| p.encode_utf16().count();
        // 3,000 emoji are 3,000 chars but 6,000 UTF-16 units.
        let text = "😀".repeat(3000);
        assert_eq!(split_message(&text, 4096).len(), 1);
        let parts = split_message_utf16(&text, 4096);
        assert_eq!(parts.len(), 2);
        assert!(parts.iter().all(|p| utf16(p) <= 4096));
        assert_eq!(parts.concat(), text);
        // Words and emoji mixed: cuts at spaces, every part within the limit.
        let text: String = (0..2000).map(|i| format!("w{i}😀 ")).collect();
        let parts = split_message_utf16(&text, 100);
        assert!(parts.iter().all(|p| utf16(p) <= 100));
        assert_eq!(parts.join(" "), text.trim_end());
        // BMP text (Chinese) counts one unit per character, as before.
        let text = "你好".repeat(50);
        assert_eq!(split_message_utf16(&text, 100), vec![text.clone()]);
        // A limit below one emoji still makes progress, one emoji per part.
        assert_eq!(split_message_utf16("😀😀", 1), vec!["😀", "😀"]);
    }

    #[test]
    fn nothing_is_lost_on_word_splits() {
        let text: String = (0..500).map(|i| format!("w{i} ")).collect();
        let parts = split_message(&text, 100);
        assert!(lens_ok(&parts, 100));
        assert_eq!(parts.join(" "), text.trim_end());
    }
}
