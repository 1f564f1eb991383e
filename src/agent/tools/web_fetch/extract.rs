//! From body bytes to the text the model reads: which content types are
//! read at all, the charset, and HTML made readable by `html2text`
//! (headings, paragraphs, lists, links as `[text](url)`; scripts, styles
//! and the head dropped).

use html2text::render::TextDecorator;
use html5ever::tendril::StrTendril;
use html5ever::tokenizer::states::RawKind;
use html5ever::tokenizer::{
    BufferQueue, CharacterTokens, StartTag, TagToken, Token, TokenSink, TokenSinkResult, Tokenizer,
    TokenizerOpts,
};
use std::cell::{Cell, RefCell};

/// Line width of the rendered text; wide, so sentences stay on one line.
const WIDTH: usize = 160;

/// What the body is, judged from `Content-Type` before it is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Html,
    /// JSON, plain text, XML feeds, CSV, Markdown: passed through.
    Text,
}

/// The type and charset of a `Content-Type` value, or why it is refused.
pub fn classify(content_type: Option<&str>) -> Result<(Kind, Option<String>), String> {
    let Some(value) = content_type else {
        // No type: read it, [`decode`] refuses it if it turns out binary.
        return Ok((Kind::Text, None));
    };
    let mut parts = value.split(';');
    let essence = parts.next().unwrap_or("").trim().to_ascii_lowercase();
    let charset = parts.find_map(|p| {
        let (k, v) = p.split_once('=')?;
        k.trim()
            .eq_ignore_ascii_case("charset")
            .then(|| v.trim().trim_matches('"').to_string())
    });
    let kind = match essence.as_str() {
        "text/html" | "application/xhtml+xml" => Kind::Html,
        "application/json" | "application/xml" | "application/javascript" => Kind::Text,
        e if e.starts_with("text/") || e.ends_with("+json") || e.ends_with("+xml") => Kind::Text,
        "" => Kind::Text,
        other => {
            return Err(format!(
                "the page is `{other}`, which web_fetch does not read; it reads HTML, \
                 JSON, XML and plain text"
            ));
        }
    };
    Ok((kind, charset))
}

/// A `<meta charset>` in the first bytes of an HTML page; a scan for the
/// attribute only, the HTML itself is parsed by html5ever later.
fn meta_charset(head: &[u8]) -> Option<String> {
    let head = &head[..head.len().min(1024)];
    let text = String::from_utf8_lossy(head).to_ascii_lowercase();
    let at = text.find("charset=")? + "charset=".len();
    let rest = text[at..].trim_start_matches(['"', '\'']);
    let end = rest
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_'))
        .unwrap_or(rest.len());
    Some(rest[..end].to_string()).filter(|s| !s.is_empty())
}

/// Bytes to text in the page's charset (byte-order mark, then the header's
/// charset, then `<meta charset>` for HTML, then UTF-8); invalid sequences
/// become U+FFFD. Binary data (NUL bytes) is refused.
pub fn decode(bytes: Vec<u8>, kind: Kind, charset: Option<&str>) -> Result<String, String> {
    let sample = &bytes[..bytes.len().min(4096)];
    let utf16_bom = sample.starts_with(&[0xff, 0xfe]) || sample.starts_with(&[0xfe, 0xff]);
    if !utf16_bom && sample.contains(&0) {
        return Err(
            "the page is binary data, not text; web_fetch reads HTML, JSON, XML and plain text"
                .to_string(),
        );
    }
    let label = charset
        .map(str::to_string)
        .or_else(|| (kind == Kind::Html).then(|| meta_charset(&bytes)).flatten());
    let encoding = label
        .and_then(|l| encoding_rs::Encoding::for_label(l.as_bytes()))
        .unwrap_or(encoding_rs::UTF_8);
    let bom = encoding_rs::Encoding::for_bom(&bytes).map(|(e, _)| e);
    if encoding == encoding_rs::UTF_8 && bom.is_none_or(|e| e == encoding_rs::UTF_8) {
        // The common case keeps the buffer: no second copy of the page.
        return Ok(match String::from_utf8(bytes) {
            Ok(text) => text,
            Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
        });
    }
    let (text, _, _) = encoding.decode(&bytes);
    Ok(text.into_owned())
}

/// Renders links inline as `[text](url)` and images as their alt text; no
/// other decoration, the model needs none.
#[derive(Debug, Clone, Default)]
struct Markdownish {
    links: Vec<String>,
}

impl TextDecorator for Markdownish {
    type Annotation = ();

    fn decorate_link_start(&mut self, url: &str) -> (String, ()) {
        self.links.push(url.to_string());
        ("[".to_string(), ())
    }
    fn decorate_link_end(&mut self) -> String {
        format!("]({})", self.links.pop().unwrap_or_default())
    }
    fn decorate_em_start(&self) -> (String, ()) {
        (String::new(), ())
    }
    fn decorate_em_end(&self) -> String {
        String::new()
    }
    fn decorate_strong_start(&self) -> (String, ()) {
        (String::new(), ())
    }
    fn decorate_strong_end(&self) -> String {
        String::new()
    }
    fn decorate_strikeout_start(&self) -> (String, ()) {
        (String::new(), ())
    }
    fn decorate_strikeout_end(&self) -> String {
        String::new()
    }
    fn decorate_code_start(&self) -> (String, ()) {
        ("`".to_string(), ())
    }
    fn decorate_code_end(&self) -> String {
        "`".to_string()
    }
    fn decorate_preformat_first(&self) {}
    fn decorate_preformat_cont(&self) {}
    fn decorate_image(&mut self, _src: &str, title: &str) -> (String, ()) {
        let alt = title.trim();
        let text = if alt.is_empty() {
            String::new()
        } else {
            format!("[image: {alt}]")
        };
        (text, ())
    }
    fn header_prefix(&self, level: usize) -> String {
        "#".repeat(level) + " "
    }
    fn quote_prefix(&self) -> String {
        "> ".to_string()
    }
    fn unordered_item_prefix(&self) -> String {
        "* ".to_string()
    }
    fn ordered_item_prefix(&self, i: i64) -> String {
        format!("{i}. ")
    }
    fn make_subblock_decorator(&self) -> Self {
        Self::default()
    }
}

/// Elements open at once beyond which html2text is not used: its layout
/// slows down sharply with depth, and a page nested 100 000 deep would pin a
/// thread for minutes. Such a page gets the plain-text reading instead.
const MAX_DEPTH: usize = 512;

/// HTML larger than this is read by the plain-text reading too: html2text
/// takes on the order of a hundred times its input in memory, and twenty
/// sessions fetching 2 MiB pages at once must not cost gigabytes
/// (benches/web_fetch.rs).
const MAX_LAYOUT_BYTES: usize = 256 * 1024;

/// Elements that never hold others, or that pages leave unclosed routinely.
const NOT_NESTING: &[&str] = &[
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track",
    "wbr", "p", "li", "dt", "dd", "tr", "td", "th", "option",
];
/// Elements whose text is not shown.
const HIDDEN: &[&str] = &["script", "style", "noscript", "template", "head"];

/// One pass of html5ever's tokenizer over the page: its title (html2text
/// drops the head), how deep it nests, and its visible text as a fallback.
#[derive(Default)]
struct Scan {
    in_title: Cell<bool>,
    title_text: RefCell<String>,
    title: RefCell<Option<String>>,
    hidden: Cell<usize>,
    /// `href`s of the links open now, to close them as `](url)`.
    links: RefCell<Vec<String>>,
    depth: Cell<usize>,
    max_depth: Cell<usize>,
    text: RefCell<String>,
    /// Bytes of text kept; past it only characters are counted.
    keep: usize,
    dropped_chars: Cell<usize>,
}

impl TokenSink for Scan {
    type Handle = ();

    fn process_token(&self, token: Token, _line: u64) -> TokenSinkResult<()> {
        match token {
            TagToken(tag) => {
                let name = &*tag.name;
                let start = tag.kind == StartTag;
                if name == "title" && self.title.borrow().is_none() {
                    self.in_title.set(start);
                    if start {
                        return TokenSinkResult::RawData(RawKind::Rcdata);
                    }
                    let text = self.title_text.borrow();
                    let title = text.split_whitespace().collect::<Vec<_>>().join(" ");
                    *self.title.borrow_mut() = Some(title);
                } else if HIDDEN.contains(&name) && !tag.self_closing {
                    let h = self.hidden.get();
                    self.hidden
                        .set(if start { h + 1 } else { h.saturating_sub(1) });
                    if start && name == "script" {
                        return TokenSinkResult::RawData(RawKind::ScriptData);
                    }
                    if start && name == "style" {
                        return TokenSinkResult::RawData(RawKind::Rawtext);
                    }
                } else if !NOT_NESTING.contains(&name) && !tag.self_closing {
                    let d = self.depth.get();
                    let d = if start { d + 1 } else { d.saturating_sub(1) };
                    self.depth.set(d);
                    self.max_depth.set(self.max_depth.get().max(d));
                }
                if self.hidden.get() == 0 {
                    self.mark(&tag);
                }
            }
            CharacterTokens(text) if self.in_title.get() => {
                self.title_text.borrow_mut().push_str(&text);
            }
            CharacterTokens(text) if self.hidden.get() == 0 => {
                let mut out = self.text.borrow_mut();
                if out.len() >= self.keep {
                    let n = text.chars().filter(|c| !c.is_whitespace()).count();
                    self.dropped_chars.set(self.dropped_chars.get() + n);
                    return TokenSinkResult::Continue;
                }
                // Source line breaks and indentation are not the page's layout.
                let mut space = false;
                for c in text.chars() {
                    if c.is_whitespace() {
                        space = true;
                    } else {
                        if space && !out.ends_with([' ', '\n', '[']) {
                            out.push(' ');
                        }
                        space = false;
                        out.push(c);
                    }
                }
                if space && !out.ends_with([' ', '\n']) {
                    out.push(' ');
                }
            }
            _ => {}
        }
        TokenSinkResult::Continue
    }
}

impl Scan {
    /// The plain-text reading's structure: line breaks at blocks, `#` for
    /// headings, `* ` for list items and links as `[text](url)`.
    fn mark(&self, tag: &html5ever::tokenizer::Tag) {
        let name = &*tag.name;
        let start = tag.kind == StartTag;
        let mut text = self.text.borrow_mut();
        if text.len() >= self.keep {
            return;
        }
        match name {
            "h1" | "h2" | "h3" | "h4" | "h5" | "h6" if start => {
                let level = usize::from(name.as_bytes()[1] - b'0');
                while !text.is_empty() && !text.ends_with("\n\n") {
                    text.push('\n');
                }
                text.push_str(&"#".repeat(level));
                text.push(' ');
            }
            "li" if start => text.push_str("\n* "),
            "p" | "div" | "br" | "tr" | "h1" | "h2" | "h3" | "h4" | "h5" | "h6" | "ul" | "ol"
            | "table" | "article" | "section" | "header" | "footer" | "nav" => {
                // One blank line however many blocks open or close here.
                while !text.is_empty() && !text.ends_with("\n\n") {
                    text.push('\n');
                }
            }
            "a" if start => {
                let href = tag
                    .attrs
                    .iter()
                    .find(|a| &*a.name.local == "href")
                    .map(|a| a.value.to_string());
                if let Some(href) = href {
                    text.push('[');
                    self.links.borrow_mut().push(href);
                }
            }
            "a" => {
                if let Some(href) = self.links.borrow_mut().pop() {
                    text.push_str(&format!("]({href})"));
                }
            }
            _ => {}
        }
    }
}

/// Fed in pieces so the tokenizer never holds a copy of the whole page.
const SCAN_PIECE: usize = 64 * 1024;

fn scan(html: &str, keep: usize) -> Scan {
    let sink = Scan {
        keep,
        ..Scan::default()
    };
    let tokenizer = Tokenizer::new(sink, TokenizerOpts::default());
    let input = BufferQueue::default();
    let mut rest = html;
    while !rest.is_empty() {
        let mut end = rest.len().min(SCAN_PIECE);
        while !rest.is_char_boundary(end) {
            end += 1;
        }
        let (piece, tail) = rest.split_at(end);
        input.push_back(StrTendril::from_slice(piece));
        let _ = tokenizer.feed(&input);
        rest = tail;
    }
    tokenizer.end();
    tokenizer.sink
}

/// The page's title and its body as readable text, and how many characters
/// of it were left out: of a large page only about `keep` bytes of text are
/// kept (the model is shown fewer anyway).
pub fn html_to_text(html: &str, keep: usize) -> Result<(Option<String>, String, usize), String> {
    let scanned = scan(html, keep);
    let title = scanned.title.take().filter(|t| !t.is_empty());
    if scanned.max_depth.get() > MAX_DEPTH || html.len() > MAX_LAYOUT_BYTES {
        let text = scanned.text.take();
        let lines: Vec<&str> = text.lines().map(str::trim).collect();
        return Ok((title, tidy(&lines.join("\n")), scanned.dropped_chars.get()));
    }
    drop(scanned);
    let config = html2text::config::with_decorator(Markdownish::default())
        .no_table_borders()
        .no_link_wrapping();
    let text = config
        .string_from_read(html.as_bytes(), WIDTH)
        .map_err(|e| format!("cannot read the HTML: {e}"))?;
    Ok((title, tidy(&text), 0))
}

/// Trailing spaces off every line and runs of blank lines down to one.
fn tidy(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut blank = 0;
    for line in text.lines() {
        let line = line.trim_end();
        if line.is_empty() {
            blank += 1;
            if blank > 1 {
                continue;
            }
        } else {
            blank = 0;
        }
        out.push_str(line);
        out.push('\n');
    }
    out.trim().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_becomes_readable_text() {
        let html = r#"<!doctype html><html><head><title> Today in
            Tech </title><style>body { color: red }</style>
            <script>alert("x")</script></head><body>
            <h1>Rust 2.0 released</h1><p>The <b>team</b> announced it
            <a href="https://example.com/rust">today</a>.</p>
            <ul><li>one</li><li>two</li></ul><script>var hidden = 1;</script></body></html>"#;
        let (title, text, _) = html_to_text(html, usize::MAX).unwrap();
        assert_eq!(title.as_deref(), Some("Today in Tech"));
        assert!(text.contains("# Rust 2.0 released"), "{text}");
        assert!(
            text.contains("The team announced it [today](https://example.com/rust)."),
            "{text}"
        );
        assert!(text.contains("* one"), "{text}");
        assert!(
            !text.contains("alert") && !text.contains("hidden"),
            "{text}"
        );
        assert!(!text.contains("color"), "{text}");
    }

    #[test]
    fn deeply_nested_html_does_not_overflow_the_stack() {
        let html = "<div>".repeat(100_000) + "deep" + &"</div>".repeat(100_000);
        let handle = std::thread::Builder::new()
            .stack_size(2 * 1024 * 1024)
            .spawn(move || html_to_text(&html, usize::MAX).map(|(_, t, _)| t.contains("deep")))
            .unwrap();
        // Read as plain text, quickly, on a small stack.
        assert_eq!(handle.join().unwrap(), Ok(true));
    }

    #[test]
    fn large_pages_get_the_plain_text_reading() {
        let mut html =
            String::from("<html><head><title>Big</title><script>var x;</script></head><body>");
        html.push_str(
            "<h2>Section</h2><ul><li>item</li></ul><p>Read <a href=\"/more\">more</a>.</p>",
        );
        while html.len() <= MAX_LAYOUT_BYTES {
            html.push_str("<p>filler paragraph</p>");
        }
        let (title, text, _) = html_to_text(&html, usize::MAX).unwrap();
        assert_eq!(title.as_deref(), Some("Big"));
        assert!(
            text.starts_with("## Section\n\n* item\n\nRead [more](/more)."),
            "{}",
            &text[..200]
        );
        assert!(!text.contains("var x"));
    }

    #[test]
    fn content_types() {
        assert_eq!(
            classify(Some("text/html; charset=ISO-8859-1")).unwrap(),
            (Kind::Html, Some("ISO-8859-1".into()))
        );
        assert_eq!(classify(Some("application/json")).unwrap().0, Kind::Text);
        assert_eq!(classify(Some("application/rss+xml")).unwrap().0, Kind::Text);
        assert_eq!(classify(Some("text/plain")).unwrap().0, Kind::Text);
        assert!(
            classify(Some("image/png"))
                .unwrap_err()
                .contains("image/png")
        );
        assert!(classify(Some("application/octet-stream")).is_err());
        assert!(classify(Some("application/pdf")).is_err());
    }

    #[test]
    fn charsets_and_binary() {
        let latin1 = b"caf\xe9";
        assert_eq!(
            decode(latin1.to_vec(), Kind::Text, Some("iso-8859-1")).unwrap(),
            "café"
        );
        let gbk = b"<meta charset=\"gbk\"><p>\xc4\xe3\xba\xc3</p>";
        assert!(
            decode(gbk.to_vec(), Kind::Html, None)
                .unwrap()
                .contains("你好")
        );
        let broken = b"ok \xff\xfe bad";
        assert_eq!(
            decode(broken.to_vec(), Kind::Text, None).unwrap(),
            "ok \u{fffd}\u{fffd} bad"
        );
        assert!(
            decode(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec(), Kind::Text, None)
                .unwrap_err()
                .contains("binary")
        );
    }
}
