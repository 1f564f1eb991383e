//! The one place an outgoing HTTP client is built.
//!
//! reqwest is compiled with `rustls-no-provider`, so a crypto provider must be
//! installed process-wide before the first client is built
//! ([`crate::tls::install_crypto_provider`]); building clients here means no
//! caller (agent, `auth status`) can forget it.

use std::time::Duration;

/// Why a client could not be built (TLS backend initialisation failed).
#[derive(Debug, thiserror::Error)]
#[error("cannot initialise the HTTP client: {0}")]
pub struct ClientError(#[from] reqwest::Error);

/// A client with sane connect timeout and user agent; per-request timeouts are
/// set by the caller because they differ (LLM calls take minutes, probes seconds).
pub fn client() -> Result<reqwest::Client, ClientError> {
    Ok(builder().build()?)
}

/// The same settings, for a caller that adds its own (the `web_fetch` tool's
/// resolver and redirect policy).
pub fn builder() -> reqwest::ClientBuilder {
    crate::tls::install_crypto_provider();
    reqwest::Client::builder()
        .user_agent(concat!("zeroclaw/", env!("CARGO_PKG_VERSION")))
        .connect_timeout(Duration::from_secs(10))
}
