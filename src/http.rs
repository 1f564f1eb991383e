//! The one place an outgoing HTTP client is built.
//!
//! reqwest is compiled with `rustls-no-provider`, so a crypto provider must be
//! installed process-wide before the first client is built
//! ([`crate::tls::install_crypto_provider`]); building clients here means no
//! caller (agent, channels, `auth status`, the gateway's port probe) can
//! forget it, every client sends the same user agent, and all of them share
//! one TLS configuration whose system roots are read once ([`crate::tls`]).

use std::time::Duration;

/// Connect timeout of every client (capped by a shorter whole-request timeout).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Why a client could not be built (TLS backend initialisation failed).
#[derive(Debug, thiserror::Error)]
#[error("cannot initialise the HTTP client: {0}")]
pub struct ClientError(#[from] reqwest::Error);

/// A builder with the provider installed, the user agent and the connect
/// timeout set, for callers that need more (a probe's `no_proxy`).
pub fn builder() -> reqwest::ClientBuilder {
    match crate::tls::client_config() {
        Ok(tls) => unverified_builder().tls_backend_preconfigured(tls),
        Err(_) => unverified_builder(),
    }
}

/// A builder that keeps reqwest's own TLS settings, for the one caller that
/// turns certificate checks off (the probe of our own port, which may serve
/// a self-signed certificate): a preconfigured TLS setup would ignore that.
pub fn unverified_builder() -> reqwest::ClientBuilder {
    crate::tls::install_crypto_provider();
    reqwest::Client::builder()
        .user_agent(concat!("zeroclaw/", env!("CARGO_PKG_VERSION")))
        .connect_timeout(CONNECT_TIMEOUT)
}

/// A client without a whole-request timeout: callers set one per request
/// because they differ (LLM calls take minutes, probes seconds).
pub fn client() -> Result<reqwest::Client, ClientError> {
    Ok(builder().build()?)
}

/// A client with a whole-request `timeout` (long polls pass a longer one per request).
pub fn client_with_timeout(timeout: Duration) -> Result<reqwest::Client, reqwest::Error> {
    builder()
        .timeout(timeout)
        .connect_timeout(CONNECT_TIMEOUT.min(timeout))
        .build()
}
