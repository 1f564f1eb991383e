//! The agent: LLM providers, the tool loop and the tools.

pub mod cli;

use crate::config::Config;
use std::path::PathBuf;

/// One message to answer.
#[derive(Debug, Clone, Default)]
pub struct AgentRequest {
    /// Conversation key: `telegram:<chat>`, `webhook:<session>`, `cron:<job id>`.
    pub session: String,
    pub message: String,
    /// Override of `[provider] name` (cron jobs).
    pub provider: Option<String>,
    pub model: Option<String>,
    /// Tools offered to the model (`["shell"]`); none by default.
    pub tools: Vec<String>,
}

/// Why a message got no answer.
#[derive(Debug, thiserror::Error)]
pub enum AgentError {
    #[error("{0}")]
    Provider(String),
}

impl AgentError {
    /// A short sentence fit to send back to the user.
    pub fn user_message(&self) -> String {
        self.to_string()
    }
}

/// Shared by the gateway, every channel and every cron job.
pub struct Agent {}

impl Agent {
    pub fn new(config: &Config, workdir: PathBuf) -> Result<Self, AgentError> {
        let _ = (config, workdir);
        Ok(Self {})
    }

    pub async fn respond(&self, request: AgentRequest) -> Result<String, AgentError> {
        Ok(request.message)
    }
}
