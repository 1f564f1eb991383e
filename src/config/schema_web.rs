//! `[tools.web_fetch]` and `[tools.web_search]`: the web tools' part of the
//! schema (docs/configuration.md; what they defend against: docs/security.md).

use super::types::{Secret, exact_size};
use bytesize::ByteSize;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// `[tools.web_fetch]`: what a fetched page may cost and where the tool may go.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WebFetchToolConfig {
    /// Bytes read from the body (after decompression); the rest is not read.
    #[serde(serialize_with = "exact_size")]
    pub max_bytes: ByteSize,
    /// Characters of text handed to the model; past this the text is cut with a note.
    pub max_chars: usize,
    /// The whole fetch, redirects and body included.
    #[serde(with = "humantime_serde")]
    pub timeout: Duration,
    /// `host` or `host:port` reachable even when it resolves to a private address.
    pub allowed_hosts: Vec<String>,
    /// Never fetched (the host and its subdomains).
    pub denied_hosts: Vec<String>,
    /// How long a fetched page is answered from memory; `0s` turns the cache off.
    #[serde(with = "humantime_serde")]
    pub cache_ttl: Duration,
}

impl Default for WebFetchToolConfig {
    fn default() -> Self {
        Self {
            max_bytes: ByteSize::mib(2),
            max_chars: 20_000,
            timeout: Duration::from_secs(20),
            allowed_hosts: Vec::new(),
            denied_hosts: Vec::new(),
            cache_ttl: Duration::from_secs(300),
        }
    }
}

/// `[tools.web_search]`: the search backend the operator chose.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WebSearchToolConfig {
    /// Unset: the `web_search` tool cannot run (and `config check` says so
    /// where a job or channel offers it).
    pub backend: Option<SearchBackend>,
    /// SearXNG: the instance (`https://search.example.org`); Brave: default
    /// `https://api.search.brave.com`.
    pub base_url: Option<String>,
    /// Brave's subscription token.
    pub api_key: Option<Secret>,
    #[serde(with = "humantime_serde")]
    pub timeout: Duration,
    /// Results returned at most, whatever `count` the model asks for.
    pub max_results: usize,
    /// Retries of a 429 or 5xx answer (waiting as the backend asks, bounded).
    pub max_retries: u32,
}

impl Default for WebSearchToolConfig {
    fn default() -> Self {
        Self {
            backend: None,
            base_url: None,
            api_key: None,
            timeout: Duration::from_secs(15),
            max_results: 10,
            max_retries: 2,
        }
    }
}

/// `[tools.web_search] backend`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SearchBackend {
    /// A SearXNG instance's JSON API (`format = json` enabled in its settings).
    Searxng,
    /// The Brave Search API.
    Brave,
    /// Anthropic's server-side web search: Anthropic runs the search inside
    /// the model's turn. Only where the provider is Anthropic.
    Anthropic,
}
