//! Small value types of the config: secrets, "seconds or humantime" durations,
//! ids written as strings or numbers, and sizes that print back exactly.

use bytesize::ByteSize;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::cell::RefCell;
use std::collections::HashMap;
use std::fmt;
use std::time::Duration;

/// A credential. `Debug` and `Serialize` print `***`, so neither logs nor
/// `config show` leak it; [`Secret::expose`] is the one way to read it.
///
/// While a config file is being loaded (see [`EnvScope`]), a value written
/// exactly as `"${NAME}"` is replaced by the environment variable `NAME`; a
/// missing or empty variable is a deserialization error, which the loader
/// reports with the key and line like any other. Outside a load the text is
/// kept as written, so deserializing a `Secret` elsewhere never reads the
/// environment behind the caller's back.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    /// `${VAR}` written in the file, before expansion.
    pub fn env_reference(&self) -> Option<&str> {
        env_reference(&self.0)
    }

    /// True when the value is empty or only whitespace; such a secret counts
    /// as unset for validation (an empty token can never authenticate).
    pub fn is_blank(&self) -> bool {
        self.trimmed().is_none()
    }

    /// The value without surrounding whitespace (a pasted token often carries
    /// a newline), or `None` when blank: the one form every user of a token
    /// wants.
    pub fn trimmed(&self) -> Option<&str> {
        Some(self.0.trim()).filter(|v| !v.is_empty())
    }
}

/// `NAME` when `text` is exactly `${NAME}` with a shell-style variable name.
fn env_reference(text: &str) -> Option<&str> {
    let name = text.strip_prefix("${")?.strip_suffix('}')?;
    let mut chars = name.chars();
    let first = chars.next()?;
    let valid = (first.is_ascii_alphabetic() || first == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
    valid.then_some(name)
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("\"***\"")
    }
}

impl Serialize for Secret {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str("***")
    }
}

impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let secret = Self::expand(String::deserialize(d)?)?;
        EnvScope::note(&secret.0);
        Ok(secret)
    }
}

impl Secret {
    fn expand<E: serde::de::Error>(text: String) -> Result<Self, E> {
        let Some(name) = env_reference(&text) else {
            return Ok(Self(text));
        };
        match EnvScope::lookup(name) {
            None => Ok(Self(text)),
            Some(Some(value)) if !value.trim().is_empty() => Ok(Self(value)),
            Some(Some(_)) => Err(E::custom(format!(
                "environment variable `{name}` is set but empty; give it the secret's value"
            ))),
            Some(None) => Err(E::custom(format!(
                "environment variable `{name}` is not set; export it before starting zeroclaw \
                 (systemd: `Environment=` or `EnvironmentFile=`), or write the value directly"
            ))),
        }
    }
}

thread_local! {
    static ENV: RefCell<Option<HashMap<String, String>>> = const { RefCell::new(None) };
    /// Every secret value deserialized inside the current scope.
    static SEEN: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
}

/// While alive, `Secret` deserialization on this thread expands `${NAME}`
/// from `vars`. A thread-local scope (rather than a parameter) because serde
/// gives `Deserialize` impls no context; the guard restores the previous
/// scope on drop, so nested or panicking loads leave nothing behind.
///
/// The scope also records every secret value deserialized inside it, so the
/// loader can hand them to the redactor ([`EnvScope::take_seen`]).
pub struct EnvScope {
    previous: Option<HashMap<String, String>>,
    previous_seen: Vec<String>,
}

impl EnvScope {
    /// Expand from the given variables (tests use this instead of mutating
    /// the process environment, which is unsound with threads).
    pub fn with_vars(vars: HashMap<String, String>) -> Self {
        let previous = ENV.with(|e| e.replace(Some(vars)));
        let previous_seen = SEEN.with(RefCell::take);
        Self {
            previous,
            previous_seen,
        }
    }

    /// The secret values deserialized in this scope so far (expanded).
    pub fn take_seen(&self) -> Vec<String> {
        SEEN.with(RefCell::take)
    }

    fn note(value: &str) {
        if ENV.with(|e| e.borrow().is_some()) {
            SEEN.with(|s| s.borrow_mut().push(value.to_string()));
        }
    }

    /// Expand from the process environment (variables that are not UTF-8 are
    /// treated as unset rather than panicking).
    pub fn from_process() -> Self {
        let vars = std::env::vars_os()
            .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
            .collect();
        Self::with_vars(vars)
    }

    /// `None` outside a scope; `Some(None)` when the variable is unset.
    fn lookup(name: &str) -> Option<Option<String>> {
        ENV.with(|e| e.borrow().as_ref().map(|vars| vars.get(name).cloned()))
    }
}

impl Drop for EnvScope {
    fn drop(&mut self) {
        let previous = self.previous.take();
        ENV.with(|e| *e.borrow_mut() = previous);
        let seen = std::mem::take(&mut self.previous_seen);
        SEEN.with(|s| *s.borrow_mut() = seen);
    }
}

/// A duration written either as bare seconds (`30`, as the seed writes gateway
/// timeouts) or as humantime (`"30s"`, `"1m"`).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Seconds(pub Duration);

impl Seconds {
    pub const fn from_secs(s: u64) -> Self {
        Self(Duration::from_secs(s))
    }
}

impl Serialize for Seconds {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&humantime::format_duration(self.0).to_string())
    }
}

impl<'de> Deserialize<'de> for Seconds {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Int(u64),
            Str(String),
        }
        let raw = Raw::deserialize(d).map_err(|_| {
            serde::de::Error::custom(
                "expected a duration: seconds as a number (`30`) or a string such as \"30s\", \"2m\"",
            )
        })?;
        match raw {
            Raw::Int(n) => Ok(Self(Duration::from_secs(n))),
            Raw::Str(s) => humantime::parse_duration(&s).map(Self).map_err(|e| {
                serde::de::Error::custom(format!(
                    "invalid duration `{s}`: {e} (write seconds as a number, or e.g. \"30s\", \"2m\")"
                ))
            }),
        }
    }
}

/// `deserialize_with` for id lists (`allowed_users`, `allowed_channels`, ...):
/// Telegram and Discord ids are numbers, and operators write them both as
/// `"123"` and `123`; both become the same string.
pub fn ids<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Id {
        Int(i64),
        Str(String),
    }
    let raw = Vec::<Id>::deserialize(d).map_err(|_| {
        serde::de::Error::custom("expected a list of ids, e.g. [\"123456789\"] or [123456789]")
    })?;
    Ok(raw
        .into_iter()
        .map(|id| match id {
            Id::Int(n) => n.to_string(),
            Id::Str(s) => s,
        })
        .collect())
}

/// `serialize_with` for sizes: bytesize prints `100MB` as `95.4 MiB`, which
/// does not read back as the same number, so `config show` writes the exact
/// value: the largest binary or decimal unit that divides it, else bytes.
pub fn exact_size<S: Serializer>(size: &ByteSize, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&format_size(*size))
}

/// See [`exact_size`].
pub fn format_size(size: ByteSize) -> String {
    let bytes = size.as_u64();
    if bytes == 0 {
        return "0B".into();
    }
    const UNITS: [(u64, &str); 8] = [
        (1 << 40, "TiB"),
        (1_000_000_000_000, "TB"),
        (1 << 30, "GiB"),
        (1_000_000_000, "GB"),
        (1 << 20, "MiB"),
        (1_000_000, "MB"),
        (1 << 10, "KiB"),
        (1_000, "KB"),
    ];
    for (unit, name) in UNITS {
        if bytes.is_multiple_of(unit) {
            return format!("{}{name}", bytes / unit);
        }
    }
    format!("{bytes}B")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_reference_needs_the_whole_value() {
        assert_eq!(env_reference("${TOKEN}"), Some("TOKEN"));
        assert_eq!(env_reference("${_A1}"), Some("_A1"));
        assert_eq!(env_reference("x${TOKEN}"), None);
        assert_eq!(env_reference("${1A}"), None);
        assert_eq!(env_reference("${}"), None);
        assert_eq!(env_reference("$TOKEN"), None);
    }

    #[test]
    fn a_scope_records_the_secrets_read_in_it_expanded() -> Result<(), toml::de::Error> {
        #[derive(Deserialize)]
        struct Two {
            a: Secret,
            b: Secret,
        }
        let vars = HashMap::from([("TOKEN".to_string(), "from-the-env".to_string())]);
        let outer = EnvScope::with_vars(vars);
        let two: Two = toml::from_str("a = \"written\"\nb = \"${TOKEN}\"")?;
        assert_eq!(
            (two.a.expose(), two.b.expose()),
            ("written", "from-the-env")
        );
        {
            let inner = EnvScope::with_vars(HashMap::new());
            let _: Secret = toml::from_str::<HashMap<String, Secret>>("c = \"nested\"")?
                .remove("c")
                .unwrap_or_else(|| Secret::new(""));
            assert_eq!(inner.take_seen(), ["nested"]);
        }
        assert_eq!(outer.take_seen(), ["written", "from-the-env"]);
        drop(outer);
        // Outside a scope nothing is recorded.
        let two: Two = toml::from_str("a = \"x\"\nb = \"${TOKEN}\"")?;
        assert_eq!((two.a.expose(), two.b.expose()), ("x", "${TOKEN}"));
        assert!(SEEN.with(|s| s.borrow().is_empty()));
        Ok(())
    }

    #[test]
    fn sizes_print_back_exactly() {
        for text in ["100MB", "10KiB", "1MiB", "16KiB", "1500B", "3GB"] {
            let size: ByteSize = text.parse().unwrap();
            let printed = format_size(size);
            let back: ByteSize = printed.parse().unwrap();
            assert_eq!(back, size, "{text} -> {printed}");
        }
        assert_eq!(format_size(ByteSize::mb(100)), "100MB");
        assert_eq!(format_size(ByteSize::kib(10)), "10KiB");
    }
}
