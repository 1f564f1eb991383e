//! The `web_search` tool against fake SearXNG and Brave backends speaking
//! their JSON: results as title, URL and snippet; 401, 429 with a wait, 5xx
//! and malformed answers as clear tool errors, retried where that helps.

mod support;

use std::time::{Duration, Instant};
use support::search::{BRAVE_KEY, Failure, FakeSearch, result};
use zeroclaw::agent::tools::web_search::WebSearchTool;
use zeroclaw::config::{SearchBackend, Secret, WebSearchToolConfig};

fn results() -> Vec<support::search::Result> {
    (1..=8)
        .map(|i| {
            result(
                &format!("Story {i}"),
                &format!("https://news.example/{i}"),
                &format!("snippet {i}"),
            )
        })
        .collect()
}

fn searxng(fake: &FakeSearch) -> WebSearchTool {
    WebSearchTool::new(&WebSearchToolConfig {
        backend: Some(SearchBackend::Searxng),
        base_url: Some(fake.base_url.clone()),
        ..Default::default()
    })
    .unwrap()
}

fn brave(fake: &FakeSearch, key: &str) -> WebSearchTool {
    WebSearchTool::new(&WebSearchToolConfig {
        backend: Some(SearchBackend::Brave),
        base_url: Some(fake.base_url.clone()),
        api_key: Some(Secret::new(key)),
        ..Default::default()
    })
    .unwrap()
}

async fn search(t: &WebSearchTool, input: serde_json::Value) -> (bool, String) {
    let out = t.call(&input).await;
    (out.is_error, out.content)
}

#[tokio::test]
async fn searxng_results_are_titles_urls_and_snippets() {
    let fake = FakeSearch::searxng(results()).await;
    let t = searxng(&fake);
    let (err, text) = search(&t, serde_json::json!({"query": "tech news", "count": 3})).await;
    assert!(!err, "{text}");
    assert!(
        text.contains("1. Story 1\n   URL: https://news.example/1\n   snippet 1"),
        "{text}"
    );
    assert!(
        text.contains("3. Story 3") && !text.contains("Story 4"),
        "{text}"
    );
    let q = &fake.queries()[0];
    assert_eq!(q["q"], "tech news");
    assert_eq!(q["format"], "json");
    // Asking for more than max_results gets max_results.
    let (_, text) = search(&t, serde_json::json!({"query": "x", "count": 500})).await;
    assert!(text.contains("8. Story 8"), "{text}");
    let (err, text) = search(&t, serde_json::json!({"query": "  "})).await;
    assert!(err && text.contains("expected {\"query\""), "{text}");
}

#[tokio::test]
async fn searxng_failures_are_retried_or_explained() {
    let fake = FakeSearch::searxng(results()).await;
    let t = searxng(&fake);
    // 429 with Retry-After: 1, then a 502: both retried, then answered.
    fake.fail_next([Failure::RateLimited(1), Failure::Status(502)]);
    let started = Instant::now();
    let (err, text) = search(&t, serde_json::json!({"query": "q"})).await;
    assert!(!err && text.contains("Story 1"), "{text}");
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "Retry-After was not waited"
    );
    assert_eq!(fake.queries().len(), 3);
    // Three 503s: retried twice (max_retries = 2), then a clear error.
    fake.fail_next([
        Failure::Status(503),
        Failure::Status(503),
        Failure::Status(503),
    ]);
    let (err, text) = search(&t, serde_json::json!({"query": "q"})).await;
    assert!(
        err && text.contains("503") && text.contains("tried 3 times"),
        "{text}"
    );
    // A wait longer than we accept is not waited for.
    fake.fail_next([Failure::RateLimited(3600)]);
    let started = Instant::now();
    let (err, text) = search(&t, serde_json::json!({"query": "q"})).await;
    assert!(
        err && text.contains("rate-limiting") && text.contains("3600s"),
        "{text}"
    );
    assert!(started.elapsed() < Duration::from_secs(5));
    // Malformed JSON: not retried.
    let before = fake.queries().len();
    fake.fail_next([Failure::Malformed]);
    let (err, text) = search(&t, serde_json::json!({"query": "q"})).await;
    assert!(err && text.contains("not its JSON format"), "{text}");
    assert_eq!(fake.queries().len(), before + 1);
    // 403 (json not enabled on the instance) says what to change.
    fake.fail_next([Failure::Status(403)]);
    let (err, text) = search(&t, serde_json::json!({"query": "q"})).await;
    assert!(err && text.contains("search.formats"), "{text}");
}

#[tokio::test]
async fn brave_results_keys_and_rate_limits() {
    let fake = FakeSearch::brave(results()).await;
    let t = brave(&fake, BRAVE_KEY);
    let (err, text) = search(&t, serde_json::json!({"query": "rust", "count": 2})).await;
    assert!(!err, "{text}");
    assert!(
        text.contains("2. Story 2\n   URL: https://news.example/2\n   snippet 2"),
        "{text}"
    );
    assert_eq!(fake.queries()[0]["count"], "2");
    fake.fail_next([Failure::RateLimited(1)]);
    let (err, text) = search(&t, serde_json::json!({"query": "rust"})).await;
    assert!(!err && text.contains("Story 1"), "{text}");
    fake.fail_next([Failure::Malformed]);
    let (err, text) = search(&t, serde_json::json!({"query": "rust"})).await;
    assert!(
        err && text.contains("Brave answered something that is not its JSON"),
        "{text}"
    );

    let wrong = brave(&fake, "BSA-wrong");
    let before = fake.queries().len();
    let (err, text) = search(&wrong, serde_json::json!({"query": "rust"})).await;
    assert!(err, "{text}");
    assert!(
        text.contains("401") && text.contains("SUBSCRIPTION_TOKEN_INVALID"),
        "{text}"
    );
    assert!(text.contains("api_key"), "{text}");
    assert_eq!(fake.queries().len(), before + 1, "a 401 is not retried");
}

#[tokio::test]
async fn an_unconfigured_or_unreachable_backend_is_a_tool_error() {
    let t = WebSearchTool::new(&WebSearchToolConfig::default()).unwrap();
    let (err, text) = search(&t, serde_json::json!({"query": "q"})).await;
    assert!(err && text.contains("backend"), "{text}");
    let t = WebSearchTool::new(&WebSearchToolConfig {
        backend: Some(SearchBackend::Searxng),
        base_url: Some("http://127.0.0.1:1".into()),
        max_retries: 1,
        ..Default::default()
    })
    .unwrap();
    let (err, text) = search(&t, serde_json::json!({"query": "q"})).await;
    assert!(err && text.contains("cannot be reached"), "{text}");
}
