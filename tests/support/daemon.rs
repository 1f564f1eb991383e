//! Start the real `zeroclaw` binary on a private state dir and talk to it the
//! way an operator would: CLI commands, the control socket, signals.

use serde_json::Value;
use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::time::{Duration, Instant};

pub const BIN: &str = env!("CARGO_BIN_EXE_zeroclaw");

/// The binary a daemon is started from: [`BIN`], or `ZEROCLAW_BIN` for the
/// ignored figure tests measured on a release build (benches/README.md).
pub fn daemon_bin() -> String {
    std::env::var("ZEROCLAW_BIN").unwrap_or_else(|_| BIN.to_string())
}

/// `zeroclaw --config <config> <args>` run to its end, not reading
/// `ZEROCLAW_CONFIG` from the test's environment.
pub fn zeroclaw_at(config: &Path, args: &[&str]) -> Output {
    Command::new(BIN)
        .arg("--config")
        .arg(config)
        .args(args)
        .env_remove("ZEROCLAW_CONFIG")
        .output()
        .expect("run zeroclaw")
}

/// A command's stdout then stderr, as one text to search and to show.
pub fn output_text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Poll `cond` until it holds or `timeout` passes; panics naming `what`.
pub fn wait_for(what: &str, timeout: Duration, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !cond() {
        assert!(
            Instant::now() < deadline,
            "timed out after {timeout:?} waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A config file and state dir in a temp dir.
pub struct Env {
    pub dir: tempfile::TempDir,
    pub config: PathBuf,
}

impl Env {
    /// `extra` is appended to a base config that keeps everything inside the temp dir.
    /// The base has no `[gateway]` table so `extra` may add one; without it the
    /// gateway is disabled.
    pub fn new(extra: &str) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let config = dir.path().join("config.toml");
        let env = Self { dir, config };
        env.write_config(extra);
        env
    }

    pub fn write_config(&self, extra: &str) {
        let state = self.dir.path().join("state");
        let gateway = if extra.contains("[gateway]") {
            ""
        } else {
            "[gateway]\nenabled = false\n"
        };
        let supervisor = if extra.contains("[supervisor]") {
            ""
        } else {
            "[supervisor]\nrestart_sec = \"100ms\"\n"
        };
        let text = format!(
            "[daemon]\nstate_dir = \"{}\"\nshutdown_timeout = \"5s\"\n{supervisor}{gateway}{extra}\n",
            state.display()
        );
        std::fs::write(&self.config, text).expect("write config");
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    pub fn socket(&self) -> PathBuf {
        self.path("state/zeroclaw.sock")
    }

    /// `zeroclaw --config <config> <args>`, waited for.
    pub fn cli(&self, args: &[&str]) -> Output {
        Command::new(BIN)
            .arg("--config")
            .arg(&self.config)
            .args(args)
            .env_remove("NOTIFY_SOCKET")
            .env_remove("RUST_LOG")
            .output()
            .expect("run zeroclaw")
    }

    /// `status --json` parsed, or None when not running.
    pub fn status(&self) -> Option<Value> {
        let out = self.cli(&["status", "--json"]);
        if out.status.code() != Some(0) {
            return None;
        }
        serde_json::from_slice(&out.stdout).ok()
    }

    /// The child named `name` in `status --json`.
    pub fn child(&self, name: &str) -> Option<Value> {
        self.status()?["children"]
            .as_array()?
            .iter()
            .find(|c| c["name"] == name)
            .cloned()
    }

    /// Start `zeroclaw daemon` in the foreground (as a child process) and wait until it answers.
    pub fn start(&self, extra_args: &[&str]) -> Daemon {
        self.start_with(extra_args, |_| {})
    }

    pub fn start_with(&self, extra_args: &[&str], tweak: impl FnOnce(&mut Command)) -> Daemon {
        self.spawn("daemon", extra_args, Stdio::null(), tweak)
    }

    /// `zeroclaw --config <config> <subcommand> <args>` with no stdin,
    /// stderr appended to `stderr.log` and no inherited `NOTIFY_SOCKET` or
    /// `RUST_LOG`.
    fn spawn(
        &self,
        subcommand: &str,
        args: &[&str],
        stdout: Stdio,
        tweak: impl FnOnce(&mut Command),
    ) -> Daemon {
        let log = self.path("stderr.log");
        let stderr = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)
            .expect("stderr log");
        let mut cmd = Command::new(daemon_bin());
        cmd.arg("--config")
            .arg(&self.config)
            .arg(subcommand)
            .args(args)
            .env_remove("NOTIFY_SOCKET")
            .env_remove("RUST_LOG")
            .stdin(Stdio::null())
            .stdout(stdout)
            .stderr(stderr);
        tweak(&mut cmd);
        let child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("spawn zeroclaw {subcommand}: {e}"));
        Daemon {
            child: Some(child),
            stderr: log,
        }
    }

    /// Start and wait until `status` answers.
    pub fn start_ready(&self, extra_args: &[&str]) -> Daemon {
        let mut d = self.start(extra_args);
        let deadline = Instant::now() + Duration::from_secs(20);
        while self.status().is_none() {
            if let Some(status) = d.try_exit() {
                panic!("daemon exited early ({status}):\n{}", d.stderr());
            }
            assert!(
                Instant::now() < deadline,
                "daemon not ready:\n{}",
                d.stderr()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        d
    }
}

impl Env {
    /// `zeroclaw --config <config> gateway <args>` in the foreground; waits
    /// for the bound URL it prints as the first line on stdout (up to 30 s).
    /// The rest of stdout is drained in the background so the process never
    /// blocks or fails on a full or closed pipe.
    pub fn start_gateway(&self, args: &[&str]) -> (Daemon, String) {
        let mut d = self.spawn("gateway", args, Stdio::piped(), |_| {});
        let child = d.child.as_mut().expect("just spawned");
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut lines = BufReader::new(stdout).lines();
            if let Some(Ok(first)) = lines.next() {
                let _ = tx.send(first);
            }
            lines.for_each(drop);
        });
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            match rx.recv_timeout(Duration::from_millis(50)) {
                Ok(url) => return (d, url),
                Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
                    let status = d.wait_exit(Duration::from_secs(10));
                    panic!(
                        "zeroclaw gateway printed no URL ({status}):\n{}",
                        d.stderr()
                    );
                }
                Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
            }
            if let Some(status) = d.try_exit() {
                panic!("zeroclaw gateway exited early ({status}):\n{}", d.stderr());
            }
            assert!(
                Instant::now() < deadline,
                "zeroclaw gateway printed no URL within 30 s:\n{}",
                d.stderr()
            );
        }
    }

    /// Start `zeroclaw daemon` expecting it to fail its start; returns the
    /// exit status and what it wrote on stderr.
    pub fn start_failing(&self, extra_args: &[&str]) -> (ExitStatus, String) {
        let mut d = self.start(extra_args);
        let status = d.wait_exit(Duration::from_secs(30));
        (status, d.stderr())
    }
}

/// A running daemon process; killed on drop if still alive.
pub struct Daemon {
    pub child: Option<Child>,
    pub stderr: PathBuf,
}

impl Daemon {
    pub fn pid(&self) -> i32 {
        self.child.as_ref().map(|c| c.id() as i32).unwrap_or(-1)
    }

    pub fn signal(&self, sig: nix::sys::signal::Signal) {
        nix::sys::signal::kill(nix::unistd::Pid::from_raw(self.pid()), sig).expect("kill");
    }

    pub fn try_exit(&mut self) -> Option<ExitStatus> {
        self.child.as_mut()?.try_wait().ok().flatten()
    }

    /// Wait for the process to exit within `timeout`.
    pub fn wait_exit(&mut self, timeout: Duration) -> ExitStatus {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(s) = self.try_exit() {
                return s;
            }
            assert!(
                Instant::now() < deadline,
                "daemon did not exit:\n{}",
                self.stderr()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn stderr(&self) -> String {
        std::fs::read_to_string(&self.stderr).unwrap_or_default()
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// A raw control-socket connection for protocol-level tests.
pub struct Control {
    stream: UnixStream,
    reader: BufReader<UnixStream>,
}

impl Control {
    pub fn connect(path: &Path) -> Self {
        let stream = UnixStream::connect(path).expect("connect control socket");
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .expect("timeout");
        let reader = BufReader::new(stream.try_clone().expect("clone"));
        Self { stream, reader }
    }

    /// Send raw bytes (a line should end in `\n`) and read one reply line.
    pub fn raw(&mut self, line: &str) -> Value {
        self.stream.write_all(line.as_bytes()).expect("write");
        let mut reply = String::new();
        self.reader.read_line(&mut reply).expect("read reply");
        serde_json::from_str(&reply).unwrap_or_else(|e| panic!("bad reply {reply:?}: {e}"))
    }

    pub fn call(&mut self, method: &str, params: Value) -> Value {
        let line = serde_json::json!({"id": 7, "method": method, "params": params}).to_string();
        self.raw(&format!("{line}\n"))
    }
}
