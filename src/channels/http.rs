//! The HTTP client every channel uses, from the one place clients are built.

use std::time::Duration;

/// A client with a whole-request `timeout` (long polls pass a longer one per request).
pub fn client(timeout: Duration) -> Result<reqwest::Client, reqwest::Error> {
    crate::http::client_with_timeout(timeout)
}
