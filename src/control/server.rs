//! The socket side of the control protocol: accept, check the peer, read
//! newline-delimited JSON requests, answer each with one line.

use super::dispatch::dispatch;
use super::protocol::{ControlError, PROTOCOL_VERSION, Request};
use crate::daemon::Ctx;
use serde_json::{Value, json};
use std::future::Future;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{UnixListener, UnixStream};

/// A request line longer than this is refused (and the connection closed):
/// no legitimate request comes near it, and it bounds memory per client.
pub const MAX_REQUEST_BYTES: usize = 64 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum BindError {
    #[error(
        "another zeroclaw (pid {pid}) is already answering on the control socket {path}; stop it first (`zeroclaw stop --config ...`) or give this instance its own [daemon] state_dir"
    )]
    InUse { path: String, pid: String },
    #[error("cannot create control socket {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
}

/// Bind the socket at `path` with mode 0600. A live socket (another daemon
/// answering) is never removed; a stale one (nobody listening) is replaced.
pub fn bind(path: &Path) -> Result<UnixListener, BindError> {
    let io = |source| BindError::Io {
        path: path.display().to_string(),
        source,
    };
    check_free(path)?;
    if path.exists() {
        std::fs::remove_file(path).map_err(io)?;
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(io)?;
    }
    // Bind under a umask-independent mode: create, then tighten before anyone
    // can have been told the path (the state dir is 0700 as well).
    let listener = UnixListener::bind(path).map_err(io)?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).map_err(io)?;
    Ok(listener)
}

/// Fail if a live daemon answers on `path` (a stale socket file is fine).
pub fn check_free(path: &Path) -> Result<(), BindError> {
    if path.exists() && std::os::unix::net::UnixStream::connect(path).is_ok() {
        let pid = super::client::request(path, "status", json!({}))
            .ok()
            .and_then(|v| v.get("pid").map(|p| p.to_string()))
            .unwrap_or_else(|| "unknown".into());
        return Err(BindError::InUse {
            path: path.display().to_string(),
            pid,
        });
    }
    Ok(())
}

/// Serve until `shutdown` resolves. Each connection runs in its own task.
pub async fn serve(listener: UnixListener, ctx: Ctx, shutdown: impl Future<Output = ()>) {
    tokio::pin!(shutdown);
    let my_uid = nix::unistd::getuid().as_raw();
    loop {
        tokio::select! {
            _ = &mut shutdown => return,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    let allowed = match stream.peer_cred() {
                        Ok(cred) => cred.uid() == my_uid || cred.uid() == 0,
                        Err(_) => false,
                    };
                    let ctx = ctx.clone();
                    tokio::spawn(async move {
                        if allowed {
                            connection(stream, ctx).await;
                        } else {
                            tracing::warn!("control socket: refused a client of another user");
                            refuse(stream).await;
                        }
                    });
                }
                Err(e) => {
                    tracing::warn!(error = %e, "control socket accept failed");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                }
            }
        }
    }
}

async fn refuse(mut stream: UnixStream) {
    let reply = error_reply(
        Value::Null,
        ControlError::new(
            "permission_denied",
            "the control socket only serves the daemon's own user and root",
        ),
    );
    let _ = stream.write_all(reply.as_bytes()).await;
}

async fn connection(stream: UnixStream, ctx: Ctx) {
    let (read, mut write) = stream.into_split();
    let mut reader = BufReader::new(read);
    let mut line = Vec::new();
    loop {
        line.clear();
        let n = match (&mut reader)
            .take(MAX_REQUEST_BYTES as u64 + 1)
            .read_until(b'\n', &mut line)
            .await
        {
            Ok(n) => n,
            Err(_) => return,
        };
        if n == 0 {
            return;
        }
        if line.len() > MAX_REQUEST_BYTES && !line.ends_with(b"\n") {
            let reply = error_reply(
                Value::Null,
                ControlError::bad_request(format!(
                    "request longer than {MAX_REQUEST_BYTES} bytes; connection closed"
                )),
            );
            let _ = write.write_all(reply.as_bytes()).await;
            return;
        }
        let reply = answer(&ctx, &line).await;
        if write.write_all(reply.as_bytes()).await.is_err() {
            return;
        }
    }
}

/// One request line in, one reply line out (with the trailing newline).
pub async fn answer(ctx: &Ctx, line: &[u8]) -> String {
    let request = match parse_request(line) {
        Ok(r) => r,
        Err(e) => return error_reply(salvage_id(line), e),
    };
    let result = if request.method == "version" {
        Ok(json!({"protocol": PROTOCOL_VERSION, "version": crate::VERSION}))
    } else {
        dispatch(ctx, &request.method, request.params).await
    };
    match result {
        Ok(result) => ok_reply(request.id, result),
        Err(e) => error_reply(request.id, e),
    }
}

/// Decode one request line. Pure (no daemon needed) so it can be fuzzed and
/// unit-tested: every byte sequence gives a request or a `bad_request`.
pub fn parse_request(line: &[u8]) -> Result<Request, ControlError> {
    let text = String::from_utf8_lossy(line);
    let text = text.trim();
    if text.is_empty() {
        return Err(ControlError::bad_request("empty request"));
    }
    serde_json::from_str(text).map_err(|e| {
        ControlError::bad_request(format!(
            "malformed request: {e}; expected {{\"id\":..,\"method\":\"..\",\"params\":{{..}}}}"
        ))
    })
}

/// The `id` of a request that failed to parse, when the line is a JSON object
/// with a bad shape, so the client can still match the error to its request.
pub fn salvage_id(line: &[u8]) -> Value {
    serde_json::from_slice::<Value>(String::from_utf8_lossy(line).trim().as_bytes())
        .ok()
        .and_then(|v| v.get("id").cloned())
        .unwrap_or(Value::Null)
}

// Every reply has its known secrets masked: status details and exit reasons
// carry error texts from anywhere in the daemon.
fn ok_reply(id: Value, result: Value) -> String {
    let mut s =
        crate::secrets::redact_string(json!({"id": id, "ok": true, "result": result}).to_string());
    s.push('\n');
    s
}

fn error_reply(id: Value, error: ControlError) -> String {
    let mut s =
        crate::secrets::redact_string(json!({"id": id, "ok": false, "error": error}).to_string());
    s.push('\n');
    s
}

/// Where the socket of a config lives (so the daemon and every client agree).
pub fn socket_path(config: &crate::config::Config) -> PathBuf {
    config.control_socket()
}

#[cfg(test)]
mod tests {
    use super::{parse_request, salvage_id};
    use serde_json::json;

    #[test]
    fn parse_request_accepts_a_request_and_refuses_the_rest() {
        let r = parse_request(b" {\"id\":1,\"method\":\"status\"}\n").unwrap();
        assert_eq!((r.id, r.method.as_str()), (json!(1), "status"));
        assert_eq!(parse_request(b"  \n").unwrap_err().message, "empty request");
        let e = parse_request(b"{\"id\":7,\"method\":3}").unwrap_err();
        assert_eq!(e.code, "bad_request");
        assert_eq!(salvage_id(b"{\"id\":7,\"method\":3}"), json!(7));
        assert_eq!(salvage_id(b"\xff\xfe"), json!(null));
    }
}
