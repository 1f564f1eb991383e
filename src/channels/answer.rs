//! The agent's answer to a chat message, the same for every channel.

use super::deps::ChannelDeps;
use crate::agent::AgentRequest;

/// Ask the agent for the answer to `text` in conversation `<channel>:<chat>`.
/// An agent failure is logged and becomes the short message the user sees
/// instead, so a chat always gets an answer.
pub async fn answer(
    deps: &ChannelDeps,
    channel: &str,
    chat: &str,
    text: String,
    tools: &[String],
) -> String {
    let request = AgentRequest {
        session: format!("{channel}:{chat}"),
        message: text,
        tools: tools.to_vec(),
        ..AgentRequest::default()
    };
    match deps.agent().respond(request).await {
        Ok(reply) => reply,
        Err(e) => {
            tracing::warn!(chat, "{channel}: agent failed: {e}");
            e.user_message()
        }
    }
}
