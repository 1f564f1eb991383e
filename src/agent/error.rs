//! Why a message got no answer.

use super::http::ClientError;
use super::providers::ProviderError;

/// Why a message got no answer. [`AgentError::user_message`] is what the chat
/// user sees; `Display` (with the provider's request id) is for the log.
#[derive(Debug, thiserror::Error)]
pub enum AgentError {
    #[error(transparent)]
    Provider(#[from] ProviderError),
    #[error("unknown tool `{tool}` in {place} (known tools: {known}); fix the `tools` list in the config", known = super::tools::KNOWN.join(", "))]
    UnknownTool { tool: String, place: String },
    #[error(
        "the model asked for tools {0} times without giving an answer ([agent] max_tool_iterations)"
    )]
    ToolLimit(u32),
    #[error("the model returned an empty answer")]
    EmptyReply,
    #[error("the message is empty")]
    EmptyMessage,
    #[error(transparent)]
    Client(#[from] ClientError),
}

impl AgentError {
    /// A stable label for metrics (`auth`, `timeout`, `tool_limit`...).
    pub fn kind(&self) -> &'static str {
        match self {
            AgentError::Provider(e) => e.kind.as_str(),
            AgentError::UnknownTool { .. } => "unknown_tool",
            AgentError::ToolLimit(_) => "tool_limit",
            AgentError::EmptyReply => "empty_reply",
            AgentError::EmptyMessage => "empty_message",
            AgentError::Client(_) => "client",
        }
    }

    /// A short sentence fit to send back to the user.
    pub fn user_message(&self) -> String {
        match self {
            AgentError::Provider(e) => e.user_message(),
            AgentError::UnknownTool { .. } => {
                "the assistant is misconfigured (unknown tool); the operator has been told in the log"
                    .into()
            }
            AgentError::ToolLimit(_) => {
                "the assistant needed too many tool steps and gave up; try a simpler request".into()
            }
            AgentError::EmptyReply => "the model returned an empty answer; please try again".into(),
            AgentError::EmptyMessage => "the message is empty; please write something".into(),
            AgentError::Client(_) => "the assistant cannot make network requests right now".into(),
        }
    }
}
