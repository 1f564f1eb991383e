//! The CLI side: one request, one reply, over the daemon's socket. Blocking,
//! because the CLI has no runtime and needs none for one round trip.

use super::call::Call;
use super::protocol::ControlError;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use std::io::{BufRead, BufReader, ErrorKind, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::Duration;

/// How long a client waits for a reply; `cron run` passes its own.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

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

/// Send `call` and wait for the reply's `result`, as the daemon sent it
/// (what `--json` prints).
pub fn call(socket: &Path, call: &Call) -> Result<Value, ClientError> {
    call_with_timeout(socket, call, DEFAULT_TIMEOUT)
}

/// As [`call`], with an explicit reply timeout.
pub fn call_with_timeout(
    socket: &Path,
    call: &Call,
    timeout: Duration,
) -> Result<Value, ClientError> {
    request_with_timeout(socket, call.method(), call.params(), timeout)
}

/// As [`call`], decoding the result into its typed reply (`StatusReply`, ...).
pub fn call_as<T: DeserializeOwned>(socket: &Path, call: &Call) -> Result<T, ClientError> {
    call_as_with_timeout(socket, call, DEFAULT_TIMEOUT)
}

/// As [`call_as`], with an explicit reply timeout.
pub fn call_as_with_timeout<T: DeserializeOwned>(
    socket: &Path,
    call: &Call,
    timeout: Duration,
) -> Result<T, ClientError> {
    let result = call_with_timeout(socket, call, timeout)?;
    serde_json::from_value(result).map_err(|e| ClientError::Protocol(e.to_string()))
}

/// Send `method` with `params` as they are (scripts, benchmarks, methods
/// this build does not know) and wait for the reply.
pub fn request(socket: &Path, method: &str, params: Value) -> Result<Value, ClientError> {
    request_with_timeout(socket, method, params, DEFAULT_TIMEOUT)
}

/// As [`request`], with an explicit reply timeout.
pub fn request_with_timeout(
    socket: &Path,
    method: &str,
    params: Value,
    timeout: Duration,
) -> Result<Value, ClientError> {
    let path = socket.display().to_string();
    let io = |source| ClientError::Io {
        path: path.clone(),
        source,
    };
    let mut stream = match UnixStream::connect(socket) {
        Ok(s) => s,
        Err(e) if matches!(e.kind(), ErrorKind::NotFound | ErrorKind::ConnectionRefused) => {
            return Err(ClientError::NotRunning(path));
        }
        Err(e) => return Err(io(e)),
    };
    stream.set_read_timeout(Some(timeout)).map_err(io)?;
    stream.set_write_timeout(Some(timeout)).map_err(io)?;
    let mut line = json!({"id": 1, "method": method, "params": params}).to_string();
    line.push('\n');
    stream.write_all(line.as_bytes()).map_err(io)?;
    let mut reply = String::new();
    BufReader::new(&stream).read_line(&mut reply).map_err(io)?;
    if reply.is_empty() {
        return Err(ClientError::Protocol(
            "the daemon closed the connection without a reply".into(),
        ));
    }
    parse_reply(&reply)
}

fn parse_reply(reply: &str) -> Result<Value, ClientError> {
    let mut v: Value =
        serde_json::from_str(reply).map_err(|e| ClientError::Protocol(e.to_string()))?;
    match v.get("ok").and_then(Value::as_bool) {
        Some(true) => Ok(v.get_mut("result").map(Value::take).unwrap_or(Value::Null)),
        Some(false) => {
            let err = v
                .get_mut("error")
                .map(Value::take)
                .and_then(|e| serde_json::from_value::<ControlError>(e).ok())
                .unwrap_or_else(|| ControlError::internal("error reply without details"));
            Err(ClientError::Remote(err))
        }
        None => Err(ClientError::Protocol(format!("no `ok` field in {reply}"))),
    }
}
