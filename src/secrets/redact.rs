//! Replacing known secret values in text with `***`.
//!
//! A secret can reach text in more spellings than the one in the config: a
//! token in a URL is percent-encoded, one inside a JSON or `Debug` string is
//! escaped, a websocket frame dump prints its payload in hex. Each secret is
//! therefore searched in all of these forms at once (one Aho-Corasick pass,
//! ASCII case ignored so `%3a` and `%3A`, `AB` and `ab` hex both match).

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, AhoCorasickKind, MatchKind};
use percent_encoding::{AsciiSet, CONTROLS, NON_ALPHANUMERIC, utf8_percent_encode};
use std::borrow::Cow;

/// Values shorter than this are not searched for: they would blank ordinary
/// words in every line, and a credential that short protects nothing anyway.
pub const MIN_SECRET_LEN: usize = 8;

/// What a secret is replaced with (the same mark `config show` prints).
pub const MASK: &str = "***";

/// The characters a URL path percent-encodes (as the `url` crate does).
const PATH: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'`')
    .add(b'{')
    .add(b'}');

/// A set of secrets and the matcher for all their spellings.
#[derive(Debug, Default, Clone)]
pub struct Redactor {
    /// The values, trimmed, in the order learned, without duplicates.
    secrets: Vec<String>,
    matcher: Option<AhoCorasick>,
}

impl Redactor {
    pub fn new<I, S>(secrets: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        Self::default().with(secrets).unwrap_or_default()
    }

    /// This set plus `more`, or `None` when `more` adds nothing (so callers
    /// can skip rebuilding).
    pub fn with<I, S>(&self, more: I) -> Option<Self>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut secrets = self.secrets.clone();
        for s in more {
            let s = s.as_ref().trim();
            if s.len() >= MIN_SECRET_LEN && !secrets.iter().any(|k| k == s) {
                secrets.push(s.to_string());
            }
        }
        if secrets.len() == self.secrets.len() {
            return None;
        }
        let mut patterns: Vec<String> = secrets.iter().flat_map(|s| spellings(s)).collect();
        patterns.sort();
        patterns.dedup();
        // Leftmost-longest: where one secret contains another, the whole
        // longer one is masked, not a piece of it. A contiguous NFA, not
        // the DFA the builder would pick for few patterns: it is built in a
        // fraction of the time at start and holds a fraction of the memory,
        // for a scan of log lines that stays linear (docs/performance.md).
        let matcher = AhoCorasickBuilder::new()
            .kind(Some(AhoCorasickKind::ContiguousNFA))
            .match_kind(MatchKind::LeftmostLongest)
            .ascii_case_insensitive(true)
            .build(&patterns)
            .ok();
        Some(Self { secrets, matcher })
    }

    pub fn contains(&self, secret: &str) -> bool {
        let s = secret.trim();
        self.secrets.iter().any(|k| k == s)
    }

    pub fn is_empty(&self) -> bool {
        self.secrets.is_empty()
    }

    /// `text` with every known secret masked; borrowed when there is none.
    pub fn redact<'a>(&self, text: &'a str) -> Cow<'a, str> {
        let Some(m) = self.matcher.as_ref().filter(|m| m.is_match(text)) else {
            return Cow::Borrowed(text);
        };
        let mut out = String::with_capacity(text.len());
        m.replace_all_with(text, &mut out, |_, _, dst| {
            dst.push_str(MASK);
            true
        });
        Cow::Owned(out)
    }

    /// The same for bytes (log lines), reusing the buffer when clean.
    pub fn redact_bytes(&self, bytes: Vec<u8>) -> Vec<u8> {
        let Some(m) = self.matcher.as_ref().filter(|m| m.is_match(&bytes)) else {
            return bytes;
        };
        let mut out = Vec::with_capacity(bytes.len());
        m.replace_all_with_bytes(&bytes, &mut out, |_, _, dst| {
            dst.extend_from_slice(MASK.as_bytes());
            true
        });
        out
    }
}

/// Every form in which `secret` may appear in text.
fn spellings(secret: &str) -> Vec<String> {
    let quoted = |s: String| {
        s.strip_prefix('"')
            .and_then(|s| s.strip_suffix('"'))
            .map(str::to_string)
    };
    let mut forms = vec![
        secret.to_string(),
        utf8_percent_encode(secret, NON_ALPHANUMERIC).to_string(),
        utf8_percent_encode(secret, PATH).to_string(),
        secret.bytes().map(|b| format!("{b:02x}")).collect(),
    ];
    forms.extend(quoted(format!("{secret:?}")));
    forms.extend(serde_json::to_string(secret).ok().and_then(quoted));
    forms
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_every_occurrence_and_keeps_the_rest() {
        let r = Redactor::new(["111111:tg-SECRET"]);
        assert_eq!(
            r.redact("GET /bot111111:tg-SECRET/getMe and again 111111:tg-SECRET."),
            "GET /bot***/getMe and again ***."
        );
        assert!(matches!(r.redact("nothing here"), Cow::Borrowed(_)));
    }

    #[test]
    fn masks_encoded_spellings() {
        let secret = "ab:cd\"ef gh";
        let r = Redactor::new([secret]);
        for text in [
            "ab%3Acd%22ef%20gh",       // query / form encoding
            "ab%3acd%22ef%20gh",       // lowercase hex digits
            "ab:cd%22ef%20gh",         // URL path encoding
            r#"{"t":"ab:cd\"ef gh"}"#, // JSON and Debug escaping
            "61623a6364226566206768",  // a frame payload in hex
            "61623A6364226566206768",
        ] {
            let out = r.redact(text);
            assert!(!out.contains("ab"), "{text} -> {out}");
            assert!(out.contains(MASK), "{text} -> {out}");
        }
    }

    #[test]
    fn the_longer_of_two_overlapping_secrets_is_masked_whole() {
        let r = Redactor::new(["token-1234", "token-1234-extended"]);
        assert_eq!(r.redact("x token-1234-extended y"), "x *** y");
        assert_eq!(r.redact("x token-1234 y"), "x *** y");
    }

    #[test]
    fn short_and_blank_values_are_ignored_and_values_are_trimmed() {
        let r = Redactor::new(["short", "   ", "  padded-secret\n"]);
        assert!(!r.contains("short"));
        assert!(r.contains("padded-secret"));
        assert_eq!(r.redact("short padded-secret"), "short ***");
    }

    #[test]
    fn with_reports_when_nothing_is_new() {
        let r = Redactor::new(["first-secret"]);
        assert!(r.with(["first-secret", "tiny"]).is_none());
        let r2 = r.with(["second-secret"]).unwrap_or_default();
        assert_eq!(r2.redact("first-secret second-secret"), "*** ***");
    }

    #[test]
    fn bytes_are_masked_too() {
        let r = Redactor::new(["dc-SECRET-333"]);
        let line = br#"{"token":"dc-SECRET-333"}"#.to_vec();
        assert_eq!(r.redact_bytes(line), br#"{"token":"***"}"#.to_vec());
        let clean = b"no secret".to_vec();
        assert_eq!(r.redact_bytes(clean.clone()), clean);
    }

    #[test]
    fn an_empty_redactor_changes_nothing() {
        let r = Redactor::default();
        assert!(r.is_empty());
        assert_eq!(r.redact("anything at all"), "anything at all");
    }
}
