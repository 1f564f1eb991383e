//! Cutting a long reply into messages the service accepts.

/// Split `text` into parts of at most `max` characters, cutting at the last
/// paragraph break, else line break, else space inside each window, and only
/// mid-word when a single word is longer than `max`. Whitespace at the cut is
/// dropped so no part starts or ends with the separator. `max == 0` is treated as 1.
pub fn split_message(text: &str, max: usize) -> Vec<String> {
    let max = max.max(1);
    let mut parts = Vec::new();
    let mut rest = text.trim_end();
    while rest.chars().count() > max {
        // Byte index just past the first `max` chars.
        let window_end = rest
            .char_indices()
            .nth(max)
            .map(|(i, _)| i)
            .unwrap_or(rest.len());
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

#[cfg(test)]
mod tests {
    use super::split_message;

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
    fn nothing_is_lost_on_word_splits() {
        let text: String = (0..500).map(|i| format!("w{i} ")).collect();
        let parts = split_message(&text, 100);
        assert!(lens_ok(&parts, 100));
        assert_eq!(parts.join(" "), text.trim_end());
    }
}
