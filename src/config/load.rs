//! Finding and reading the config file, and checking it completely.
//!
//! How every error of a file is found in one go (serde stops at the first):
//! 1. Parse with toml's spanned tree (`DeTable`), recovering from syntax
//!    errors so all of those are listed; if there are any, stop there.
//! 2. Walk the tree against the key set probed from the schema
//!    ([`super::shape`]): every unknown key is reported, with a suggestion,
//!    and removed from the tree.
//! 3. Deserialize the tree into [`Config`]. On an error, its byte span leads
//!    back to the offending key (or the `[[cron.jobs]]` element missing a
//!    required key); that entry is reported and removed, and the pass repeats,
//!    up to [`MAX_ERRORS`] times. Removing a key from the tree (rather than
//!    blanking text) keeps every other span and line number valid and cannot
//!    create new syntax errors. `${VAR}` secrets are expanded in this pass, so
//!    a missing variable is reported like a type error, with its key and line.
//! 4. Validate the resulting config ([`super::validate`]); each finding's path
//!    is located in the same tree, so line numbers stay right even when an
//!    earlier pass removed a bad job.

use super::diagnostic::{ConfigError, Diagnostic};
use super::document::{Document, Removed, Seg};
use super::schema::Config;
use super::shape::config_shape;
use super::types::EnvScope;
use super::unknown::strip_unknown;
use super::validate::{Severity, validate};
use serde::Deserialize;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// Passes of step 3 before giving up on finding more type errors.
pub const MAX_ERRORS: usize = 100;

/// A config and where it came from.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub config: Config,
    /// `None` when no file exists at the default location and built-in defaults are used.
    pub path: Option<PathBuf>,
    /// Problems that do not stop the daemon (e.g. a Telegram webhook without a
    /// secret); the daemon logs each one at startup.
    pub warnings: Vec<Diagnostic>,
}

impl Loaded {
    /// The file path, or `built-in defaults (no file at ~/.zeroclaw/config.toml)`:
    /// what the daemon's startup log line and `config check` say.
    pub fn source(&self) -> String {
        match &self.path {
            Some(p) => p.display().to_string(),
            None => format!(
                "built-in defaults (no file at {})",
                default_path().display()
            ),
        }
    }

    /// The daemon's startup lines: where the config came from (one line,
    /// also when running on built-in defaults) and each warning.
    pub fn log_summary(&self) {
        match &self.path {
            Some(_) => tracing::info!(source = %self.source(), "config loaded"),
            None => tracing::info!(
                source = %self.source(),
                "no config file; running on built-in defaults (gateway 127.0.0.1:3000, \
                 echo provider, no channels, no jobs)"
            ),
        }
        for w in &self.warnings {
            tracing::warn!(source = %self.source(), "config: {w}");
        }
    }
}

/// The full result of checking one text: the config when there is no error,
/// and every error and warning.
#[derive(Debug, Clone)]
pub struct Report {
    pub config: Option<Config>,
    pub errors: Vec<Diagnostic>,
    pub warnings: Vec<Diagnostic>,
}

/// `~/.zeroclaw/config.toml`.
pub fn default_path() -> PathBuf {
    dirs::home_dir()
        .unwrap_or_else(|| PathBuf::from("."))
        .join(".zeroclaw")
        .join("config.toml")
}

/// Load `explicit` (must exist), or the default path (built-in defaults if absent).
pub fn load(explicit: Option<&Path>) -> Result<Loaded, ConfigError> {
    let path = explicit.map(Path::to_path_buf).unwrap_or_else(default_path);
    let origin = path.display().to_string();
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && explicit.is_none() => {
            return Ok(Loaded {
                config: Config::default(),
                path: None,
                warnings: Vec::new(),
            });
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(ConfigError::whole_file(
                origin,
                "no such file; create one with `zeroclaw config init --config <path>`",
            ));
        }
        Err(e) => {
            return Err(ConfigError::whole_file(
                origin,
                format!("cannot read the file: {e}"),
            ));
        }
    };
    let scope = EnvScope::from_process();
    let report = check(&text);
    // Whatever the outcome, the values read are this process's secrets now.
    crate::secrets::learn(scope.take_seen());
    drop(scope);
    into_result(report, origin).map(|(config, warnings)| Loaded {
        config,
        path: Some(path),
        warnings,
    })
}

/// Parse and validate a whole file; `origin` names it in errors. Warnings
/// are dropped; use [`check_str`] to see them.
pub fn parse_str(text: &str, origin: &str) -> Result<Config, ConfigError> {
    into_result(check_str(text), origin.to_string()).map(|(config, _)| config)
}

fn into_result(report: Report, origin: String) -> Result<(Config, Vec<Diagnostic>), ConfigError> {
    match report.config {
        Some(config) if report.errors.is_empty() => Ok((config, report.warnings)),
        _ => Err(ConfigError {
            origin,
            errors: if report.errors.is_empty() {
                vec![Diagnostic::file("invalid config")]
            } else {
                report.errors
            },
        }),
    }
}

/// Check `text` with `${VAR}` secrets read from the process environment.
pub fn check_str(text: &str) -> Report {
    let _scope = EnvScope::from_process();
    check(text)
}

/// Check `text` with `${VAR}` secrets read from `vars` only.
pub fn check_str_with_env(text: &str, vars: HashMap<String, String>) -> Report {
    let _scope = EnvScope::with_vars(vars);
    check(text)
}

fn sorted(mut list: Vec<Diagnostic>) -> Vec<Diagnostic> {
    list.sort_by_key(|d| (d.line.unwrap_or(0), d.column.unwrap_or(0)));
    list
}

fn check(text: &str) -> Report {
    let shape = config_shape();
    // Step 1: syntax.
    let (root, syntax) = toml::de::DeTable::parse_recoverable(text);
    let mut doc = Document::new(text, root);
    if !syntax.is_empty() {
        let errors = syntax.iter().map(|e| syntax_diagnostic(&doc, e)).collect();
        return Report {
            config: None,
            errors: sorted(errors),
            warnings: Vec::new(),
        };
    }

    // Step 2: unknown keys.
    let mut errors: Vec<Diagnostic> = strip_unknown(shape, doc.root.get_mut())
        .into_iter()
        .map(|u| doc.diagnostic_at(shape, &u.path, u.message, Some(u.span)))
        .collect();

    // Step 3: types, one removal per pass.
    let mut config = None;
    let mut removed_keys: Vec<Vec<Seg>> = Vec::new();
    let mut gave_up = true;
    for _ in 0..MAX_ERRORS {
        let de = toml::de::Deserializer::from(doc.root.clone());
        match Config::deserialize(de) {
            Ok(c) => {
                config = Some(c);
                gave_up = false;
                break;
            }
            Err(e) => {
                let path = e.span().map(|s| doc.path_of_span(&s)).unwrap_or_default();
                errors.push(doc.diagnostic(shape, &path, polish(e.message(), &path)));
                match doc.remove(&path) {
                    Removed::Key(removed) => removed_keys.push(removed),
                    Removed::Element => {}
                    Removed::Nothing => {
                        gave_up = false;
                        break;
                    }
                }
            }
        }
    }

    if gave_up {
        errors.push(Diagnostic::file(format!(
            "stopped after {MAX_ERRORS} errors; fix these and check again"
        )));
    }

    // Step 4: rules.
    let mut warnings = Vec::new();
    if let Some(c) = &config {
        for finding in validate(c) {
            // A rule about a key already reported (and removed) would only
            // repeat that error in other words.
            let related = |removed: &Vec<Seg>| {
                removed.starts_with(&finding.path) || finding.path.starts_with(removed)
            };
            if removed_keys.iter().any(related) {
                continue;
            }
            let d = doc.diagnostic(shape, &finding.path, finding.message);
            match finding.severity {
                Severity::Error => errors.push(d),
                Severity::Warning => warnings.push(d),
            }
        }
    }
    Report {
        config: if errors.is_empty() { config } else { None },
        errors: sorted(errors),
        warnings: sorted(warnings),
    }
}

fn syntax_diagnostic(doc: &Document<'_>, e: &toml::de::Error) -> Diagnostic {
    let mut message = format!("TOML syntax: {}", e.message().trim());
    if message.contains("duplicate") {
        message.push_str(
            " (a table or key may appear only once: merge repeated blocks such as two \
             [gateway] sections into one)",
        );
    }
    if let Some(span) = e.span()
        && message.contains("key with no value")
    {
        // Typically a note or a shell command pasted without `#`.
        let line = doc.line_text(span.start).trim();
        message.push_str(&format!(
            "; the line reads `{line}`: if it is a note, start it with `#`"
        ));
    }
    let mut d = Diagnostic::file(message);
    if let Some(span) = e.span() {
        let (line, column) = doc.line_col(span.start);
        d.line = Some(line);
        d.column = Some(column);
    }
    d
}

/// serde's messages name Rust types (`expected u16`); say it in TOML terms.
fn polish(message: &str, path: &[Seg]) -> String {
    let mut m = message.trim().to_string();
    if let Some((head, expected)) = m.rsplit_once(", expected ") {
        let better = match expected {
            "u16" => Some("an integer from 0 to 65535".to_string()),
            "u8" | "u32" | "u64" | "usize" => Some("a non-negative integer".into()),
            "a boolean" => Some("true or false".into()),
            "a string" => Some("a string (in quotes)".into()),
            "a sequence" => Some("a list, e.g. [\"a\", \"b\"]".into()),
            "a map" => Some("a table".into()),
            "a duration" => {
                Some("a duration in quotes, such as \"10s\", \"250ms\" or \"2m\"".into())
            }
            "path string" => Some("a path (a string in quotes)".into()),
            // bytesize's wording.
            "parsable string" | "an integer or string" => {
                Some("a size such as \"100MB\", \"10KiB\", or a number of bytes".into())
            }
            other if other.starts_with("struct ") => Some("a table".into()),
            _ => None,
        };
        if let Some(better) = better {
            m = format!("{head}, expected {better}");
        }
    }
    if let Some(field) = m
        .strip_prefix("missing field `")
        .and_then(|r| r.strip_suffix('`'))
    {
        m = format!("required key `{field}` is missing");
        if matches!(path.last(), Some(Seg::Index(_))) {
            m.push_str(" (this entry is skipped in further checks)");
        }
    }
    m
}

#[cfg(test)]
mod tests {
    use super::polish;

    #[test]
    fn messages_speak_toml() {
        let p = |m: &str| polish(m, &[]);
        assert_eq!(
            p("invalid type: string \"x\", expected u16"),
            "invalid type: string \"x\", expected an integer from 0 to 65535"
        );
        assert_eq!(
            p("invalid type: integer `5`, expected struct GatewayConfig"),
            "invalid type: integer `5`, expected a table"
        );
        assert!(p("invalid value: string \"soon\", expected a duration").contains("\"250ms\""));
        assert_eq!(
            p("missing field `message`"),
            "required key `message` is missing"
        );
        assert_eq!(p("something else"), "something else");
    }
}
