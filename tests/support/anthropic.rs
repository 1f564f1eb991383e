//! A fake Anthropic Messages API on 127.0.0.1: scripted replies in the real
//! wire format, including its error JSON, `retry-after`, `request-id`,
//! dropped connections and a server that never answers.
#![allow(dead_code)]

use super::scripted::{Script, drop_mid_body, json_reply, with_header};
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};
use std::sync::Arc;

/// A running fake Anthropic API.
pub type Fake = super::scripted::Fake<Step>;

/// The key the fake accepts; any other gets a 401 `authentication_error`.
pub const KEY: &str = "sk-ant-test-key";

/// One scripted reply, consumed in order; an empty script answers `Text("ok")`.
#[derive(Debug, Clone)]
pub enum Step {
    Text(String),
    /// `stop_reason: tool_use` with one `tool_use` block.
    ToolUse {
        name: String,
        input: Value,
    },
    /// Answer with the content of the last `tool_result` the request carried.
    EchoToolResult,
    /// `stop_reason: end_turn` with these content blocks as they are (server
    /// tool blocks such as `server_tool_use` and `web_search_tool_result`).
    Blocks(Value),
    Error {
        status: u16,
        kind: String,
        message: String,
        retry_after: Option<String>,
    },
    /// 200 with a body that is not JSON.
    Malformed,
    /// 200, headers and half a body, then the connection is cut.
    DropMidBody,
    /// Never answers.
    Hang,
}

impl Step {
    pub fn text(t: &str) -> Self {
        Step::Text(t.into())
    }
    pub fn error(status: u16, kind: &str, retry_after: Option<&str>) -> Self {
        Step::Error {
            status,
            kind: kind.into(),
            message: format!("fake {kind}"),
            retry_after: retry_after.map(String::from),
        }
    }
}

impl Fake {
    pub async fn start(steps: Vec<Step>) -> Fake {
        let routes = Router::new()
            .route("/v1/messages", post(messages))
            .route("/v1/models", get(models));
        Fake::serve(steps, routes).await
    }
}

fn error_response(status: u16, kind: &str, message: &str, request_id: &str) -> Response {
    let body = json!({"type": "error", "error": {"type": kind, "message": message}, "request_id": request_id});
    json_reply(status, body, "request-id", request_id)
}

/// `Some(rejection)` when the credentials are wrong.
fn authenticate(headers: &HeaderMap, request_id: &str) -> Option<Response> {
    if headers
        .get("anthropic-version")
        .and_then(|v| v.to_str().ok())
        != Some("2023-06-01")
    {
        return Some(error_response(
            400,
            "invalid_request_error",
            "anthropic-version: header is required",
            request_id,
        ));
    }
    if headers.get("x-api-key").and_then(|v| v.to_str().ok()) != Some(KEY) {
        return Some(error_response(
            401,
            "authentication_error",
            "invalid x-api-key",
            request_id,
        ));
    }
    None
}

async fn models(headers: HeaderMap) -> Response {
    if let Some(r) = authenticate(&headers, "req_models") {
        return r;
    }
    axum::Json(json!({"data": [{"type": "model", "id": "claude-test"}], "has_more": false}))
        .into_response()
}

async fn messages(
    State(script): State<Arc<Script<Step>>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (body, n) = script.record(&headers, &body);
    let request_id = format!("req_fake_{n}");
    if let Some(r) = authenticate(&headers, &request_id) {
        return r;
    }
    let step = script.next_or(Step::text("ok"));
    let model = body["model"].clone();
    let message = |content: Value, stop: &str| {
        let body = json!({
            "id": format!("msg_{n}"),
            "type": "message",
            "role": "assistant",
            "model": model,
            "content": content,
            "stop_reason": stop,
            "stop_sequence": null,
            "usage": {"input_tokens": 10, "output_tokens": 5},
        });
        json_reply(200, body, "request-id", &request_id)
    };
    match step {
        Step::Text(t) => message(json!([{"type": "text", "text": t}]), "end_turn"),
        Step::ToolUse { name, input } => message(
            json!([
                {"type": "text", "text": "Let me check."},
                {"type": "tool_use", "id": format!("toolu_{n}"), "name": name, "input": input}
            ]),
            "tool_use",
        ),
        Step::Blocks(content) => message(content, "end_turn"),
        Step::EchoToolResult => {
            let result = last_tool_result(&body).unwrap_or_else(|| "NO TOOL RESULT".into());
            message(
                json!([{"type": "text", "text": format!("The tool said: {result}")}]),
                "end_turn",
            )
        }
        Step::Error {
            status,
            kind,
            message,
            retry_after,
        } => {
            let r = error_response(status, &kind, &message, &request_id);
            match retry_after {
                Some(ra) => with_header(r, "retry-after", &ra),
                None => r,
            }
        }
        Step::Malformed => (
            [("content-type", "application/json")],
            "{\"id\": \"msg_1\", \"content\": [ {\"type\": \"te",
        )
            .into_response(),
        Step::DropMidBody => drop_mid_body(b"{\"id\":\"msg_1\",\"type\":\"message\",\"content\":["),
        Step::Hang => std::future::pending().await,
    }
}

/// The `content` of the last `tool_result` block of the last user message.
fn last_tool_result(body: &Value) -> Option<String> {
    let last = body["messages"].as_array()?.last()?;
    last["content"].as_array()?.iter().rev().find_map(|b| {
        (b["type"] == "tool_result").then(|| match &b["content"] {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        })
    })
}
