//! The socket side of the control protocol: accept, check the peer, read
//! newline-delimited JSON requests, answer each with one line.

use super::deps::ControlDeps;
use super::dispatch::dispatch;
use super::protocol::{ControlError, PROTOCOL_VERSION, Request};
use serde_json::{Value, json};
use std::future::Future;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore};

/// A request line longer than this is refused (and the connection closed):
/// no legitimate request comes near it, and it bounds memory per client.
pub const MAX_REQUEST_BYTES: usize = 64 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum BindError {
    #[error(
        "another zeroclaw (pid {pid}) is already answering on the control socket {path}; stop it first (`zeroclaw stop --config ...`) or give this instance its own [daemon] state_dir"
    )]
    InUse { path: String, pid: String },
    #[error(
        "the control socket path {path} exists and is {kind}, not a socket; zeroclaw never \
         removes it: move it away, or set [daemon] control_socket to another path"
    )]
    NotASocket { path: String, kind: &'static str },
    #[error("cannot create control socket {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
}

/// Bind the socket at `path` with mode 0600. A live socket (another daemon
/// answering) is never removed; a stale one (nobody listening) is replaced;
/// anything that is not a socket (a file, a symlink, a directory) is left
/// alone and refused.
pub fn bind(path: &Path) -> Result<UnixListener, BindError> {
    let io = |source| BindError::Io {
        path: path.display().to_string(),
        source,
    };
    check_free(path)?;
    if std::fs::symlink_metadata(path).is_ok() {
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

/// Fail if a live daemon answers on `path` (a stale socket file is fine), or
/// if `path` names something other than a socket (it would be deleted to
/// make room).
pub fn check_free(path: &Path) -> Result<(), BindError> {
    let meta = match std::fs::symlink_metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(source) => {
            return Err(BindError::Io {
                path: path.display().to_string(),
                source,
            });
        }
    };
    if let Some(kind) = not_a_socket(&meta.file_type()) {
        return Err(BindError::NotASocket {
            path: path.display().to_string(),
            kind,
        });
    }
    if std::os::unix::net::UnixStream::connect(path).is_ok() {
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

/// What the path is, when it is not a socket.
fn not_a_socket(t: &std::fs::FileType) -> Option<&'static str> {
    use std::os::unix::fs::FileTypeExt;
    if t.is_socket() {
        None
    } else if t.is_symlink() {
        Some("a symbolic link")
    } else if t.is_dir() {
        Some("a directory")
    } else if t.is_file() {
        Some("a regular file")
    } else {
        Some("a device or FIFO")
    }
}

/// Serve until `shutdown` resolves. Each connection runs in its own task,
/// at most `[daemon] control_max_connections` at once; a client idle for
/// `control_idle_timeout` is disconnected, and when every slot is taken an
/// idle one is closed to make room for the newcomer.
pub async fn serve(listener: UnixListener, ctx: ControlDeps, shutdown: impl Future<Output = ()>) {
    tokio::pin!(shutdown);
    let my_uid = nix::unistd::getuid().as_raw();
    let (max, idle) = {
        let config = ctx.config();
        (
            config.daemon.control_max_connections.max(1),
            config.daemon.control_idle_timeout,
        )
    };
    let slots = Arc::new(Semaphore::new(max));
    // Notified when a client finds every slot taken: one idle client closes
    // to make room, so a leak of idle connections cannot lock the CLI out.
    let make_room = Arc::new(Notify::new());
    loop {
        tokio::select! {
            _ = &mut shutdown => return,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    let allowed = match stream.peer_cred() {
                        Ok(cred) => cred.uid() == my_uid || cred.uid() == 0,
                        Err(_) => false,
                    };
                    if !allowed {
                        tracing::warn!("control socket: refused a client of another user");
                        tokio::spawn(refuse(stream, permission_denied()));
                        continue;
                    }
                    let permit = slots.clone().try_acquire_owned().ok();
                    if permit.is_none() {
                        make_room.notify_one();
                    }
                    let client = Client {
                        ctx: ctx.clone(),
                        idle,
                        make_room: make_room.clone(),
                    };
                    tokio::spawn(admit(stream, client, permit, slots.clone(), max));
                }
                Err(e) => {
                    tracing::warn!(error = %e, "control socket accept failed");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                }
            }
        }
    }
}

/// What one connection needs.
struct Client {
    ctx: ControlDeps,
    idle: Duration,
    make_room: Arc<Notify>,
}

/// Serve `stream` once it has a slot: at once, or within [`MAKE_ROOM`]
/// while idle clients close; otherwise (every slot busy with a request)
/// answer `busy`.
async fn admit(
    stream: UnixStream,
    client: Client,
    permit: Option<OwnedSemaphorePermit>,
    slots: Arc<Semaphore>,
    max: usize,
) {
    let permit = match permit {
        Some(p) => Some(p),
        None => wait_for_room(&slots, &client.make_room).await,
    };
    match permit {
        Some(_permit) => connection(stream, client).await,
        None => {
            tracing::warn!(
                max,
                "control socket: refused a client: every slot is busy with a request"
            );
            refuse(stream, busy(max)).await;
        }
    }
}

/// How long a client finding every slot taken waits for one.
const MAKE_ROOM: Duration = Duration::from_secs(1);
/// How often a waiting client asks again for an idle one to close.
const ASK_AGAIN: Duration = Duration::from_millis(100);

/// A slot within [`MAKE_ROOM`], asking idle clients to close meanwhile.
async fn wait_for_room(slots: &Arc<Semaphore>, make_room: &Notify) -> Option<OwnedSemaphorePermit> {
    let deadline = tokio::time::Instant::now() + MAKE_ROOM;
    loop {
        tokio::select! {
            p = slots.clone().acquire_owned() => return p.ok(),
            () = tokio::time::sleep(ASK_AGAIN) => {
                if tokio::time::Instant::now() >= deadline {
                    return None;
                }
                make_room.notify_one();
            }
        }
    }
}

fn permission_denied() -> ControlError {
    ControlError::new(
        "permission_denied",
        "the control socket only serves the daemon's own user and root",
    )
}

fn busy(max: usize) -> ControlError {
    ControlError::new(
        "busy",
        format!(
            "the control socket already serves {max} clients ([daemon] \
             control_max_connections); close idle ones and retry"
        ),
    )
}

/// Say why, then close. Never waits long on a client that does not read.
async fn refuse(mut stream: UnixStream, error: ControlError) {
    let reply = error_reply(Value::Null, error);
    let _ = tokio::time::timeout(REFUSAL_WRITE, stream.write_all(reply.as_bytes())).await;
}

/// How long a refusal may take to write.
const REFUSAL_WRITE: Duration = Duration::from_secs(1);

/// Serve one client: a request line must arrive, and each reply be taken,
/// within `idle`; otherwise the connection is closed. Between requests it
/// may also be picked to close when another client waits for a slot.
async fn connection(stream: UnixStream, client: Client) {
    let Client {
        ctx,
        idle,
        make_room,
    } = client;
    let (read, mut write) = stream.into_split();
    let mut reader = BufReader::new(read);
    let mut line = Vec::new();
    loop {
        line.clear();
        let deadline = tokio::time::Instant::now() + idle;
        let n = loop {
            let room = (MAX_REQUEST_BYTES + 1).saturating_sub(line.len()) as u64;
            let mut limited = (&mut reader).take(room);
            // `read_until` keeps what it read in `line` when cancelled, so
            // the loop resumes it.
            tokio::select! {
                r = tokio::time::timeout_at(deadline, limited.read_until(b'\n', &mut line)) => {
                    match r {
                        Ok(Ok(n)) => break n,
                        Ok(Err(_)) => return,
                        Err(_) => {
                            tracing::debug!("control socket: closed a client idle for {idle:?}");
                            return;
                        }
                    }
                }
                () = make_room.notified(), if line.is_empty() => {
                    if line.is_empty() {
                        tracing::debug!("control socket: closed an idle client to make room");
                        return;
                    }
                    // A request began meanwhile: finish reading it, and
                    // let another idle client make the room.
                    make_room.notify_one();
                }
            }
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
        match tokio::time::timeout(idle, write.write_all(reply.as_bytes())).await {
            Ok(Ok(())) => {}
            Ok(Err(_)) | Err(_) => return,
        }
    }
}

/// One request line in, one reply line out (with the trailing newline).
pub async fn answer(ctx: &ControlDeps, line: &[u8]) -> String {
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
