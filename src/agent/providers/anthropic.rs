//! Anthropic Messages API (`POST /v1/messages`).

use super::error::ProviderError;
use super::format::{self, Format, secret_header};
use super::settings::ProviderSettings;
use super::transport::Success;
use crate::agent::message::{Block, Completion, Reply, Role, StopReason, Usage};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use serde::Deserialize;
use serde_json::{Value, json};

pub const API_VERSION: &str = "2023-06-01";

/// Auth and version headers (also used by `auth status --check`).
pub fn headers(settings: &ProviderSettings) -> Result<HeaderMap, ProviderError> {
    let mut h = HeaderMap::new();
    h.insert(
        HeaderName::from_static("anthropic-version"),
        HeaderValue::from_static(API_VERSION),
    );
    if let Some(key) = &settings.api_key {
        let v = secret_header(&settings.name, key)?;
        h.insert(HeaderName::from_static("x-api-key"), v);
    }
    Ok(h)
}

/// The request body for `completion`.
pub fn request_body(c: &Completion<'_>) -> Value {
    let messages: Vec<Value> = c
        .conversation()
        .map(|m| {
            let role = match m.role {
                Role::User => "user",
                Role::Assistant => "assistant",
            };
            let content: Vec<Value> = m
                .blocks
                .iter()
                .map(|b| match b {
                    Block::Text(t) => json!({"type": "text", "text": t}),
                    Block::ToolUse { id, name, input } => {
                        json!({"type": "tool_use", "id": id, "name": name, "input": input})
                    }
                    Block::ToolResult {
                        id,
                        content,
                        is_error,
                    } => json!({
                        "type": "tool_result",
                        "tool_use_id": id,
                        "content": content,
                        "is_error": is_error,
                    }),
                })
                .collect();
            json!({"role": role, "content": content})
        })
        .collect();
    let mut body = json!({
        "model": c.model,
        "max_tokens": c.max_tokens,
        "system": c.system,
        "messages": messages,
    });
    if !c.tools.is_empty() {
        body["tools"] = c
            .tools
            .iter()
            .map(|t| match t.schema.get(crate::agent::message::PROVIDER_TOOL) {
                Some(server_tool) => server_tool.clone(),
                None => json!({"name": t.name, "description": t.description, "input_schema": t.schema}),
            })
            .collect();
    }
    body
}

#[derive(Deserialize)]
pub(crate) struct Response {
    content: Vec<ContentBlock>,
    stop_reason: Option<String>,
    #[serde(default)]
    usage: Option<TokenUsage>,
}

#[derive(Deserialize)]
struct TokenUsage {
    #[serde(default)]
    input_tokens: u64,
    #[serde(default)]
    output_tokens: u64,
}

#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum ContentBlock {
    Text {
        text: String,
    },
    ToolUse {
        id: String,
        name: String,
        #[serde(default)]
        input: Value,
    },
    /// Thinking, server tool results... carry nothing we act on.
    #[serde(other)]
    Other,
}

/// The Messages API.
pub(crate) struct Messages;

impl Format for Messages {
    type Body = Response;
    const PATH: &'static str = "/v1/messages";
    const REQUEST_ID_HEADER: &'static str = "request-id";

    fn headers(settings: &ProviderSettings) -> Result<HeaderMap, ProviderError> {
        headers(settings)
    }
    fn request_body(_provider: &str, c: &Completion<'_>) -> Value {
        request_body(c)
    }
    fn into_reply(_provider: &str, ok: Success<Response>) -> Result<Reply, ProviderError> {
        Ok(into_reply(ok))
    }
}

/// A complete HTTP reply read as [`format::parse_reply`] does: for fuzzing.
pub fn parse_reply(provider: &str, status: u16, body: &[u8]) -> Result<Reply, ProviderError> {
    format::parse_reply::<Messages>(provider, status, body)
}

fn into_reply(ok: Success<Response>) -> Reply {
    let blocks = ok
        .body
        .content
        .into_iter()
        .filter_map(|b| match b {
            // The API rejects empty text blocks when they are sent back in the tool loop.
            ContentBlock::Text { text } if text.is_empty() => None,
            ContentBlock::Text { text } => Some(Block::Text(text)),
            ContentBlock::ToolUse { id, name, input } => Some(Block::ToolUse { id, name, input }),
            ContentBlock::Other => None,
        })
        .collect();
    let stop = match ok.body.stop_reason.as_deref() {
        Some("end_turn") | Some("stop_sequence") => StopReason::EndTurn,
        Some("tool_use") => StopReason::ToolUse,
        Some("max_tokens") => StopReason::MaxTokens,
        _ => StopReason::Other,
    };
    let mut reply = Reply::assistant(blocks, stop, ok.request_id);
    if let Some(u) = ok.body.usage {
        reply.usage = Usage {
            input: u.input_tokens,
            output: u.output_tokens,
        };
    }
    reply
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agent::message::ToolSpec;
    use crate::agent::message::tool_round_trip;
    use crate::agent::providers::ErrorKind;

    #[test]
    fn parse_reply_reads_bodies_and_classifies_errors() {
        let reply = parse_reply("anthropic", 200, br#"{"content":[{"type":"text","text":""},{"type":"tool_use","id":"t","name":"shell","input":{}}],"stop_reason":"tool_use"}"#).unwrap();
        assert_eq!(reply.stop, StopReason::ToolUse);
        assert_eq!(reply.tool_calls().len(), 1);
        assert_eq!(reply.message.blocks.len(), 1);
        let e = parse_reply("anthropic", 200, b"<html>").err().unwrap();
        assert_eq!(e.kind, ErrorKind::Malformed);
        let e = parse_reply("anthropic", 401, b"{}").err().unwrap();
        assert_eq!(e.kind, ErrorKind::Auth);
    }

    #[test]
    fn tool_round_trip_blocks_serialise_to_the_documented_shape() {
        let messages = tool_round_trip("what time is it", "toolu_1");
        let tools = vec![ToolSpec {
            name: "shell".into(),
            description: "d".into(),
            schema: json!({"type": "object"}),
        }];
        let body = request_body(&Completion {
            model: "m",
            system: "s",
            history: &[],
            messages: &messages,
            tools: &tools,
            max_tokens: 10,
        });
        assert_eq!(body["tools"][0]["input_schema"]["type"], "object");
        assert_eq!(body["messages"][1]["content"][0]["type"], "tool_use");
        assert_eq!(body["messages"][2]["content"][0]["tool_use_id"], "toolu_1");
        assert_eq!(body["system"], "s");
    }
}
