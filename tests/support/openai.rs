//! A fake OpenAI-compatible chat-completions server on 127.0.0.1: scripted
//! replies in the real wire format (`choices`, `tool_calls` with JSON-string
//! `arguments`, `{"error":{...}}` bodies, `x-request-id`, `retry-after-ms`),
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

#[derive(Debug, Clone)]
pub struct Recorded {
    pub headers: HeaderMap,
    pub body: Value,
}

#[derive(Default)]
struct Inner {
    steps: Mutex<VecDeque<Step>>,
    requests: Mutex<Vec<Recorded>>,
    /// Every answer waits a random time in this range (milliseconds): a slow model.
    latency_ms: Mutex<Option<(u64, u64)>>,
}

pub struct Fake {
    pub base_url: String,
    inner: Arc<Inner>,
}

impl Fake {
    pub async fn start(steps: Vec<Step>) -> Fake {
        let inner = Arc::new(Inner {
            steps: Mutex::new(steps.into()),
            requests: Mutex::new(Vec::new()),
            latency_ms: Mutex::new(None),
        });
        let app = Router::new()
            .route("/v1/chat/completions", post(completions))
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

    pub fn requests(&self) -> Vec<Recorded> {
        self.inner.requests.lock().unwrap().clone()
    }

    pub fn hits(&self) -> usize {
        self.inner.requests.lock().unwrap().len()
    }

    /// From now on every answer comes after a random delay in `min_ms..=max_ms`.
    pub fn set_latency_ms(&self, min_ms: u64, max_ms: u64) {
        *self.inner.latency_ms.lock().unwrap() = Some((min_ms, max_ms.max(min_ms)));
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
    let mut r = (
        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        axum::Json(body),
    )
        .into_response();
    r.headers_mut()
        .insert("x-request-id", request_id.parse().unwrap());
    r
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

async fn completions(State(inner): State<Arc<Inner>>, headers: HeaderMap, body: Bytes) -> Response {
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let n = {
        let mut reqs = inner.requests.lock().unwrap();
        reqs.push(Recorded {
            headers: headers.clone(),
            body: body.clone(),
        });
        reqs.len()
    };
    let request_id = format!("req_oai_{n}");
    let latency = *inner.latency_ms.lock().unwrap();
    if let Some((min, max)) = latency {
        let ms = rand::Rng::random_range(&mut rand::rng(), min..=max);
        tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
    }
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
    let completion = |message: Value, finish: &str| {
        let mut r = axum::Json(json!({
            "id": format!("chatcmpl-{n}"),
            "object": "chat.completion",
            "created": 1_700_000_000,
            "model": model,
            "choices": [{"index": 0, "message": message, "logprobs": null, "finish_reason": finish}],
            "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15},
        }))
        .into_response();
        r.headers_mut()
            .insert("x-request-id", request_id.parse().unwrap());
        r
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
                r.headers_mut().insert("retry-after", ra.parse().unwrap());
            }
            if let Some(ms) = retry_after_ms {
                r.headers_mut()
                    .insert("retry-after-ms", ms.parse().unwrap());
            }
            r
        }
        Step::Malformed => (
            [("content-type", "application/json")],
            "<html><body>502 Bad Gateway</body></html>",
        )
            .into_response(),
        Step::DropMidBody => {
            let chunks: Vec<Result<Bytes, std::io::Error>> = vec![
                Ok(Bytes::from_static(
                    b"{\"id\":\"chatcmpl-1\",\"choices\":[{\"index\":0,",
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
