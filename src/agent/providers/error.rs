//! What can go wrong talking to a model provider, and how each failure is
//! told to the chat user (short) and to the log (detailed, with request id).

use std::fmt;
use std::time::Duration;

/// The class of a provider failure; decides retrying and the user's sentence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// Missing key, unknown provider name: fixed in the config, not by retrying.
    NotConfigured,
    /// 401 / 403.
    Auth,
    /// 402 (OpenRouter: no credit left).
    Payment,
    /// 429.
    RateLimited,
    /// 503 / 529.
    Overloaded,
    /// 500 / 502 / 504.
    Server,
    /// 400 / 404 / 413 / 422...: the request itself is wrong (often the model name).
    Rejected,
    /// No complete reply within the configured timeout.
    Timeout,
    /// Could not connect, or the connection dropped before the reply was complete.
    Connect,
    /// A reply arrived but is not the JSON the API documents.
    Malformed,
}

/// A failed provider call.
#[derive(Debug, Clone, thiserror::Error)]
pub struct ProviderError {
    pub kind: ErrorKind,
    /// `anthropic`, `openai`, ... (the configured name).
    pub provider: String,
    pub status: Option<u16>,
    /// The provider's own words, or the transport error.
    pub detail: String,
    /// `request-id` (Anthropic) / `x-request-id` (OpenAI-compatible) header.
    pub request_id: Option<String>,
    /// What the server asked us to wait (`retry-after`, `retry-after-ms`).
    pub retry_after: Option<Duration>,
}

impl fmt::Display for ProviderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "provider `{}`", self.provider)?;
        if let Some(s) = self.status {
            write!(f, " HTTP {s}")?;
        }
        write!(f, ": {}", self.detail)?;
        if let Some(id) = &self.request_id {
            write!(f, " (request id {id})")?;
        }
        Ok(())
    }
}

impl ErrorKind {
    /// A stable label for metrics and logs.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::NotConfigured => "not_configured",
            ErrorKind::Auth => "auth",
            ErrorKind::Payment => "payment",
            ErrorKind::RateLimited => "rate_limited",
            ErrorKind::Overloaded => "overloaded",
            ErrorKind::Server => "server",
            ErrorKind::Rejected => "rejected",
            ErrorKind::Timeout => "timeout",
            ErrorKind::Connect => "connect",
            ErrorKind::Malformed => "malformed",
        }
    }
}

impl ProviderError {
    pub fn new(kind: ErrorKind, provider: &str, detail: impl Into<String>) -> Self {
        Self {
            kind,
            provider: provider.to_string(),
            status: None,
            detail: detail.into(),
            request_id: None,
            retry_after: None,
        }
    }

    /// Transient failures worth another attempt (`max_retries` in
    /// docs/configuration.md: connect errors, 429, 500, 502, 503, 529; 504 is
    /// the same kind of gateway hiccup).
    pub fn is_retryable(&self) -> bool {
        matches!(
            self.kind,
            ErrorKind::RateLimited | ErrorKind::Overloaded | ErrorKind::Server | ErrorKind::Connect
        )
    }

    /// A short sentence fit for the chat user; no secrets, no internals.
    pub fn user_message(&self) -> String {
        match self.kind {
            ErrorKind::NotConfigured => {
                "the model provider is not configured (see `zeroclaw auth status`)"
            }
            ErrorKind::Auth => "the model provider rejected the API key",
            ErrorKind::Payment => "the model provider account has no credit left",
            ErrorKind::RateLimited => {
                "the model provider is rate-limiting requests; please try again in a minute"
            }
            ErrorKind::Overloaded => "the model provider is overloaded; please try again later",
            ErrorKind::Server => "the model provider had an internal error; please try again later",
            ErrorKind::Rejected => {
                "the model provider rejected the request (check the configured model name)"
            }
            ErrorKind::Timeout => "the model provider did not answer in time",
            ErrorKind::Connect => "could not reach the model provider",
            ErrorKind::Malformed => "the model provider sent a reply that could not be read",
        }
        .to_string()
    }

    /// Classify an HTTP error status.
    pub fn from_status(provider: &str, status: u16, detail: String) -> Self {
        let kind = match status {
            401 | 403 => ErrorKind::Auth,
            402 => ErrorKind::Payment,
            429 => ErrorKind::RateLimited,
            503 | 529 => ErrorKind::Overloaded,
            500 | 502 | 504 => ErrorKind::Server,
            _ => ErrorKind::Rejected,
        };
        Self {
            status: Some(status),
            ..Self::new(kind, provider, detail)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_map_to_the_documented_retry_policy() {
        for s in [429, 500, 502, 503, 529] {
            assert!(
                ProviderError::from_status("x", s, String::new()).is_retryable(),
                "{s}"
            );
        }
        for s in [400, 401, 403, 404] {
            assert!(
                !ProviderError::from_status("x", s, String::new()).is_retryable(),
                "{s}"
            );
        }
        assert_eq!(
            ProviderError::from_status("x", 401, String::new()).user_message(),
            "the model provider rejected the API key"
        );
    }

    #[test]
    fn display_carries_request_id_for_the_log() {
        let mut e = ProviderError::from_status("anthropic", 529, "Overloaded".into());
        e.request_id = Some("req_1".into());
        assert_eq!(
            e.to_string(),
            "provider `anthropic` HTTP 529: Overloaded (request id req_1)"
        );
    }
}
