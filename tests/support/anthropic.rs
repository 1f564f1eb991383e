//! A fake Anthropic Messages API on 127.0.0.1: scripted replies in the real
//! wire format, including its error JSON, `retry-after`, `request-id`,
//! dropped connections and a server that never answers.
#![allow(dead_code)]

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

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

/// A request as the fake received it.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub headers: HeaderMap,
    pub body: Value,
}

#[derive(Default)]
struct Inner {
    steps: Mutex<VecDeque<Step>>,
    requests: Mutex<Vec<Recorded>>,
}

/// A running fake; `base_url` goes into `[provider] base_url`.
pub struct Fake {
    pub base_url: String,
    inner: Arc<Inner>,
}

impl Fake {
    pub async fn start(steps: Vec<Step>) -> Fake {
        let inner = Arc::new(Inner {
            steps: Mutex::new(steps.into()),
            requests: Mutex::new(Vec::new()),
        });
        let app = Router::new()
            .route("/v1/messages", post(messages))
            .route("/v1/models", get(models))
            .with_state(inner.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Fake {
            base_url: format!("http://{addr}"),
            inner,
        }
    }

    /// Append steps to the script (a test that learns what to send only
    /// after the daemon is up).
    pub fn push(&self, steps: impl IntoIterator<Item = Step>) {
        self.inner.steps.lock().unwrap().extend(steps);
    }

    /// Every `/v1/messages` request so far.
    pub fn requests(&self) -> Vec<Recorded> {
        self.inner.requests.lock().unwrap().clone()
    }

    pub fn hits(&self) -> usize {
        self.inner.requests.lock().unwrap().len()
    }
}

fn error_response(status: u16, kind: &str, message: &str, request_id: &str) -> Response {
    let body = json!({"type": "error", "error": {"type": kind, "message": message}, "request_id": request_id});
    let mut r = (
        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        axum::Json(body),
    )
        .into_response();
    r.headers_mut()
        .insert("request-id", request_id.parse().unwrap());
    r
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

async fn messages(State(inner): State<Arc<Inner>>, headers: HeaderMap, body: Bytes) -> Response {
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let n = {
        let mut reqs = inner.requests.lock().unwrap();
        reqs.push(Recorded {
            headers: headers.clone(),
            body: body.clone(),
        });
        reqs.len()
    };
    let request_id = format!("req_fake_{n}");
    if let Some(r) = authenticate(&headers, &request_id) {
        return r;
    }
    let step = inner
        .steps
        .lock()
        .unwrap()
        .pop_front()
        .unwrap_or(Step::text("ok"));
    let model = body["model"].clone();
    let message = |content: Value, stop: &str| {
        let mut r = axum::Json(json!({
            "id": format!("msg_{n}"),
            "type": "message",
            "role": "assistant",
            "model": model,
            "content": content,
            "stop_reason": stop,
            "stop_sequence": null,
            "usage": {"input_tokens": 10, "output_tokens": 5},
        }))
        .into_response();
        r.headers_mut()
            .insert("request-id", request_id.parse().unwrap());
        r
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
            let mut r = error_response(status, &kind, &message, &request_id);
            if let Some(ra) = retry_after {
                r.headers_mut().insert("retry-after", ra.parse().unwrap());
            }
            r
        }
        Step::Malformed => (
            [("content-type", "application/json")],
            "{\"id\": \"msg_1\", \"content\": [ {\"type\": \"te",
        )
            .into_response(),
        Step::DropMidBody => {
            let chunks: Vec<Result<Bytes, std::io::Error>> = vec![
                Ok(Bytes::from_static(
                    b"{\"id\":\"msg_1\",\"type\":\"message\",\"content\":[",
                )),
                Err(std::io::Error::new(
                    std::io::ErrorKind::ConnectionReset,
                    "fake: connection cut",
                )),
            ];
            Response::builder()
                .header("content-type", "application/json")
                .body(Body::from_stream(futures_util::stream::iter(chunks)))
                .unwrap()
        }
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
