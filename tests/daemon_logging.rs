//! Through the real binary: the log file, failover to stderr while
//! the file cannot be written (with the logger's restarts in `status`),
//! SIGUSR1 reopen, level precedence and the journald format.

mod support;

use nix::sys::signal::Signal;
use std::time::Duration;
use support::daemon::{Env, wait_for};

const T: Duration = Duration::from_secs(30);

fn read(path: &std::path::Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

#[test]
fn unwritable_log_dir_fails_over_to_stderr_and_resumes() {
    let env = Env::new("[supervisor]\nrestart_sec = \"300ms\"\nstart_limit_burst = 1000\n");
    let logs = env.path("logs");
    let file = logs.join("daemon.log");
    let d = env.start_ready(&["--log-file", file.to_str().unwrap()]);
    wait_for("startup line in the file", T, || {
        read(&file).contains("starting") && read(&file).contains(env.config.to_str().unwrap())
    });
    assert!(
        read(&file).lines().next().unwrap().contains("starting"),
        "{}",
        read(&file)
    );

    // As root, permission bits don't stop us: replace the directory with a file.
    std::fs::remove_dir_all(&logs).unwrap();
    std::fs::write(&logs, "not a directory").unwrap();
    // Make the daemon log something (a reload logs its result).
    wait_for("logger restarting in status", T, || {
        let _ = env.cli(&["reload"]);
        env.child("logger")
            .is_some_and(|c| c["restarts"].as_u64() >= Some(1))
    });
    assert_eq!(
        env.status().unwrap()["pid"],
        serde_json::json!(d.pid()),
        "daemon keeps running"
    );
    wait_for("lines on stderr meanwhile", T, || {
        d.stderr().contains("config reloaded")
    });

    std::fs::remove_file(&logs).unwrap();
    std::fs::create_dir(&logs).unwrap();
    wait_for("logging resumes in the file", T, || {
        let _ = env.cli(&["reload"]);
        read(&file).contains("config reloaded")
    });
    wait_for("logger running", T, || {
        env.child("logger").is_some_and(|c| c["state"] == "running")
    });
}

#[test]
fn sigusr1_reopens_after_external_rotation() {
    let env = Env::new("");
    let file = env.path("daemon.log");
    let d = env.start_ready(&["--log-file", file.to_str().unwrap()]);
    wait_for("first lines", T, || read(&file).contains("ready"));
    // logrotate with `create`: move away, create empty, signal.
    let rotated = env.path("daemon.log.1");
    std::fs::rename(&file, &rotated).unwrap();
    std::fs::write(&file, "").unwrap();
    d.signal(Signal::SIGUSR1);
    wait_for("new lines in the new file", T, || {
        let _ = env.cli(&["reload"]);
        read(&file).contains("config reloaded")
    });
    assert!(!read(&rotated).contains("config reloaded"));
}

#[test]
fn level_precedence_cli_over_rust_log_over_config() {
    let env = Env::new("[logging]\nlevel = \"debug\"\n");
    let file = env.path("a.log");
    // RUST_LOG beats [logging] level.
    let d = env.start_with(&["--log-file", file.to_str().unwrap()], |c| {
        c.env("RUST_LOG", "warn");
    });
    wait_for("startup line naming RUST_LOG", T, || {
        read(&file).contains("RUST_LOG")
    });
    let first = read(&file);
    assert!(first.contains("warn"), "{first}");
    drop(d);
    wait_for("socket released", T, || env.status().is_none());

    // --log-level beats RUST_LOG.
    let file = env.path("b.log");
    let _d = env.start_with(
        &[
            "--log-file",
            file.to_str().unwrap(),
            "--log-level",
            "zeroclaw=debug,hyper=warn",
        ],
        |c| {
            c.env("RUST_LOG", "warn");
        },
    );
    wait_for("startup line", T, || read(&file).contains("zeroclaw=debug"));
    wait_for("debug lines from zeroclaw", T, || {
        read(&file).contains("DEBUG")
    });
}

#[test]
fn journald_format_without_a_file() {
    let env = Env::new("");
    let d = env.start_with(&[], |c| {
        c.env("JOURNAL_STREAM", "0:0");
    });
    // The harness' stderr is a file, not the journal's socket: JOURNAL_STREAM
    // must match stderr's own dev:ino, so use the real one.
    drop(d);
    let meta = std::fs::metadata(env.path("stderr.log")).unwrap();
    use std::os::unix::fs::MetadataExt;
    let stream = format!("{}:{}", meta.dev(), meta.ino());
    std::fs::write(env.path("stderr.log"), "").unwrap();
    let d = env.start_with(&[], |c| {
        c.env("JOURNAL_STREAM", &stream);
    });
    wait_for("journal lines", T, || d.stderr().contains("ready"));
    let line = d
        .stderr()
        .lines()
        .find(|l| l.contains("ready"))
        .unwrap()
        .to_string();
    assert!(line.starts_with("<6>"), "{line}");
    assert!(
        !line.split_whitespace().any(looks_like_a_date),
        "journald stamps lines itself, ours must carry no timestamp: {line}"
    );
}

/// `2026-12-02T…`: a word that starts with an ISO date. A bare "202" would
/// also match a pid such as `pid=20208`.
fn looks_like_a_date(word: &str) -> bool {
    let b = word.as_bytes();
    b.len() >= 10
        && b[4] == b'-'
        && b[7] == b'-'
        && [0, 1, 2, 3, 5, 6, 8, 9]
            .iter()
            .all(|&i| b[i].is_ascii_digit())
}
