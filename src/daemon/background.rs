//! `--background`: re-execute ourselves detached, before any runtime exists,
//! and report success only once the child says it is ready.
//!
//! The child gets the write end of a pipe (fd number in `ZEROCLAW_READY_FD`)
//! and writes exactly one line to it: `READY <pid>` or `ERROR <message>`. A
//! re-exec rather than a bare fork keeps us clear of forking a process that
//! may already have threads.

use std::ffi::OsString;
use std::fs::File;
use std::io::{BufRead, BufReader, Write};
use std::os::fd::{AsRawFd, FromRawFd};
use std::os::unix::fs::OpenOptionsExt;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

/// Environment variable naming the readiness pipe's fd in the child.
pub const READY_FD_ENV: &str = "ZEROCLAW_READY_FD";

/// How long the parent waits for the child to become ready.
const READY_TIMEOUT: Duration = Duration::from_secs(120);

#[derive(Debug, thiserror::Error)]
pub enum BackgroundError {
    #[error("cannot start the background daemon: {0}")]
    Spawn(std::io::Error),
    #[error("{0}")]
    ChildFailed(String),
    #[error(
        "the daemon (pid {pid}) did not become ready within {secs}s; it keeps running — see its log, or `zeroclaw status`"
    )]
    Timeout { pid: u32, secs: u64 },
}

/// Parent side: start the detached child and wait for its verdict. Returns the child's pid.
pub fn spawn(args: Vec<OsString>, output: Option<&Path>) -> Result<u32, BackgroundError> {
    let exe = std::env::current_exe().map_err(BackgroundError::Spawn)?;
    let (reader, writer) = std::io::pipe().map_err(BackgroundError::Spawn)?;
    let fd = writer.as_raw_fd();
    let (stdout, stderr) = match output {
        Some(path) => {
            if let Some(dir) = path.parent() {
                let _ = std::fs::create_dir_all(dir);
            }
            let f = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .mode(crate::file_mode::LOG)
                .open(path)
                .map_err(BackgroundError::Spawn)?;
            let g = f.try_clone().map_err(BackgroundError::Spawn)?;
            (Stdio::from(f), Stdio::from(g))
        }
        None => (Stdio::null(), Stdio::null()),
    };
    let mut cmd = Command::new(exe);
    cmd.args(args)
        .env(READY_FD_ENV, fd.to_string())
        .stdin(Stdio::null())
        .stdout(stdout)
        .stderr(stderr);
    // SAFETY: only async-signal-safe calls (setsid, fcntl) between fork and exec.
    unsafe {
        cmd.pre_exec(move || {
            nix::libc::setsid();
            // std's pipe is close-on-exec; the child must inherit this end.
            if nix::libc::fcntl(fd, nix::libc::F_SETFD, 0) == -1 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let mut child = cmd.spawn().map_err(BackgroundError::Spawn)?;
    drop(writer);
    let pid = child.id();

    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = BufReader::new(reader).read_line(&mut line);
        let _ = tx.send(line);
    });
    match rx.recv_timeout(READY_TIMEOUT) {
        Ok(line) if line.starts_with("READY") => Ok(pid),
        Ok(line) if line.starts_with("ERROR ") => {
            let _ = child.wait();
            Err(BackgroundError::ChildFailed(
                line.trim_start_matches("ERROR ")
                    .trim_end()
                    .replace("\\n", "\n"),
            ))
        }
        Ok(_) => {
            let status = child
                .wait()
                .map(|s| s.to_string())
                .unwrap_or_else(|e| e.to_string());
            Err(BackgroundError::ChildFailed(format!(
                "the daemon exited during start-up ({status}); run it in the foreground to see why"
            )))
        }
        Err(_) => Err(BackgroundError::Timeout {
            pid,
            secs: READY_TIMEOUT.as_secs(),
        }),
    }
}

/// Child side: the write end of the readiness pipe, if we were started by [`spawn`].
#[derive(Default)]
pub struct ReadyPipe(Option<File>);

impl ReadyPipe {
    /// Take the pipe from the environment (and remove the variable so tools we
    /// run don't see it).
    pub fn from_env() -> Self {
        let Some(fd) = std::env::var(READY_FD_ENV)
            .ok()
            .and_then(|v| v.parse::<i32>().ok())
        else {
            return Self(None);
        };
        // SAFETY: removing an env var before any thread is started.
        unsafe { std::env::remove_var(READY_FD_ENV) };
        // Only adopt the fd if it really is open.
        if unsafe { nix::libc::fcntl(fd, nix::libc::F_GETFD) } == -1 {
            return Self(None);
        }
        // SAFETY: the fd was handed to us by the parent and is owned by nobody else here.
        let file = unsafe { File::from_raw_fd(fd) };
        // Don't leak it into processes we spawn.
        unsafe { nix::libc::fcntl(fd, nix::libc::F_SETFD, nix::libc::FD_CLOEXEC) };
        Self(Some(file))
    }

    pub fn ready(&mut self) {
        if let Some(mut f) = self.0.take() {
            let _ = writeln!(f, "READY {}", std::process::id());
        }
    }

    pub fn failed(&mut self, message: &str) {
        if let Some(mut f) = self.0.take() {
            let message = crate::secrets::redact(message).replace('\n', "\\n");
            let _ = writeln!(f, "ERROR {message}");
        }
    }
}
