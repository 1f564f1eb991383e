//! The `shell` tool: runs one allow-listed program with arguments, never a shell.
//!
//! The command line is split into argv (shell-words) and executed directly, so
//! `;`, `|`, `&&`, `$(…)` and globs are plain argument characters. The child
//! runs confined by the kernel (`sandbox`), with an allow-listed environment,
//! in a session of its own; when the call ends, on timeout, or when the output
//! grows past the limit, everything it started is killed (`reaper`).
//! docs/security.md describes the whole.

use super::ToolOutput;
use super::reaper;
use super::sandbox::Confinement;
use crate::agent::message::ToolSpec;
use crate::config::{ShellSandbox, ShellToolConfig};
use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt};

/// Variables the child keeps (plus every `LC_*`); everything else (API keys,
/// tokens) is dropped, and `HOME` is the workdir.
const KEPT_ENV: &[&str] = &["PATH", "LANG", "TZ"];
const FALLBACK_PATH: &str = "/usr/local/bin:/usr/bin:/bin";
/// After the command's first process exits, how long output is still read:
/// a background process holding stdout open must not hold the call.
const OUTPUT_GRACE: Duration = Duration::from_millis(250);

/// `[tools.shell]` made ready to run.
#[derive(Debug, Clone)]
pub struct ShellTool {
    allowed: Vec<String>,
    timeout: Duration,
    max_output: usize,
    workdir: PathBuf,
    sandbox: ShellSandbox,
}

/// Kills the command's process group at once when asked, and its whole tree
/// when dropped while armed: a cancelled request must not leave its command
/// running. Disarmed once the leader has been reaped (after that its pid
/// could belong to someone else).
struct TreeGuard(Option<i32>);

impl TreeGuard {
    fn kill(&self) {
        if let Some(pid) = self.0 {
            // ESRCH (already gone) is the normal case.
            let _ = killpg(Pid::from_raw(pid), Signal::SIGKILL);
        }
    }
}

impl Drop for TreeGuard {
    fn drop(&mut self) {
        self.kill();
        if let Some(pid) = self.0.take() {
            // tokio reaps the leader; the rest is killed and reaped meanwhile.
            reaper::forget(pid);
            if let Ok(rt) = tokio::runtime::Handle::try_current() {
                rt.spawn_blocking(move || {
                    reaper::kill_tree(pid);
                    reaper::sweep();
                });
            }
        }
    }
}

/// Output read so far from one pipe.
#[derive(Default)]
struct Capture {
    bytes: Vec<u8>,
    truncated: bool,
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
            sandbox: config.sandbox,
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
        let confinement = match Confinement::new(self.sandbox, &self.workdir) {
            Ok(c) => c,
            Err(e) => return ToolOutput::error(e.to_string()),
        };
        let mut cmd = self.command(program, args, confinement);
        let mut child = match reaper::spawn(&mut cmd) {
            Ok(c) => c,
            Err(e) => return ToolOutput::error(format!("cannot start `{program}`: {e}")),
        };
        let mut guard = TreeGuard(child.id().and_then(|id| i32::try_from(id).ok()));
        let (Some(stdout), Some(stderr)) = (child.stdout.take(), child.stderr.take()) else {
            return ToolOutput::error("cannot capture the command's output");
        };
        let cap = self.max_output;
        let (mut out, mut err) = (Capture::default(), Capture::default());
        let finished = {
            let reading = async {
                tokio::join!(
                    read_capped(stdout, cap, &mut out, &guard),
                    read_capped(stderr, cap, &mut err, &guard)
                )
            };
            tokio::time::timeout(self.timeout, finish(&mut child, reading)).await
        };
        let Ok(status) = finished else {
            guard.kill();
            if let Some(pid) = guard.0 {
                let _ = tokio::task::spawn_blocking(move || reaper::kill_tree(pid)).await;
            }
            // The leader is dead now; reap it so no zombie remains.
            let _ = tokio::time::timeout(Duration::from_secs(5), child.wait()).await;
            clean_up(&mut guard).await;
            return ToolOutput::error(format!(
                "`{program}` timed out after {} and was killed",
                humantime::format_duration(self.timeout)
            ));
        };
        clean_up(&mut guard).await;
        report(status, out, err, cap)
    }

    /// `program args` in the workdir, entering `confinement` before exec.
    fn command(
        &self,
        program: &str,
        args: &[String],
        mut confinement: Confinement,
    ) -> tokio::process::Command {
        let mut cmd = tokio::process::Command::new(program);
        cmd.args(args)
            .current_dir(&self.workdir)
            .env_clear()
            .envs(self.environment())
            .stdin(Stdio::null())
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
        cmd
    }

    /// The child's whole environment: allow-listed variables only.
    fn environment(&self) -> Vec<(std::ffi::OsString, std::ffi::OsString)> {
        let mut env: Vec<_> = std::env::vars_os()
            .filter(|(k, _)| {
                k.to_str()
                    .is_some_and(|k| KEPT_ENV.contains(&k) || k.starts_with("LC_"))
            })
            .collect();
        if !env.iter().any(|(k, _)| k == "PATH") {
            env.push(("PATH".into(), FALLBACK_PATH.into()));
        }
        env.push(("HOME".into(), self.workdir.clone().into_os_string()));
        env
    }
}

/// Wait for the command's first process; once it has exited, read what is
/// left of the output for [`OUTPUT_GRACE`] at most.
async fn finish(
    child: &mut tokio::process::Child,
    reading: impl std::future::Future<Output = ((), ())>,
) -> std::io::Result<std::process::ExitStatus> {
    tokio::pin!(reading);
    let status = tokio::select! {
        _ = &mut reading => return child.wait().await,
        status = child.wait() => status,
    };
    let _ = tokio::time::timeout(OUTPUT_GRACE, &mut reading).await;
    status
}

/// The leader is reaped: kill and reap whatever the command left behind.
async fn clean_up(guard: &mut TreeGuard) {
    if let Some(pid) = guard.0.take() {
        reaper::forget(pid);
    }
    let _ = tokio::task::spawn_blocking(reaper::sweep).await;
}

/// The tool result: exit status line, stdout, then stderr, within `cap`.
fn report(
    status: std::io::Result<std::process::ExitStatus>,
    out: Capture,
    err: Capture,
    cap: usize,
) -> ToolOutput {
    let success = status.as_ref().is_ok_and(|s| s.success());
    let status_text = match status {
        Ok(s) => match (s.code(), std::os::unix::process::ExitStatusExt::signal(&s)) {
            (Some(code), _) => format!("exit status {code}"),
            (None, Some(sig)) => format!("killed by signal {sig}"),
            _ => "exit status unknown".to_string(),
        },
        Err(e) => format!("exit status unknown ({e})"),
    };
    let truncated = out.truncated || err.truncated;
    let mut text = String::from_utf8_lossy(&out.bytes).into_owned();
    if !err.bytes.is_empty() {
        if !text.is_empty() && !text.ends_with('\n') {
            text.push('\n');
        }
        text.push_str("[stderr]\n");
        text.push_str(&String::from_utf8_lossy(&err.bytes));
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

/// Read up to `cap` bytes into `into`; past that, stop the command (via the
/// tree guard) rather than let it fill memory or block on a full pipe.
async fn read_capped(
    mut reader: impl AsyncRead + Unpin,
    cap: usize,
    into: &mut Capture,
    guard: &TreeGuard,
) {
    let mut chunk = [0u8; 8192];
    loop {
        match reader.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(n) => {
                let room = cap.saturating_sub(into.bytes.len());
                into.bytes.extend_from_slice(&chunk[..n.min(room)]);
                if n > room {
                    guard.kill();
                    into.truncated = true;
                    return;
                }
            }
        }
    }
}
