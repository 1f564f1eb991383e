//! SearXNG's JSON API: `GET <base_url>/search?q=...&format=json` (the
//! instance must list `json` in `search.formats`, or it answers 403).

use super::Hit;
use reqwest::Url;
use serde::Deserialize;

#[derive(Deserialize)]
struct Answer {
    results: Vec<Result>,
}

#[derive(Deserialize)]
struct Result {
    url: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    content: Option<String>,
}

/// The search URL under `base` (which may carry a path prefix).
pub fn url(base: &Url, query: &str) -> std::result::Result<Url, String> {
    let mut url = base.clone();
    if !url.path().ends_with('/') {
        url.set_path(&format!("{}/", url.path()));
    }
    let mut url = url
        .join("search")
        .map_err(|e| format!("cannot build the SearXNG URL from {base}: {e}"))?;
    url.query_pairs_mut()
        .append_pair("q", query)
        .append_pair("format", "json");
    Ok(url)
}

pub fn parse(body: &[u8]) -> std::result::Result<Vec<Hit>, String> {
    let answer: Answer = serde_json::from_slice(body)
        .map_err(|e| format!("SearXNG answered something that is not its JSON format ({e})"))?;
    Ok(answer
        .results
        .into_iter()
        .map(|r| Hit {
            title: r.title,
            url: r.url,
            snippet: r.content.unwrap_or_default(),
        })
        .collect())
}

/// What an error status means for an operator running SearXNG.
pub fn hint(status: u16) -> &'static str {
    match status {
        403 => "; enable `json` under `search.formats` in the SearXNG settings",
        429 => {
            "; the instance's limiter refused the request (set `server.limiter: false` for a private instance)"
        }
        _ => "",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_and_parse() {
        let base = Url::parse("http://127.0.0.1:8888/searx").unwrap();
        assert_eq!(
            url(&base, "rust 2.0 & more").unwrap().as_str(),
            "http://127.0.0.1:8888/searx/search?q=rust+2.0+%26+more&format=json"
        );
        let hits = parse(
            br#"{"query":"q","number_of_results":0,"results":[
            {"url":"https://a.example/","title":"A","content":"about a","engine":"duckduckgo"},
            {"url":"https://b.example/","title":"B"}],"answers":[],"suggestions":[]}"#,
        )
        .unwrap();
        assert_eq!(hits.len(), 2);
        assert_eq!(hits[0].snippet, "about a");
        assert!(parse(b"<html>").unwrap_err().contains("not its JSON"));
    }
}
