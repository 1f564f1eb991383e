//! The HTTP client every channel uses.

use std::time::Duration;

/// A client with a whole-request `timeout` (long polls pass a longer one per request).
pub fn client(timeout: Duration) -> Result<reqwest::Client, reqwest::Error> {
    crate::tls::install_crypto_provider();
    reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(Duration::from_secs(10).min(timeout))
        .user_agent(concat!("zeroclaw/", env!("CARGO_PKG_VERSION")))
        .build()
}
