//! The `web_search` tool: a query to the search backend the operator chose
//! (`[tools.web_search] backend`), answered as titles, URLs and snippets.
//!
//! The backend is the operator's choice and address, so it is not subject to
//! `web_fetch`'s egress policy (a SearXNG instance on the LAN is normal).
//! Its failures become tool errors that say what to fix; 429 and 5xx are
//! retried a bounded number of times.

pub mod brave;
pub mod searxng;

use super::ToolOutput;
use super::web_fetch::{body, describe};
use crate::agent::http::ClientError;
use crate::agent::message::{PROVIDER_TOOL, ToolSpec};
use crate::config::{SearchBackend, Secret, WebSearchToolConfig};
use reqwest::Url;
use reqwest::header::{ACCEPT, HeaderMap, RETRY_AFTER};
use serde_json::{Value, json};
use std::time::Duration;
use tokio::time::Instant;

/// A backend's answer is read up to this size.
const MAX_ANSWER: usize = 1024 * 1024;
/// A backend asking to wait longer than this is not waited for.
const MAX_WAIT: Duration = Duration::from_secs(10);
const DEFAULT_COUNT: usize = 5;

/// One search result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hit {
    pub title: String,
    pub url: String,
    pub snippet: String,
}

#[derive(Debug, Clone)]
enum Backend {
    Searxng(Url),
    Brave(Url, Secret),
    /// Run by Anthropic inside the model's turn; never called here.
    Anthropic,
}

/// Anthropic's server-side web search tool, as its Messages API names it.
pub const ANTHROPIC_TOOL_TYPE: &str = "web_search_20250305";

/// `[tools.web_search]` made ready to run.
#[derive(Debug, Clone)]
pub struct WebSearchTool {
    /// `Err` says what is missing from the config.
    backend: Result<Backend, String>,
    client: reqwest::Client,
    timeout: Duration,
    max_results: usize,
    max_retries: u32,
}

/// What one attempt came to.
enum Attempt {
    Done(Vec<Hit>),
    /// Worth another try after the wait (429, 5xx, a dropped connection).
    Retry(String, Option<Duration>),
    Fail(String),
}

fn backend(config: &WebSearchToolConfig) -> Result<Backend, String> {
    let base = |default: Option<&str>| -> Result<Url, String> {
        let text = config.base_url.as_deref().or(default).ok_or_else(|| {
            "set [tools.web_search] base_url to the SearXNG instance (e.g. \"http://127.0.0.1:8888\")"
                .to_string()
        })?;
        Url::parse(text)
            .map_err(|e| format!("[tools.web_search] base_url `{text}` is not a URL: {e}"))
    };
    match config.backend {
        None => Err(
            "no search backend is configured; set [tools.web_search] backend = \
                     \"searxng\" or \"brave\""
                .to_string(),
        ),
        Some(SearchBackend::Searxng) => Ok(Backend::Searxng(base(None)?)),
        Some(SearchBackend::Brave) => {
            let key = config
                .api_key
                .clone()
                .filter(|k| !k.is_blank())
                .ok_or("set [tools.web_search] api_key to the Brave Search API key")?;
            Ok(Backend::Brave(base(Some(brave::DEFAULT_BASE))?, key))
        }
        Some(SearchBackend::Anthropic) => Ok(Backend::Anthropic),
    }
}

/// Seconds in `Retry-After`, or else the first of Brave's `X-RateLimit-Reset`.
fn wait_asked(headers: &HeaderMap) -> Option<Duration> {
    let secs = |name| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').next())
            .and_then(|v| v.trim().parse::<u64>().ok())
    };
    secs(RETRY_AFTER.as_str())
        .or_else(|| secs("x-ratelimit-reset"))
        .map(Duration::from_secs)
}

impl WebSearchTool {
    pub fn new(config: &WebSearchToolConfig) -> Result<Self, ClientError> {
        Ok(Self {
            backend: backend(config),
            client: crate::agent::http::client()?,
            timeout: config.timeout,
            max_results: config.max_results.max(1),
            max_retries: config.max_retries,
        })
    }

    /// Why the tool cannot run as configured, if it cannot (for `doctor`).
    pub fn config_problem(&self) -> Option<&str> {
        self.backend.as_ref().err().map(String::as_str)
    }

    /// True when Anthropic runs the searches (nothing to probe from here).
    pub fn runs_at_provider(&self) -> bool {
        matches!(self.backend, Ok(Backend::Anthropic))
    }

    pub fn spec(&self) -> ToolSpec {
        if self.runs_at_provider() {
            let max_uses = u32::try_from(self.max_results).unwrap_or(u32::MAX);
            return ToolSpec {
                name: "web_search".into(),
                description: "Anthropic's server-side web search".into(),
                schema: json!({ PROVIDER_TOOL: {
                    "type": ANTHROPIC_TOOL_TYPE, "name": "web_search", "max_uses": max_uses
                }}),
            };
        }
        ToolSpec {
            name: "web_search".into(),
            description: format!(
                "Search the web. Returns up to {} results, each with title, URL and snippet; \
                 read a result with web_fetch.",
                self.max_results
            ),
            schema: json!({
                "type": "object",
                "properties": {
                    "query": {"type": "string", "description": "What to search for"},
                    "count": {"type": "integer", "minimum": 1, "maximum": self.max_results,
                              "description": "How many results (default 5)"}
                },
                "required": ["query"]
            }),
        }
    }

    /// Run the tool with the model's input (`{"query": "...", "count": n}`).
    pub async fn call(&self, input: &Value) -> ToolOutput {
        let (query, count) = match input {
            Value::Object(map) => (
                map.get("query").and_then(Value::as_str),
                map.get("count").and_then(Value::as_u64),
            ),
            Value::String(s) => (Some(s.as_str()), None),
            _ => (None, None),
        };
        let Some(query) = query.map(str::trim).filter(|q| !q.is_empty()) else {
            return ToolOutput::error("invalid input: expected {\"query\": \"...\", \"count\": 5}");
        };
        let count = count
            .and_then(|c| usize::try_from(c).ok())
            .unwrap_or(DEFAULT_COUNT)
            .clamp(1, self.max_results);
        match self.search(query, count).await {
            Ok(hits) => ToolOutput {
                content: render(query, &hits),
                is_error: false,
            },
            Err(e) => ToolOutput::error(e),
        }
    }

    /// Up to `count` results for `query`, retrying 429 and 5xx answers.
    pub async fn search(&self, query: &str, count: usize) -> Result<Vec<Hit>, String> {
        let backend = self.backend.as_ref().map_err(Clone::clone)?;
        let mut last = String::new();
        for attempt in 0..=self.max_retries {
            match self.attempt(backend, query, count).await {
                Attempt::Done(mut hits) => {
                    hits.truncate(count);
                    return Ok(hits);
                }
                Attempt::Fail(e) => return Err(e),
                Attempt::Retry(e, wait) => {
                    let wait = wait.unwrap_or(Duration::from_millis(500 << attempt.min(4)));
                    if wait > MAX_WAIT {
                        return Err(format!(
                            "{e}; the backend asks to wait {}s, try again later",
                            wait.as_secs()
                        ));
                    }
                    last = e;
                    if attempt < self.max_retries {
                        tokio::time::sleep(wait).await;
                    }
                }
            }
        }
        Err(format!(
            "{last} (tried {} times)",
            u64::from(self.max_retries) + 1
        ))
    }

    async fn attempt(&self, backend: &Backend, query: &str, count: usize) -> Attempt {
        let (name, request) = match backend {
            Backend::Anthropic => {
                return Attempt::Fail(
                    "backend = \"anthropic\" searches inside Anthropic's models only; this \
                     request uses another provider (set the job's provider to anthropic, or \
                     choose backend \"searxng\" or \"brave\")"
                        .to_string(),
                );
            }
            Backend::Searxng(base) => match searxng::url(base, query) {
                Ok(u) => ("SearXNG", self.client.get(u)),
                Err(e) => return Attempt::Fail(e),
            },
            Backend::Brave(base, key) => match brave::url(base, query, count) {
                Ok(u) => (
                    "Brave",
                    self.client
                        .get(u)
                        .header("X-Subscription-Token", key.expose()),
                ),
                Err(e) => return Attempt::Fail(e),
            },
        };
        let deadline = Instant::now() + self.timeout;
        let sent =
            tokio::time::timeout_at(deadline, request.header(ACCEPT, "application/json").send())
                .await;
        let response = match sent {
            Err(_) => return Attempt::Retry(format!("{name} did not answer in time"), None),
            Ok(Err(e)) => {
                return Attempt::Retry(format!("{name} cannot be reached: {}", describe(&e)), None);
            }
            Ok(Ok(r)) => r,
        };
        let status = response.status();
        let wait = wait_asked(response.headers());
        let body = match body::read(response, MAX_ANSWER, deadline).await {
            Ok(b) => b.bytes,
            Err(e) => return Attempt::Retry(format!("{name}: {e}"), None),
        };
        if status.is_success() {
            let parsed = match backend {
                Backend::Brave(..) => brave::parse(&body),
                _ => searxng::parse(&body),
            };
            return match parsed {
                Ok(hits) => Attempt::Done(hits),
                Err(e) => Attempt::Fail(e),
            };
        }
        let detail = brave::error_detail(&body)
            .map(|d| format!(" ({d})"))
            .unwrap_or_default();
        let code = status.as_u16();
        let hint = match backend {
            Backend::Brave(..) if code == 401 || code == 403 => {
                "; check [tools.web_search] api_key"
            }
            Backend::Brave(..) => "",
            _ => searxng::hint(code),
        };
        let message = format!("{name} answered {status}{detail}{hint}");
        match code {
            429 => Attempt::Retry(format!("{name} is rate-limiting: {message}"), wait),
            500..=599 => Attempt::Retry(message, wait),
            _ => Attempt::Fail(message),
        }
    }
}

/// The results as the model reads them.
fn render(query: &str, hits: &[Hit]) -> String {
    if hits.is_empty() {
        return format!("No results for \"{query}\".");
    }
    let mut out = format!("Results for \"{query}\":\n");
    for (i, h) in hits.iter().enumerate() {
        out.push_str(&format!(
            "{}. {}\n   URL: {}\n",
            i + 1,
            h.title.trim(),
            h.url
        ));
        let snippet = h.snippet.split_whitespace().collect::<Vec<_>>().join(" ");
        if !snippet.is_empty() {
            out.push_str(&format!("   {snippet}\n"));
        }
    }
    out
}
