//! The Brave Search API: `GET <base_url>/res/v1/web/search?q=...&count=n`
//! with the key in `X-Subscription-Token`.

use super::Hit;
use reqwest::Url;
use serde::Deserialize;

/// Where the API lives unless `base_url` says otherwise.
pub const DEFAULT_BASE: &str = "https://api.search.brave.com";
/// Brave answers at most this many web results per request.
pub const MAX_COUNT: usize = 20;

#[derive(Deserialize)]
struct Answer {
    #[serde(default)]
    web: Option<Web>,
}

#[derive(Deserialize)]
struct Web {
    #[serde(default)]
    results: Vec<Result>,
}

#[derive(Deserialize)]
struct Result {
    url: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    description: Option<String>,
}

#[derive(Deserialize)]
struct ErrorAnswer {
    error: ErrorBody,
}

#[derive(Deserialize)]
struct ErrorBody {
    #[serde(default)]
    code: String,
    #[serde(default)]
    detail: String,
}

pub fn url(base: &Url, query: &str, count: usize) -> std::result::Result<Url, String> {
    let mut url = base
        .join("/res/v1/web/search")
        .map_err(|e| format!("cannot build the Brave URL from {base}: {e}"))?;
    url.query_pairs_mut()
        .append_pair("q", query)
        .append_pair("count", &count.min(MAX_COUNT).to_string());
    Ok(url)
}

pub fn parse(body: &[u8]) -> std::result::Result<Vec<Hit>, String> {
    let answer: Answer = serde_json::from_slice(body)
        .map_err(|e| format!("Brave answered something that is not its JSON format ({e})"))?;
    Ok(answer
        .web
        .map(|w| w.results)
        .unwrap_or_default()
        .into_iter()
        .map(|r| Hit {
            title: r.title,
            url: r.url,
            snippet: r.description.unwrap_or_default(),
        })
        .collect())
}

/// `CODE: detail` of an `ErrorResponse` body, when it is one.
pub fn error_detail(body: &[u8]) -> Option<String> {
    let e: ErrorAnswer = serde_json::from_slice(body).ok()?;
    Some(format!("{}: {}", e.error.code, e.error.detail))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_parse_and_errors() {
        let base = Url::parse("http://127.0.0.1:9/").unwrap();
        assert_eq!(
            url(&base, "今日 新闻", 50).unwrap().as_str(),
            "http://127.0.0.1:9/res/v1/web/search?q=%E4%BB%8A%E6%97%A5+%E6%96%B0%E9%97%BB&count=20"
        );
        let hits = parse(br#"{"type":"search","query":{"original":"q"},"web":{"type":"search",
            "results":[{"title":"T","url":"https://t.example/","description":"d","age":"1 day"}]}}"#)
        .unwrap();
        assert_eq!(hits[0].title, "T");
        assert!(parse(br#"{"type":"search"}"#).unwrap().is_empty());
        assert_eq!(
            error_detail(br#"{"type":"ErrorResponse","error":{"id":"x","status":401,
                "code":"SUBSCRIPTION_TOKEN_INVALID","detail":"The provided subscription token is invalid."}}"#)
            .as_deref(),
            Some("SUBSCRIPTION_TOKEN_INVALID: The provided subscription token is invalid.")
        );
    }
}
