//! The `shell` tool: allowlist, no shell interpretation, cleared environment,
//! timeout killing the whole process group, output cap.

use bytesize::ByteSize;
use std::path::Path;
use std::time::Duration;
use tokio::time::Instant;
use zeroclaw::agent::tools::shell::ShellTool;
use zeroclaw::config::ShellToolConfig;

fn tool(allowed: &[&str], timeout: Duration, max_output: ByteSize, dir: &Path) -> ShellTool {
    let config = ShellToolConfig {
        allowed_commands: allowed.iter().map(|s| s.to_string()).collect(),
        timeout,
        max_output,
        workdir: None,
        ..ShellToolConfig::default()
    };
    ShellTool::new(&config, dir)
}

#[tokio::test]
async fn seed_health_check_commands_work_with_the_defaults() {
    let dir = tempfile::tempdir().unwrap();
    let shell = ShellTool::new(&ShellToolConfig::default(), dir.path());
    for cmd in ["uptime", "free -m", "df -h", "date"] {
        let out = shell.run(cmd).await;
        assert!(!out.is_error, "{cmd}: {}", out.content);
        assert!(
            out.content.starts_with("exit status 0\n"),
            "{cmd}: {}",
            out.content
        );
    }
    let out = shell.run("free -m").await;
    assert!(out.content.contains("Mem:"), "{}", out.content);
}

#[tokio::test]
async fn only_allowlisted_programs_run() {
    let dir = tempfile::tempdir().unwrap();
    let shell = tool(
        &["date", "ls"],
        Duration::from_secs(5),
        ByteSize::kib(64),
        dir.path(),
    );
    let out = shell.run("rm -rf /").await;
    assert!(out.is_error);
    assert_eq!(
        out.content,
        "command `rm` is not allowed; allowed commands: date, ls"
    );
    let out = shell.run("/usr/bin/date").await;
    assert!(
        out.is_error,
        "a path is not the allow-listed name: {}",
        out.content
    );
    let out = shell.run("").await;
    assert!(out.is_error && out.content.contains("empty command"));
    let out = shell.run("date 'unterminated").await;
    assert!(
        out.is_error && out.content.contains("cannot parse"),
        "{}",
        out.content
    );
    let out = shell.call(&serde_json::json!({"cmd": "date"})).await;
    assert!(
        out.is_error && out.content.contains("\"command\""),
        "{}",
        out.content
    );
}

#[tokio::test]
async fn shell_metacharacters_are_inert() {
    let dir = tempfile::tempdir().unwrap();
    let shell = tool(
        &["echo", "date"],
        Duration::from_secs(5),
        ByteSize::kib(64),
        dir.path(),
    );
    let out = shell.run("echo hi; touch pwned").await;
    assert_eq!(out.content, "exit status 0\nhi; touch pwned\n");
    let out = shell
        .run("echo $(id) | cat > out && touch pwned2 `id`")
        .await;
    assert_eq!(
        out.content,
        "exit status 0\n$(id) | cat > out && touch pwned2 `id`\n"
    );
    let out = shell.run("date && touch pwned3").await;
    assert!(
        out.is_error,
        "date got `&&` as an argument: {}",
        out.content
    );
    for f in ["pwned", "out", "pwned2", "pwned3"] {
        assert!(!dir.path().join(f).exists(), "{f} was created");
    }
}

#[tokio::test]
async fn runs_in_the_workdir_with_a_cleared_environment() {
    let dir = tempfile::tempdir().unwrap();
    let shell = tool(
        &["env", "pwd"],
        Duration::from_secs(5),
        ByteSize::kib(64),
        dir.path(),
    );
    let out = shell.run("pwd").await;
    let canonical = dir.path().canonicalize().unwrap();
    assert_eq!(
        out.content.trim_end(),
        format!("exit status 0\n{}", canonical.display())
    );
    let out = shell.run("env").await;
    let names: Vec<&str> = out
        .content
        .lines()
        .skip(1)
        .filter_map(|l| l.split('=').next())
        .collect();
    for name in &names {
        assert!(
            ["PATH", "HOME", "LANG", "TZ"].contains(name) || name.starts_with("LC_"),
            "leaked {name}: {}",
            out.content
        );
    }
    assert!(names.contains(&"PATH"), "{}", out.content);
}

#[tokio::test]
async fn failures_report_exit_status_and_stderr() {
    let dir = tempfile::tempdir().unwrap();
    let shell = tool(
        &["ls"],
        Duration::from_secs(5),
        ByteSize::kib(64),
        dir.path(),
    );
    let out = shell.run("ls /definitely/not/here").await;
    assert!(out.is_error);
    assert!(
        out.content.starts_with("exit status 2\n[stderr]\n"),
        "{}",
        out.content
    );
    let shell = tool(
        &["no-such-program-zc"],
        Duration::from_secs(5),
        ByteSize::kib(64),
        dir.path(),
    );
    let out = shell.run("no-such-program-zc").await;
    assert!(
        out.is_error && out.content.contains("cannot start"),
        "{}",
        out.content
    );
}

#[tokio::test]
async fn output_is_truncated_and_the_command_stopped() {
    let dir = tempfile::tempdir().unwrap();
    let shell = tool(
        &["seq"],
        Duration::from_secs(30),
        ByteSize::b(1024),
        dir.path(),
    );
    let started = Instant::now();
    let out = shell.run("seq 1 100000000").await;
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "not stopped: {:?}",
        started.elapsed()
    );
    assert!(
        out.content
            .ends_with("[output truncated to 1024 bytes; the command was stopped]"),
        "{}",
        &out.content[out.content.len().saturating_sub(200)..]
    );
    assert!(out.content.len() < 1024 + 200, "{}", out.content.len());
    assert!(out.content.contains("\n1\n2\n3\n"));
}

#[tokio::test]
async fn timeout_kills_the_whole_process_group() {
    let dir = tempfile::tempdir().unwrap();
    let shell = tool(
        &["sh"],
        Duration::from_millis(500),
        ByteSize::kib(64),
        dir.path(),
    );
    let started = Instant::now();
    let out = shell
        .run("sh -c 'sleep 300 & echo $! > child.pid; wait'")
        .await;
    assert!(out.is_error);
    assert!(
        out.content.contains("timed out after 500ms and was killed"),
        "{}",
        out.content
    );
    assert!(started.elapsed() < Duration::from_secs(5));
    let pid: i32 = std::fs::read_to_string(dir.path().join("child.pid"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    // The grandchild `sleep` must be gone (or a zombie awaiting its new parent).
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let alive = match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
            Err(_) => false,
            Ok(stat) => {
                let state = stat.rsplit(')').next().unwrap_or("").trim_start();
                !state.starts_with('Z')
            }
        };
        if !alive {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "child sleep {pid} survived the timeout"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn a_cancelled_call_kills_its_process_group() {
    let dir = tempfile::tempdir().unwrap();
    let shell = tool(
        &["sh"],
        Duration::from_secs(60),
        ByteSize::kib(64),
        dir.path(),
    );
    let pidfile = dir.path().join("child.pid");
    let run = shell.run("sh -c 'sleep 300 & echo $! > child.pid; wait'");
    // Drop the call once the grandchild exists, as a cancelled request would.
    let cancelled = tokio::time::timeout(Duration::from_secs(5), async {
        tokio::pin!(run);
        loop {
            tokio::select! {
                _ = &mut run => panic!("sh finished on its own"),
                _ = tokio::time::sleep(Duration::from_millis(20)) => {
                    if std::fs::read_to_string(&pidfile).is_ok_and(|s| s.ends_with('\n')) {
                        return;
                    }
                }
            }
        }
    })
    .await;
    assert!(cancelled.is_ok(), "child never started");
    let pid: i32 = std::fs::read_to_string(&pidfile)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let alive = std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .map(|s| {
                !s.rsplit(')')
                    .next()
                    .unwrap_or("")
                    .trim_start()
                    .starts_with('Z')
            })
            .unwrap_or(false);
        if !alive {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "child sleep {pid} survived cancellation"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
