//! From body bytes to the text the model reads: which content types are
//! read at all, the charset, and HTML made readable by `html2text`
//! (headings, paragraphs, lists, links as `[text](url)`; scripts, styles
//! and the head dropped).

use html2text::render::TextDecorator;
use html5ever::tendril::StrTendril;
use html5ever::tokenizer::{
    BufferQueue, CharacterTokens, EndTag, StartTag, TagToken, Token, TokenSink, TokenSinkResult,
    Tokenizer, TokenizerOpts,
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
pub fn decode(bytes: &[u8], kind: Kind, charset: Option<&str>) -> Result<String, String> {
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
        .or_else(|| (kind == Kind::Html).then(|| meta_charset(bytes)).flatten());
    let encoding = label
        .and_then(|l| encoding_rs::Encoding::for_label(l.as_bytes()))
        .unwrap_or(encoding_rs::UTF_8);
    let (text, _, _) = encoding.decode(bytes);
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

/// Bytes of the page searched for its `<title>`: it belongs in the head.
const TITLE_WINDOW: usize = 64 * 1024;

/// Collects the characters of the first `<title>` element.
#[derive(Default)]
struct TitleSink {
    inside: Cell<bool>,
    done: Cell<bool>,
    text: RefCell<String>,
}

impl TokenSink for TitleSink {
    type Handle = ();

    fn process_token(&self, token: Token, _line: u64) -> TokenSinkResult<()> {
        if self.done.get() {
            return TokenSinkResult::Continue;
        }
        match token {
            TagToken(tag) if &*tag.name == "title" => match tag.kind {
                StartTag => self.inside.set(true),
                EndTag => self.done.set(true),
            },
            TagToken(tag) if tag.kind == StartTag && &*tag.name == "body" => self.done.set(true),
            CharacterTokens(text) if self.inside.get() => self.text.borrow_mut().push_str(&text),
            _ => {}
        }
        TokenSinkResult::Continue
    }
}

/// The page's `<title>`, whitespace collapsed; found by html5ever's tokenizer
/// because html2text drops the head.
fn find_title(html: &str) -> Option<String> {
    let mut end = html.len().min(TITLE_WINDOW);
    while !html.is_char_boundary(end) {
        end -= 1;
    }
    let input = BufferQueue::default();
    input.push_back(StrTendril::from_slice(&html[..end]));
    let tokenizer = Tokenizer::new(TitleSink::default(), TokenizerOpts::default());
    let _ = tokenizer.feed(&input);
    tokenizer.end();
    let text = tokenizer.sink.text.borrow();
    let title = text.split_whitespace().collect::<Vec<_>>().join(" ");
    Some(title).filter(|t| !t.is_empty())
}

/// The page's title and its body as readable text.
pub fn html_to_text(html: &str) -> Result<(Option<String>, String), String> {
    let config = html2text::config::with_decorator(Markdownish::default())
        .no_table_borders()
        .no_link_wrapping();
    let dom = config
        .parse_html(html.as_bytes())
        .map_err(|e| format!("cannot parse the HTML: {e}"))?;
    let title = find_title(html);
    let tree = config
        .dom_to_render_tree(&dom)
        .map_err(|e| format!("cannot read the HTML: {e}"))?;
    let text = config
        .render_to_string(tree, WIDTH)
        .map_err(|e| format!("cannot render the HTML: {e}"))?;
    Ok((title, tidy(&text)))
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
        let (title, text) = html_to_text(html).unwrap();
        assert_eq!(title.as_deref(), Some("Today in Tech"));
        assert!(text.contains("# Rust 2.0 released"), "{text}");
        assert!(
            text.contains("The team announced it [today](https://example.com/rust)."),
            "{text}"
        );
        assert!(text.contains("* one"), "{text}");
        assert!(!text.contains("alert") && !text.contains("hidden"), "{text}");
        assert!(!text.contains("color"), "{text}");
    }

    #[test]
    fn deeply_nested_html_does_not_overflow_the_stack() {
        let html = "<div>".repeat(100_000) + "deep" + &"</div>".repeat(100_000);
        let handle = std::thread::Builder::new()
            .stack_size(2 * 1024 * 1024)
            .spawn(move || html_to_text(&html).map(|(_, t)| t.contains("deep")))
            .unwrap();
        // An error is fine; an overflow would abort the test process.
        let _ = handle.join().unwrap();
    }

    #[test]
    fn content_types() {
        assert_eq!(classify(Some("text/html; charset=ISO-8859-1")).unwrap(), (Kind::Html, Some("ISO-8859-1".into())));
        assert_eq!(classify(Some("application/json")).unwrap().0, Kind::Text);
        assert_eq!(classify(Some("application/rss+xml")).unwrap().0, Kind::Text);
        assert_eq!(classify(Some("text/plain")).unwrap().0, Kind::Text);
        assert!(classify(Some("image/png")).unwrap_err().contains("image/png"));
        assert!(classify(Some("application/octet-stream")).is_err());
        assert!(classify(Some("application/pdf")).is_err());
    }

    #[test]
    fn charsets_and_binary() {
        let latin1 = b"caf\xe9";
        assert_eq!(decode(latin1, Kind::Text, Some("iso-8859-1")).unwrap(), "café");
        let gbk = b"<meta charset=\"gbk\"><p>\xc4\xe3\xba\xc3</p>";
        assert!(decode(gbk, Kind::Html, None).unwrap().contains("你好"));
        let broken = b"ok \xff\xfe bad";
        assert_eq!(decode(broken, Kind::Text, None).unwrap(), "ok \u{fffd}\u{fffd} bad");
        assert!(decode(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR", Kind::Text, None).unwrap_err().contains("binary"));
    }
}
