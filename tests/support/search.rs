//! Fake search backends on 127.0.0.1 speaking their real JSON: SearXNG
//! (`GET /search?q=..&format=json`, 403 when `format` is not json, its
//! limiter's 429) and the Brave Search API (`GET /res/v1/web/search` with
//! `X-Subscription-Token`, `ErrorResponse` bodies for 401 and 429 with
//! `X-RateLimit-*` headers). Failures are scripted and consumed in order.
#![allow(dead_code)]

use axum::Router;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Value, json};
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

/// The key the fake Brave accepts.
pub const BRAVE_KEY: &str = "BSA-test-subscription-token";

/// An injected answer instead of results.
#[derive(Debug, Clone)]
pub enum Failure {
    /// 429 with `Retry-After: <secs>` (SearXNG) or `X-RateLimit-Reset` (Brave).
    RateLimited(u64),
    Status(u16),
    /// 200 with a body that is not the backend's JSON.
    Malformed,
}

/// One result the fake returns.
#[derive(Debug, Clone)]
pub struct Result {
    pub title: String,
    pub url: String,
    pub snippet: String,
}

#[derive(Default)]
pub struct Inner {
    pub results: Mutex<Vec<Result>>,
    pub failures: Mutex<VecDeque<Failure>>,
    /// Query strings received.
    pub queries: Mutex<Vec<HashMap<String, String>>>,
}

pub struct FakeSearch {
    pub base_url: String,
    pub inner: Arc<Inner>,
}

impl FakeSearch {
    async fn serve(app: Router, inner: Arc<Inner>) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        FakeSearch {
            base_url: format!("http://{addr}"),
            inner,
        }
    }

    pub async fn searxng(results: Vec<Result>) -> Self {
        let inner = Arc::new(Inner {
            results: Mutex::new(results),
            ..Default::default()
        });
        let app = Router::new()
            .route("/search", get(searxng))
            .with_state(inner.clone());
        Self::serve(app, inner).await
    }

    pub async fn brave(results: Vec<Result>) -> Self {
        let inner = Arc::new(Inner {
            results: Mutex::new(results),
            ..Default::default()
        });
        let app = Router::new()
            .route("/res/v1/web/search", get(brave))
            .with_state(inner.clone());
        Self::serve(app, inner).await
    }

    pub fn fail_next(&self, failures: impl IntoIterator<Item = Failure>) {
        self.inner.failures.lock().unwrap().extend(failures);
    }

    pub fn queries(&self) -> Vec<HashMap<String, String>> {
        self.inner.queries.lock().unwrap().clone()
    }
}

pub fn result(title: &str, url: &str, snippet: &str) -> Result {
    Result {
        title: title.into(),
        url: url.into(),
        snippet: snippet.into(),
    }
}

fn record(inner: &Inner, q: &HashMap<String, String>) -> Option<Failure> {
    inner.queries.lock().unwrap().push(q.clone());
    inner.failures.lock().unwrap().pop_front()
}

async fn searxng(
    State(inner): State<Arc<Inner>>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let failure = record(&inner, &q);
    if q.get("format").map(String::as_str) != Some("json") {
        return (StatusCode::FORBIDDEN, "403 Forbidden").into_response();
    }
    match failure {
        Some(Failure::RateLimited(secs)) => {
            return (
                StatusCode::TOO_MANY_REQUESTS,
                [("retry-after", secs.to_string())],
                "Too Many Requests",
            )
                .into_response();
        }
        Some(Failure::Status(code)) => {
            return (StatusCode::from_u16(code).unwrap(), "<html>error</html>").into_response();
        }
        Some(Failure::Malformed) => {
            return ([("content-type", "text/html")], "<html>maintenance</html>").into_response();
        }
        None => {}
    }
    let query = q.get("q").cloned().unwrap_or_default();
    let results: Vec<Value> = inner
        .results
        .lock()
        .unwrap()
        .iter()
        .map(|r| {
            json!({"url": r.url, "title": r.title, "content": r.snippet, "engine": "duckduckgo",
                   "engines": ["duckduckgo"], "positions": [1], "score": 1.0, "category": "general"})
        })
        .collect();
    axum::Json(json!({
        "query": query, "number_of_results": 0, "results": results,
        "answers": [], "corrections": [], "infoboxes": [], "suggestions": [], "unresponsive_engines": []
    }))
    .into_response()
}

fn brave_error(status: u16, code: &str, detail: &str) -> Value {
    json!({"type": "ErrorResponse", "error": {"id": "2f5f2f4e-0000-4000-8000-000000000000",
        "status": status, "code": code, "detail": detail,
        "meta": {"component": if status == 429 { "rate_limiter" } else { "authentication" }}},
        "time": 1_700_000_000})
}

async fn brave(
    State(inner): State<Arc<Inner>>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let failure = record(&inner, &q);
    if headers
        .get("x-subscription-token")
        .and_then(|v| v.to_str().ok())
        != Some(BRAVE_KEY)
    {
        return (
            StatusCode::UNAUTHORIZED,
            axum::Json(brave_error(
                401,
                "SUBSCRIPTION_TOKEN_INVALID",
                "The provided subscription token is invalid.",
            )),
        )
            .into_response();
    }
    match failure {
        Some(Failure::RateLimited(secs)) => {
            return (
                StatusCode::TOO_MANY_REQUESTS,
                [
                    ("x-ratelimit-limit", "1, 2000".to_string()),
                    ("x-ratelimit-remaining", "0, 1969".to_string()),
                    ("x-ratelimit-reset", format!("{secs}, 1419704")),
                ],
                axum::Json(brave_error(
                    429,
                    "RATE_LIMITED",
                    "Request rate limit exceeded for plan.",
                )),
            )
                .into_response();
        }
        Some(Failure::Status(code)) => {
            return (StatusCode::from_u16(code).unwrap(), "upstream error").into_response();
        }
        Some(Failure::Malformed) => return "{\"type\": \"search\", \"web\": ".into_response(),
        None => {}
    }
    let count: usize = q.get("count").and_then(|c| c.parse().ok()).unwrap_or(20);
    let results: Vec<Value> = inner
        .results
        .lock()
        .unwrap()
        .iter()
        .take(count)
        .map(|r| {
            json!({"type": "search_result", "title": r.title, "url": r.url,
                   "description": r.snippet, "is_source_local": false, "language": "en"})
        })
        .collect();
    axum::Json(json!({
        "type": "search",
        "query": {"original": q.get("q").cloned().unwrap_or_default(), "more_results_available": false},
        "mixed": {"type": "mixed", "main": []},
        "web": {"type": "search", "results": results, "family_friendly": true}
    }))
    .into_response()
}
