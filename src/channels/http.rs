//! The HTTP client every channel uses.

use std::sync::Once;
use std::time::Duration;

static CRYPTO: Once = Once::new();

/// reqwest is built with `rustls-no-provider`, so one process-wide rustls
/// crypto provider must be installed before the first client; doing it here
/// once keeps every caller free of that detail.
pub fn install_crypto_provider() {
    CRYPTO.call_once(|| {
        // An error means another provider is installed already, which is fine.
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

/// A client with a whole-request `timeout` (long polls pass a longer one per request).
pub fn client(timeout: Duration) -> Result<reqwest::Client, reqwest::Error> {
    install_crypto_provider();
    reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(Duration::from_secs(10).min(timeout))
        .user_agent(concat!("zeroclaw/", env!("CARGO_PKG_VERSION")))
        .build()
}
