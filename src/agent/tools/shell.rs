//! The `shell` tool: runs one allow-listed program with arguments, never a shell.
//!
//! The command line is split into argv (shell-words) and executed directly, so
//! `;`, `|`, `&&`, `$(…)` and globs are plain argument characters. The child
//! gets a cleared environment and its own process group, which is killed as a
//! whole on timeout or when the output grows past the limit.

use super::ToolOutput;
use crate::agent::message::ToolSpec;
use crate::config::ShellToolConfig;
use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt};

/// Variables the child keeps; everything else (API keys, tokens) is dropped.
const KEPT_ENV: &[&str] = &["PATH", "HOME", "LANG"];
const FALLBACK_PATH: &str = "/usr/local/bin:/usr/bin:/bin";

/// `[tools.shell]` made ready to run.
#[derive(Debug, Clone)]
pub struct ShellTool {
    allowed: Vec<String>,
    timeout: Duration,
    max_output: usize,
    workdir: PathBuf,
}

/// Kills the process group when dropped while armed: a cancelled request must
/// not leave its command running. Disarmed once the leader has been reaped
/// (after that the group id could belong to someone else).
struct GroupGuard(Option<Pid>);

impl GroupGuard {
    fn kill(&self) {
        if let Some(pgid) = self.0 {
            // ESRCH (already gone) is the normal case after a clean exit.
            let _ = killpg(pgid, Signal::SIGKILL);
        }
    }
}

impl Drop for GroupGuard {
    fn drop(&mut self) {
        self.kill();
    }
}

impl ShellTool {
    /// `daemon_workdir` is used unless `[tools.shell] workdir` is set.
    pub fn new(config: &ShellToolConfig, daemon_workdir: &Path) -> Self {
        Self {
            allowed: config.allowed_commands.clone(),
            timeout: config.timeout,
            max_output: usize::try_from(config.max_output.as_u64()).unwrap_or(usize::MAX),
            workdir: config
                .workdir
                .clone()
                .unwrap_or_else(|| daemon_workdir.to_path_buf()),
        }
    }

    pub fn spec(&self) -> ToolSpec {
        ToolSpec {
            name: "shell".into(),
            description: format!(
                "Run one command on the host and get its output. No shell: pipes, `;`, \
                 redirections and `$(...)` are not interpreted. Allowed programs: {}. \
                 Times out after {}.",
                self.allowed.join(", "),
                humantime::format_duration(self.timeout)
            ),
            schema: json!({
                "type": "object",
                "properties": {
                    "command": {
                        "type": "string",
                        "description": "Program and arguments, e.g. `df -h`"
                    }
                },
                "required": ["command"]
            }),
        }
    }

    /// Run the tool with the model's input (`{"command": "..."}`).
    pub async fn call(&self, input: &Value) -> ToolOutput {
        let command = match input {
            Value::Object(map) => map.get("command").and_then(Value::as_str),
            Value::String(s) => Some(s.as_str()),
            _ => None,
        };
        match command {
            Some(c) => self.run(c).await,
            None => ToolOutput::error(
                "invalid input: expected {\"command\": \"<program and arguments>\"}",
            ),
        }
    }

    /// Run one command line.
    pub async fn run(&self, command: &str) -> ToolOutput {
        let argv = match shell_words::split(command) {
            Ok(argv) => argv,
            Err(e) => return ToolOutput::error(format!("cannot parse the command line: {e}")),
        };
        let Some((program, args)) = argv.split_first() else {
            return ToolOutput::error("empty command");
        };
        if !self.allowed.iter().any(|a| a == program) {
            return ToolOutput::error(format!(
                "command `{program}` is not allowed; allowed commands: {}",
                if self.allowed.is_empty() {
                    "none".to_string()
                } else {
                    self.allowed.join(", ")
                }
            ));
        }
        if !self.workdir.is_dir() {
            return ToolOutput::error(format!(
                "the working directory {} does not exist",
                self.workdir.display()
            ));
        }
        let mut cmd = tokio::process::Command::new(program);
        cmd.args(args)
            .current_dir(&self.workdir)
            .env_clear()
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0)
            .kill_on_drop(true);
        for var in KEPT_ENV {
            if let Some(v) = std::env::var_os(var) {
                cmd.env(var, v);
            }
        }
        if std::env::var_os("PATH").is_none() {
            cmd.env("PATH", FALLBACK_PATH);
        }
        let mut child = match cmd.spawn() {
            Ok(c) => c,
            Err(e) => return ToolOutput::error(format!("cannot start `{program}`: {e}")),
        };
        let mut guard = GroupGuard(
            child
                .id()
                .and_then(|id| i32::try_from(id).ok())
                .map(Pid::from_raw),
        );
        let (Some(stdout), Some(stderr)) = (child.stdout.take(), child.stderr.take()) else {
            return ToolOutput::error("cannot capture the command's output");
        };
        let cap = self.max_output;
        let outcome = tokio::time::timeout(self.timeout, async {
            let (out, err) = tokio::join!(
                read_capped(stdout, cap, &guard),
                read_capped(stderr, cap, &guard)
            );
            let status = child.wait().await;
            (out, err, status)
        })
        .await;
        let (out, err, status_text, success) = match outcome {
            Ok((out, err, status)) => {
                // Reaped: the pid (and group id) may be reused from now on.
                guard.0 = None;
                let success = status.as_ref().is_ok_and(|s| s.success());
                let status_text = match status {
                    Ok(s) => match (s.code(), std::os::unix::process::ExitStatusExt::signal(&s)) {
                        (Some(code), _) => format!("exit status {code}"),
                        (None, Some(sig)) => format!("killed by signal {sig}"),
                        _ => "exit status unknown".to_string(),
                    },
                    Err(e) => format!("exit status unknown ({e})"),
                };
                (out, err, status_text, success)
            }
            Err(_) => {
                guard.kill();
                // The leader is dead now; reap it so no zombie remains.
                let _ = tokio::time::timeout(Duration::from_secs(5), child.wait()).await;
                guard.0 = None;
                return ToolOutput::error(format!(
                    "`{program}` timed out after {} and was killed",
                    humantime::format_duration(self.timeout)
                ));
            }
        };
        let truncated = out.1 || err.1;
        let mut text = String::from_utf8_lossy(&out.0).into_owned();
        if !err.0.is_empty() {
            if !text.is_empty() && !text.ends_with('\n') {
                text.push('\n');
            }
            text.push_str("[stderr]\n");
            text.push_str(&String::from_utf8_lossy(&err.0));
        }
        let mut truncated_total = truncated;
        if text.len() > cap {
            let mut end = cap;
            while !text.is_char_boundary(end) {
                end -= 1;
            }
            text.truncate(end);
            truncated_total = true;
        }
        if truncated_total {
            text.push_str(&format!(
                "\n[output truncated to {cap} bytes{}]",
                if truncated {
                    "; the command was stopped"
                } else {
                    ""
                }
            ));
        }
        ToolOutput {
            content: format!("{status_text}\n{text}"),
            is_error: !success,
        }
    }
}

/// Read up to `cap` bytes; past that, stop the command (via the group guard)
/// rather than let it fill memory or block on a full pipe.
async fn read_capped(
    mut reader: impl AsyncRead + Unpin,
    cap: usize,
    guard: &GroupGuard,
) -> (Vec<u8>, bool) {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    loop {
        match reader.read(&mut chunk).await {
            Ok(0) | Err(_) => return (buf, false),
            Ok(n) => {
                let room = cap.saturating_sub(buf.len());
                buf.extend_from_slice(&chunk[..n.min(room)]);
                if n > room {
                    guard.kill();
                    return (buf, true);
                }
            }
        }
    }
}
