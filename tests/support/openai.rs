//! A fake OpenAI-compatible chat-completions server on 127.0.0.1: scripted
//! replies in the real wire format (`choices`, `tool_calls` with JSON-string
//! `arguments`, `{"error":{...}}` bodies, `x-request-id`, `retry-after-ms`),
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

/// A running fake OpenAI-compatible API.
pub type Fake = super::scripted::Fake<Step>;

/// The key the fake accepts (`Authorization: Bearer <KEY>`).
pub const KEY: &str = "sk-openai-test-key";

/// One scripted reply, consumed in order; an empty script answers `Text("ok")`.
#[derive(Debug, Clone)]
pub enum Step {
    Text(String),
    /// `finish_reason: tool_calls` with one call; `arguments` sent as a JSON string.
    ToolCall {
        name: String,
        arguments: String,
    },
    /// Answer with the content of the last `role: tool` message of the request.
    EchoToolResult,
    Error {
        status: u16,
        kind: String,
        code: Option<String>,
        retry_after: Option<String>,
        retry_after_ms: Option<String>,
    },
    Malformed,
    DropMidBody,
    Hang,
}

impl Step {
    pub fn text(t: &str) -> Self {
        Step::Text(t.into())
    }
    pub fn error(status: u16, kind: &str) -> Self {
        Step::Error {
            status,
            kind: kind.into(),
            code: None,
            retry_after: None,
            retry_after_ms: None,
        }
    }
}

impl Fake {
    pub async fn start(steps: Vec<Step>) -> Fake {
        let routes = Router::new()
            .route("/v1/chat/completions", post(completions))
            .route("/v1/models", get(models));
        Fake::serve(steps, routes).await
    }
}

fn error_response(
    status: u16,
    kind: &str,
    code: Option<&str>,
    message: &str,
    request_id: &str,
) -> Response {
    let body = json!({"error": {"message": message, "type": kind, "param": null, "code": code}});
    json_reply(status, body, "x-request-id", request_id)
}

/// `Some(rejection)` when the credentials are wrong.
fn authenticate(headers: &HeaderMap, request_id: &str) -> Option<Response> {
    let expected = format!("Bearer {KEY}");
    if headers.get("authorization").and_then(|v| v.to_str().ok()) != Some(expected.as_str()) {
        return Some(error_response(
            401,
            "invalid_request_error",
            Some("invalid_api_key"),
            "Incorrect API key provided: sk-wr***ng. You can find your API key at https://platform.openai.com/account/api-keys.",
            request_id,
        ));
    }
    None
}

async fn models(headers: HeaderMap) -> Response {
    if let Some(r) = authenticate(&headers, "req_models") {
        return r;
    }
    axum::Json(json!({"object": "list", "data": [{"id": "gpt-test", "object": "model"}]}))
        .into_response()
}

async fn completions(
    State(script): State<Arc<Script<Step>>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (body, n) = script.record(&headers, &body);
    let request_id = format!("req_oai_{n}");
    script.latency().await;
    if let Some(r) = authenticate(&headers, &request_id) {
        return r;
    }
    let step = script.next_or(Step::text("ok"));
    let model = body["model"].clone();
    let completion = |message: Value, finish: &str| {
        let body = json!({
            "id": format!("chatcmpl-{n}"),
            "object": "chat.completion",
            "created": 1_700_000_000,
            "model": model,
            "choices": [{"index": 0, "message": message, "logprobs": null, "finish_reason": finish}],
            "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15},
        });
        json_reply(200, body, "x-request-id", &request_id)
    };
    match step {
        Step::Text(t) => completion(json!({"role": "assistant", "content": t}), "stop"),
        Step::ToolCall { name, arguments } => completion(
            json!({"role": "assistant", "content": null, "tool_calls": [
                {"id": format!("call_{n}"), "type": "function", "function": {"name": name, "arguments": arguments}}
            ]}),
            "tool_calls",
        ),
        Step::EchoToolResult => {
            let result = body["messages"]
                .as_array()
                .and_then(|m| m.iter().rev().find(|m| m["role"] == "tool"))
                .and_then(|m| m["content"].as_str().map(String::from))
                .unwrap_or_else(|| "NO TOOL RESULT".into());
            completion(
                json!({"role": "assistant", "content": format!("The tool said: {result}")}),
                "stop",
            )
        }
        Step::Error {
            status,
            kind,
            code,
            retry_after,
            retry_after_ms,
        } => {
            let mut r = error_response(
                status,
                &kind,
                code.as_deref(),
                &format!("fake {kind}"),
                &request_id,
            );
            if let Some(ra) = retry_after {
                r = with_header(r, "retry-after", &ra);
            }
            if let Some(ms) = retry_after_ms {
                r = with_header(r, "retry-after-ms", &ms);
            }
            r
        }
        Step::Malformed => (
            [("content-type", "application/json")],
            "<html><body>502 Bad Gateway</body></html>",
        )
            .into_response(),
        Step::DropMidBody => drop_mid_body(b"{\"id\":\"chatcmpl-1\",\"choices\":[{\"index\":0,"),
        Step::Hang => std::future::pending().await,
    }
}
