//! One problem in a config file, and the report of all of them.

use serde::Serialize;
use std::fmt;

/// One problem: where (line, column, table, key) and what to do about it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    /// 1-based; `None` for problems of the file as a whole (unreadable).
    pub line: Option<usize>,
    /// 1-based, in characters.
    pub column: Option<usize>,
    /// The key as written in its table (`port`, `allowed_users[1]`), if any.
    pub key: Option<String>,
    /// The table as a user writes its header: `[gateway]`, `[[cron.jobs]] #2`,
    /// `(top level)`.
    pub table: Option<String>,
    /// The `name` of the `[[...]]` entry the problem is in (a cron job's), so
    /// the operator reads which job rather than counting `#2`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub entry: Option<String>,
    pub message: String,
}

impl Diagnostic {
    /// A problem without a place in the file.
    pub fn file(message: impl Into<String>) -> Self {
        Self {
            line: None,
            column: None,
            key: None,
            table: None,
            entry: None,
            message: message.into(),
        }
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(line) = self.line {
            write!(f, "line {line}")?;
            if let Some(column) = self.column {
                write!(f, ":{column}")?;
            }
            f.write_str(": ")?;
        }
        let entry = match &self.entry {
            Some(name) => format!(" (`{name}`)"),
            None => String::new(),
        };
        match (&self.table, &self.key) {
            (Some(table), Some(key)) => write!(f, "{table}{entry} `{key}`: ")?,
            (Some(table), None) => write!(f, "{table}{entry}: ")?,
            (None, Some(key)) => write!(f, "`{key}`: ")?,
            (None, None) => {}
        }
        f.write_str(&self.message)
    }
}

/// Every error found in one file, reported together.
#[derive(Debug, Clone, thiserror::Error)]
pub struct ConfigError {
    /// The file (or `<built-in defaults>`), as shown to the user.
    pub origin: String,
    /// Sorted by line; never empty.
    pub errors: Vec<Diagnostic>,
}

impl ConfigError {
    /// An error about the file as a whole, e.g. it cannot be read.
    pub fn whole_file(origin: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            origin: origin.into(),
            errors: vec![Diagnostic::file(message)],
        }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.errors.as_slice() {
            [] => write!(f, "{}: invalid config", self.origin),
            [only] if only.line.is_none() => write!(f, "{}: {only}", self.origin),
            errors => {
                let n = errors.len();
                let plural = if n == 1 { "error" } else { "errors" };
                write!(f, "{}: {n} {plural}", self.origin)?;
                for e in errors {
                    write!(f, "\n  {e}")?;
                }
                Ok(())
            }
        }
    }
}
