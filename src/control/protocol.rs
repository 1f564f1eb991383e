//! Wire types of the control protocol.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Bumped when a request or reply changes incompatibly.
pub const PROTOCOL_VERSION: u32 = 1;

/// One request line: `{"id":1,"method":"status","params":{}}`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Request {
    pub id: Value,
    pub method: String,
    #[serde(default)]
    pub params: Value,
}

/// A failed request: a stable machine-readable `code` and a sentence for people.
#[derive(Debug, Clone, Serialize, Deserialize, thiserror::Error)]
#[error("{message}")]
pub struct ControlError {
    pub code: String,
    pub message: String,
}

impl ControlError {
    pub fn new(code: &str, message: impl Into<String>) -> Self {
        Self {
            code: code.into(),
            message: message.into(),
        }
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new("not_found", message)
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new("bad_request", message)
    }

    pub fn internal(message: impl Into<String>) -> Self {
        Self::new("internal", message)
    }
}

/// The result of `reload`: which children it restarted, added and removed,
/// and which config sections only a daemon restart applies.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReloadReport {
    pub changed: Vec<String>,
    pub added: Vec<String>,
    pub removed: Vec<String>,
    pub requires_restart: Vec<String>,
}

impl std::fmt::Display for ReloadReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Through a `Value`, so the keys print in the wire's (sorted) order.
        match serde_json::to_value(self) {
            Ok(v) => write!(f, "{v}"),
            Err(_) => Err(std::fmt::Error),
        }
    }
}
