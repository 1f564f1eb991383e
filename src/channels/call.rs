//! How an HTTP call to a chat service failed below the service's own error
//! answers: the same three ways for every service, judged in one place.

use super::platform::Severity;

#[derive(Debug, thiserror::Error)]
pub enum CallError {
    /// 5xx: the service is in trouble.
    #[error("server error {0}")]
    Server(u16),
    /// Refused or reset connections, DNS failures, timeouts.
    #[error("{0}")]
    Transport(#[source] reqwest::Error),
    #[error("unexpected answer: {0}")]
    Decode(String),
}

impl CallError {
    pub fn severity(&self) -> Severity {
        match self {
            Self::Server(_) => Severity::Server,
            Self::Transport(_) => Severity::Unreachable,
            Self::Decode(_) => Severity::Lost,
        }
    }
}
