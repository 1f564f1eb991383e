//! A stdio server's process: started confined like the shell tool
//! (docs/security.md, "MCP servers"), in a session of its own, with an
//! environment built from its `env` table and an allow-list; its stderr is
//! logged line by line, tagged with the server's name. Dropping the
//! [`Process`] kills the server's whole process group.

use crate::agent::tools::reaper;
use crate::agent::tools::sandbox::{Confinement, ExtraPaths};
use crate::config::McpServerConfig;
use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use std::ffi::OsString;
use std::path::Path;
use std::pin::Pin;
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll};
use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader, ReadBuf};
use tokio::process::{Child, ChildStdin, ChildStdout};

/// Variables the server keeps from the daemon's environment (plus every
/// `LC_*`); `HOME` is its workdir and the rest comes from its `env` table.
const KEPT_ENV: &[&str] = &["PATH", "LANG", "TZ"];
const FALLBACK_PATH: &str = "/usr/local/bin:/usr/bin:/bin";
/// Readable by every server besides the shell tool's system files: the
/// OpenSSL configuration that Node, Python and most runtimes load at start.
const RUNTIME_FILES: &[&str] = &["/etc/ssl/openssl.cnf"];
/// Longest stderr line logged as is; the rest of it is cut.
const MAX_LOG_LINE: usize = 2000;

/// Why a server's process could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("the working directory {0} does not exist; create it or fix `workdir`")]
    NoWorkdir(String),
    #[error("cannot confine the server: {0}")]
    Sandbox(String),
    #[error("cannot start `{command}`: {source}; check `command` and the server's PATH")]
    Spawn {
        command: String,
        source: std::io::Error,
    },
    #[error("cannot talk to the server: its stdin or stdout is missing")]
    Pipes,
}

/// The server's stdout, counting the bytes read: a server that wrote
/// something yet never answered `initialize` is told apart from a silent one.
pub struct Counted {
    inner: ChildStdout,
    read: Arc<AtomicUsize>,
}

impl AsyncRead for Counted {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        let n = buf.filled().len().saturating_sub(before);
        self.read.fetch_add(n, Ordering::Relaxed);
        polled
    }
}

/// The running server process; killed, with its group, when dropped.
pub struct Process {
    child: Child,
    pid: Option<i32>,
}

impl Process {
    pub fn pid(&self) -> Option<i32> {
        self.pid
    }

    /// Wait for the process to exit: the text of how it ended.
    pub async fn exited(&mut self) -> String {
        match self.child.wait().await {
            Ok(status) => match (
                status.code(),
                std::os::unix::process::ExitStatusExt::signal(&status),
            ) {
                (Some(code), _) => format!("exited with status {code}"),
                (None, Some(sig)) => format!("was killed by signal {sig}"),
                _ => "exited".to_string(),
            },
            Err(e) => format!("could not be waited for ({e})"),
        }
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        if let Some(pid) = self.pid.take() {
            // ESRCH (already gone) is the normal case after an exit.
            let _ = killpg(Pid::from_raw(pid), Signal::SIGKILL);
            // tokio reaps the leader (kill_on_drop); it is not ours to spare any more.
            reaper::forget(pid);
        }
    }
}

/// Start `server` (its `command`) in `workdir`: the process and its pipes.
pub fn start(
    name: &str,
    server: &McpServerConfig,
    workdir: &Path,
    read: Arc<AtomicUsize>,
) -> Result<(Process, Counted, ChildStdin), StartError> {
    let command = server.command.clone().unwrap_or_default();
    if !workdir.is_dir() {
        return Err(StartError::NoWorkdir(workdir.display().to_string()));
    }
    let runtime = RUNTIME_FILES.iter().map(std::path::PathBuf::from);
    let extra = ExtraPaths {
        read: runtime
            .filter(|p| p.exists())
            .chain(server.read_paths.iter().cloned())
            .collect(),
        write: server.write_paths.clone(),
    };
    let mut confinement = Confinement::with_extra(server.sandbox, workdir, &extra)
        .map_err(|e| StartError::Sandbox(e.to_string()))?;
    let mut cmd = tokio::process::Command::new(&command);
    cmd.args(&server.args)
        .current_dir(workdir)
        .env_clear()
        .envs(environment(server, workdir))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    // SAFETY: between fork and exec the closure makes only system calls
    // (setsid, then those of `Confinement::enter`, see sandbox.rs).
    unsafe {
        cmd.pre_exec(move || {
            nix::unistd::setsid()?;
            confinement.enter()
        });
    }
    let mut child = reaper::spawn(&mut cmd).map_err(|source| StartError::Spawn {
        command: command.clone(),
        source,
    })?;
    let pid = child.id().and_then(|id| i32::try_from(id).ok());
    let stderr = child.stderr.take();
    let (stdout, stdin) = (child.stdout.take(), child.stdin.take());
    let process = Process { child, pid };
    if let Some(stderr) = stderr {
        tokio::spawn(log_stderr(name.to_string(), stderr));
    }
    match (stdout, stdin) {
        (Some(inner), Some(inp)) => Ok((process, Counted { inner, read }, inp)),
        _ => Err(StartError::Pipes),
    }
}

/// The server's whole environment.
fn environment(server: &McpServerConfig, workdir: &Path) -> Vec<(OsString, OsString)> {
    let mut env: Vec<(OsString, OsString)> = std::env::vars_os()
        .filter(|(k, _)| {
            k.to_str()
                .is_some_and(|k| KEPT_ENV.contains(&k) || k.starts_with("LC_"))
        })
        .collect();
    if !env.iter().any(|(k, _)| k == "PATH") {
        env.push(("PATH".into(), FALLBACK_PATH.into()));
    }
    env.push(("HOME".into(), workdir.as_os_str().to_owned()));
    for (k, v) in &server.env {
        env.retain(|(name, _)| name != k.as_str());
        env.push((k.into(), v.expose().into()));
    }
    env
}

/// Log every line the server writes to stderr, tagged with its name
/// (bytes that are not UTF-8 are shown replaced, never stop the reading).
async fn log_stderr(server: String, stderr: tokio::process::ChildStderr) {
    let mut reader = BufReader::new(stderr);
    let mut buf = Vec::new();
    loop {
        buf.clear();
        match reader.read_until(b'\n', &mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        buf.truncate(MAX_LOG_LINE);
        let line = String::from_utf8_lossy(&buf).trim_end().to_string();
        tracing::info!(mcp = %server, "stderr: {}", crate::secrets::redact_string(line));
    }
}
