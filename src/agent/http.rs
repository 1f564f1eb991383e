//! The one place an outgoing HTTP client is built.
//!
//! reqwest is compiled with `rustls-no-provider`, so a crypto provider must be
//! installed process-wide before the first client is built; doing it here, once,
//! means no caller (agent, channels, `auth status`) can forget it.

use std::sync::Once;
use std::time::Duration;

static INSTALL: Once = Once::new();

/// Install rustls' `ring` provider as the process default (idempotent; another
/// component having installed one first is fine).
pub fn install_crypto_provider() {
    INSTALL.call_once(|| {
        // Err means a provider is already installed, which is what we want.
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

/// Why a client could not be built (TLS backend initialisation failed).
#[derive(Debug, thiserror::Error)]
#[error("cannot initialise the HTTP client: {0}")]
pub struct ClientError(#[from] reqwest::Error);

/// A client with sane connect timeout and user agent; per-request timeouts are
/// set by the caller because they differ (LLM calls take minutes, probes seconds).
pub fn client() -> Result<reqwest::Client, ClientError> {
    install_crypto_provider();
    Ok(reqwest::Client::builder()
        .user_agent(concat!("zeroclaw/", env!("CARGO_PKG_VERSION")))
        .connect_timeout(Duration::from_secs(10))
        .build()?)
}
