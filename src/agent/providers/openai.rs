//! OpenAI-compatible chat completions (`POST /v1/chat/completions`): OpenAI,
//! OpenRouter, Ollama's `/v1`, vLLM, llama.cpp server.

use super::error::{ErrorKind, ProviderError};
use super::format::{self, Format, secret_header};
use super::settings::ProviderSettings;
use super::transport::{Success, error_detail};
use crate::agent::message::{Block, Completion, Reply, Role, StopReason, Usage};
use reqwest::header::{AUTHORIZATION, HeaderMap};
use serde::Deserialize;
use serde_json::{Value, json};

/// Bearer auth when a key is configured (local servers often take none).
pub fn headers(settings: &ProviderSettings) -> Result<HeaderMap, ProviderError> {
    let mut h = HeaderMap::new();
    if let Some(key) = &settings.api_key {
        let v = secret_header(&settings.name, &format!("Bearer {key}"))?;
        h.insert(AUTHORIZATION, v);
    }
    Ok(h)
}

/// The request body. `openai` itself wants `max_completion_tokens` (its newer
/// models reject `max_tokens`); compatible servers only know `max_tokens`.
pub fn request_body(provider: &str, c: &Completion<'_>) -> Value {
    let mut messages = vec![json!({"role": "system", "content": c.system})];
    for m in c.conversation() {
        match m.role {
            Role::Assistant => {
                let text = m.text();
                let calls: Vec<Value> = m
                    .blocks
                    .iter()
                    .filter_map(|b| match b {
                        Block::ToolUse { id, name, input } => Some(json!({
                            "id": id,
                            "type": "function",
                            "function": {"name": name, "arguments": input.to_string()},
                        })),
                        _ => None,
                    })
                    .collect();
                let mut msg = json!({
                    "role": "assistant",
                    "content": if text.is_empty() && !calls.is_empty() { Value::Null } else { Value::String(text) },
                });
                if !calls.is_empty() {
                    msg["tool_calls"] = Value::Array(calls);
                }
                messages.push(msg);
            }
            Role::User => {
                for b in &m.blocks {
                    if let Block::ToolResult { id, content, .. } = b {
                        messages
                            .push(json!({"role": "tool", "tool_call_id": id, "content": content}));
                    }
                }
                let text = m.text();
                if m.blocks.iter().any(|b| matches!(b, Block::Text(_))) {
                    messages.push(json!({"role": "user", "content": text}));
                }
            }
        }
    }
    let tokens_key = if provider == "openai" {
        "max_completion_tokens"
    } else {
        "max_tokens"
    };
    let mut body = json!({"model": c.model, "messages": messages});
    body[tokens_key] = json!(c.max_tokens);
    if !c.tools.is_empty() {
        body["tools"] = c
            .tools
            .iter()
            .map(|t| {
                json!({"type": "function", "function": {
                    "name": t.name, "description": t.description, "parameters": t.schema,
                }})
            })
            .collect();
    }
    body
}

#[derive(Deserialize)]
pub(crate) struct Response {
    #[serde(default)]
    choices: Vec<Choice>,
    /// OpenRouter reports some upstream failures in a 200 body.
    #[serde(default)]
    error: Option<Value>,
    #[serde(default)]
    usage: Option<TokenUsage>,
}

#[derive(Deserialize)]
struct TokenUsage {
    #[serde(default)]
    prompt_tokens: u64,
    #[serde(default)]
    completion_tokens: u64,
}

#[derive(Deserialize)]
struct Choice {
    message: ChoiceMessage,
    #[serde(default)]
    finish_reason: Option<String>,
}

#[derive(Deserialize)]
struct ChoiceMessage {
    #[serde(default)]
    content: Option<String>,
    #[serde(default)]
    tool_calls: Vec<ToolCall>,
}

#[derive(Deserialize)]
struct ToolCall {
    id: String,
    function: FunctionCall,
}

#[derive(Deserialize)]
struct FunctionCall {
    name: String,
    #[serde(default)]
    arguments: String,
}

/// Chat completions.
pub(crate) struct ChatCompletions;

impl Format for ChatCompletions {
    type Body = Response;
    const PATH: &'static str = "/v1/chat/completions";
    const REQUEST_ID_HEADER: &'static str = "x-request-id";

    fn headers(settings: &ProviderSettings) -> Result<HeaderMap, ProviderError> {
        headers(settings)
    }
    fn request_body(provider: &str, c: &Completion<'_>) -> Value {
        request_body(provider, c)
    }
    fn into_reply(provider: &str, ok: Success<Response>) -> Result<Reply, ProviderError> {
        into_reply(provider, ok)
    }
}

/// A complete HTTP reply read as [`format::parse_reply`] does: for fuzzing.
pub fn parse_reply(provider: &str, status: u16, body: &[u8]) -> Result<Reply, ProviderError> {
    format::parse_reply::<ChatCompletions>(provider, status, body)
}

fn into_reply(provider: &str, ok: Success<Response>) -> Result<Reply, ProviderError> {
    let request_id = ok.request_id;
    let usage = ok
        .body
        .usage
        .as_ref()
        .map_or_else(Usage::default, |u| Usage {
            input: u.prompt_tokens,
            output: u.completion_tokens,
        });
    let Some(choice) = ok.body.choices.into_iter().next() else {
        let detail = match &ok.body.error {
            Some(e) => error_detail(json!({ "error": e }).to_string().as_bytes()),
            None => "reply has no `choices`".to_string(),
        };
        let status = ok
            .body
            .error
            .as_ref()
            .and_then(|e| e["code"].as_u64())
            .and_then(|c| u16::try_from(c).ok());
        let mut err = match status {
            Some(s) if (400..600).contains(&s) => ProviderError::from_status(provider, s, detail),
            _ => ProviderError::new(ErrorKind::Malformed, provider, detail),
        };
        err.request_id = request_id;
        return Err(err);
    };
    let mut blocks = Vec::new();
    if let Some(text) = choice.message.content.filter(|t| !t.is_empty()) {
        blocks.push(Block::Text(text));
    }
    for call in choice.message.tool_calls {
        // Models sometimes emit invalid JSON arguments; pass them on as a
        // string so the tool answers with a clear error the model can fix.
        let input = serde_json::from_str(&call.function.arguments)
            .unwrap_or(Value::String(call.function.arguments));
        blocks.push(Block::ToolUse {
            id: call.id,
            name: call.function.name,
            input,
        });
    }
    let stop = match choice.finish_reason.as_deref() {
        Some("stop") => StopReason::EndTurn,
        Some("tool_calls") | Some("function_call") => StopReason::ToolUse,
        Some("length") => StopReason::MaxTokens,
        _ => StopReason::Other,
    };
    let mut reply = Reply::assistant(blocks, stop, request_id);
    reply.usage = usage;
    Ok(reply)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agent::message::tool_round_trip;

    #[test]
    fn parse_reply_reads_bodies_and_classifies_errors() {
        let reply = parse_reply("openai", 200, br#"{"choices":[{"message":{"content":"","tool_calls":[{"id":"c","function":{"name":"shell","arguments":"{bad"}}]},"finish_reason":"tool_calls"}]}"#).unwrap();
        assert_eq!(reply.stop, StopReason::ToolUse);
        assert_eq!(reply.tool_calls().len(), 1);
        assert_eq!(reply.message.blocks.len(), 1);
        let e = parse_reply("openai", 200, b"<html>").err().unwrap();
        assert_eq!(e.kind, ErrorKind::Malformed);
        let e = parse_reply("openai", 401, b"{}").err().unwrap();
        assert_eq!(e.kind, ErrorKind::Auth);
    }

    #[test]
    fn tool_results_become_tool_messages_and_arguments_a_string() {
        let messages = tool_round_trip("time?", "call_1");
        let body = request_body(
            "openai",
            &Completion {
                model: "m",
                system: "s",
                history: &[],
                messages: &messages,
                tools: &[],
                max_tokens: 5,
            },
        );
        let m = body["messages"].as_array().unwrap();
        assert_eq!(m.len(), 4);
        assert_eq!(m[0]["role"], "system");
        assert_eq!(m[2]["content"], Value::Null);
        assert_eq!(
            m[2]["tool_calls"][0]["function"]["arguments"],
            r#"{"command":"date"}"#
        );
        assert_eq!(m[3]["role"], "tool");
        assert_eq!(m[3]["tool_call_id"], "call_1");
        assert_eq!(body["max_completion_tokens"], 5);
        assert!(body.get("tools").is_none());
    }
}
