//! The conversation as the agent loop sees it, independent of any wire format.
//! Each provider translates these to and from its own JSON.

use serde_json::Value;

/// Who said it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    User,
    Assistant,
}

/// One piece of a message. A model's turn may mix text and tool calls; the
/// answer to tool calls is a user turn made of tool results.
#[derive(Debug, Clone, PartialEq)]
pub enum Block {
    Text(String),
    ToolUse {
        id: String,
        name: String,
        input: Value,
    },
    ToolResult {
        id: String,
        content: String,
        is_error: bool,
    },
}

/// One turn of the conversation.
#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    pub role: Role,
    pub blocks: Vec<Block>,
}

impl Message {
    pub fn user(text: impl Into<String>) -> Self {
        Self {
            role: Role::User,
            blocks: vec![Block::Text(text.into())],
        }
    }

    pub fn assistant(text: impl Into<String>) -> Self {
        Self {
            role: Role::Assistant,
            blocks: vec![Block::Text(text.into())],
        }
    }

    /// The text blocks joined, tool blocks ignored.
    pub fn text(&self) -> String {
        let parts: Vec<&str> = self
            .blocks
            .iter()
            .filter_map(|b| match b {
                Block::Text(t) => Some(t.as_str()),
                _ => None,
            })
            .collect();
        parts.join("\n")
    }

    /// Characters counted against the history bound.
    pub fn chars(&self) -> usize {
        self.blocks
            .iter()
            .map(|b| match b {
                Block::Text(t) => t.chars().count(),
                Block::ToolUse { input, .. } => input.to_string().chars().count(),
                Block::ToolResult { content, .. } => content.chars().count(),
            })
            .sum()
    }
}

/// A key of [`ToolSpec::schema`] marking a tool the provider runs itself
/// (Anthropic's server-side web search): its value is the provider's own tool
/// definition, sent instead of a client tool.
pub const PROVIDER_TOOL: &str = "x-provider-tool";

/// A tool as offered to the model.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolSpec {
    pub name: String,
    pub description: String,
    /// JSON schema of the input object.
    pub schema: Value,
}

/// Why the model stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopReason {
    /// Finished its answer.
    EndTurn,
    /// Wants the tool calls in the reply executed.
    ToolUse,
    /// Ran out of `max_tokens`.
    MaxTokens,
    /// Anything else the provider reports (refusal, content filter...).
    Other,
}

/// What one completion call asks for.
#[derive(Debug, Clone)]
pub struct Completion<'a> {
    pub model: &'a str,
    pub system: &'a str,
    /// The session's earlier turns, borrowed from its history.
    pub history: &'a [Message],
    /// This turn's messages so far: the user's, then tool calls and results.
    pub messages: &'a [Message],
    pub tools: &'a [ToolSpec],
    pub max_tokens: u32,
}

impl Completion<'_> {
    /// Every message of the conversation, oldest first.
    pub fn conversation(&self) -> impl Iterator<Item = &Message> {
        self.history.iter().chain(self.messages)
    }
}

/// What one completion call returned.
#[derive(Debug, Clone, PartialEq)]
pub struct Reply {
    pub message: Message,
    pub stop: StopReason,
    /// The provider's request id, for the log.
    pub request_id: Option<String>,
    /// Tokens the provider counted, when it said (metrics).
    pub usage: Usage,
}

/// Prompt and completion tokens of one completion (0 when not reported).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Usage {
    pub input: u64,
    pub output: u64,
}

impl Reply {
    /// The model's answer as the wire formats decode it.
    pub fn assistant(blocks: Vec<Block>, stop: StopReason, request_id: Option<String>) -> Self {
        Reply {
            message: Message {
                role: Role::Assistant,
                blocks,
            },
            stop,
            request_id,
            usage: Usage::default(),
        }
    }

    /// The tool calls the model made, in order.
    pub fn tool_calls(&self) -> Vec<(&str, &str, &Value)> {
        self.message
            .blocks
            .iter()
            .filter_map(|b| match b {
                Block::ToolUse { id, name, input } => Some((id.as_str(), name.as_str(), input)),
                _ => None,
            })
            .collect()
    }
}

/// A question, the model's `shell` call running `date`, and its result: the
/// smallest conversation with a tool round trip, for the wire-format tests of
/// every provider.
#[cfg(test)]
pub(crate) fn tool_round_trip(question: &str, call_id: &str) -> Vec<Message> {
    vec![
        Message::user(question),
        Message {
            role: Role::Assistant,
            blocks: vec![Block::ToolUse {
                id: call_id.into(),
                name: "shell".into(),
                input: serde_json::json!({"command": "date"}),
            }],
        },
        Message {
            role: Role::User,
            blocks: vec![Block::ToolResult {
                id: call_id.into(),
                content: "Mon".into(),
                is_error: false,
            }],
        },
    ]
}
