//! Cron through the real daemon: start `zeroclaw daemon`, drive it with the
//! `zeroclaw cron` CLI over the control socket, stop/kill it, start it again.
//!
//! Ignored until the daemon lands (the branch `cron` has only stubs of
//! `zeroclaw daemon` and of the control client). After the merge:
//! `cargo test --test cron_daemon -- --ignored`.

mod support;

use assert_cmd::cargo::CommandCargoExt;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use support::daemon::zeroclaw_at;

struct Daemon {
    child: Child,
}

impl Daemon {
    fn start(config: &Path) -> Self {
        let child = Command::cargo_bin("zeroclaw")
            .unwrap()
            .arg("--config")
            .arg(config)
            .arg("daemon")
            .env_remove("ZEROCLAW_CONFIG")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let d = Self { child };
        assert!(
            wait_until(Duration::from_secs(15), || {
                cli(config, &["cron", "list", "--json"])
                    .map(|v| v["daemon"] == "running")
                    .unwrap_or(false)
            }),
            "the daemon did not answer on its control socket"
        );
        d
    }

    fn signal(&mut self, sig: nix::sys::signal::Signal) {
        let pid = nix::unistd::Pid::from_raw(self.child.id() as i32);
        let _ = nix::sys::signal::kill(pid, sig);
        let deadline = Instant::now() + Duration::from_secs(15);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("the daemon did not exit after {sig}");
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn wait_until(within: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        if cond() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    cond()
}

fn cli(config: &Path, args: &[&str]) -> Option<Value> {
    let out = zeroclaw_at(config, args);
    serde_json::from_slice(&out.stdout).ok()
}

fn runs(config: &Path, name: &str) -> Vec<Value> {
    cli(
        config,
        &["cron", "runs", "--name", name, "--limit", "1000", "--json"],
    )
    .and_then(|v| v["runs"].as_array().cloned())
    .unwrap_or_default()
}

fn count(runs: &[Value], status: &str) -> usize {
    runs.iter().filter(|r| r["status"] == status).count()
}

/// A provider that accepts a request and never answers (a run that hangs).
fn hanging_provider() -> (tokio::runtime::Runtime, String) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let addr = listener.local_addr().unwrap();
    let app = axum::Router::new().fallback(|| async {
        std::future::pending::<()>().await;
        ""
    });
    rt.spawn(async move { axum::serve(listener, app).await });
    (rt, format!("http://{addr}"))
}

fn write_config(dir: &Path, extra: &str) -> PathBuf {
    let path = dir.join("config.toml");
    std::fs::write(
        &path,
        format!(
            "[daemon]\nstate_dir = \"{}\"\n[gateway]\nenabled = false\n{extra}",
            dir.join("state").display()
        ),
    )
    .unwrap();
    path
}

const EVERY_SECOND: &str = r#"
[[cron.jobs]]
name = "每秒"
schedule = "* * * * * *"
message = "tick"
timezone = "UTC"
"#;

#[test]
fn fires_on_time_disable_survives_restart_enable_resumes() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), EVERY_SECOND);
    let mut d = Daemon::start(&config);
    assert!(wait_until(Duration::from_secs(10), || count(
        &runs(&config, "每秒"),
        "ok"
    ) >= 2));
    let r = runs(&config, "每秒");
    assert_eq!(r[0]["output"], "echo: tick"); // echo provider

    let v = cli(&config, &["cron", "disable", "每秒", "--json"]).unwrap();
    assert_eq!(v["job"]["enabled"], false);
    d.signal(nix::sys::signal::Signal::SIGTERM);
    let d = Daemon::start(&config);
    let v = cli(&config, &["cron", "status", "每秒", "--json"]).unwrap();
    assert_eq!(v["job"]["enabled"], false);
    assert_eq!(v["job"]["enabled_source"], "override");
    assert!(v["job"]["next_run"].is_null());
    let before = count(&runs(&config, "每秒"), "ok");
    // Nothing may run while disabled (checked over 3 fire times).
    assert!(!wait_until(Duration::from_secs(3), || count(
        &runs(&config, "每秒"),
        "ok"
    ) > before));

    cli(&config, &["cron", "enable", "每秒", "--json"]).unwrap();
    assert!(wait_until(Duration::from_secs(10), || count(
        &runs(&config, "每秒"),
        "ok"
    ) >= before + 2));
    drop(d);
}

#[test]
fn run_prints_the_result_and_runs_lists_it() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(
        dir.path(),
        "[[cron.jobs]]\nname = \"备份提醒\"\nschedule = \"0 18 * * 5\"\nmessage = \"提醒用户进行数据备份\"\n",
    );
    let _d = Daemon::start(&config);
    let out = zeroclaw_at(&config, &["cron", "run", "备份提醒"]);
    assert!(out.status.success(), "{out:?}");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains(": ok") && text.contains("提醒用户进行数据备份"),
        "{text}"
    );
    let id = zeroclaw::cron::job_id("备份提醒");
    let v = cli(&config, &["cron", "runs", "--id", &id, "--json"]).unwrap();
    assert_eq!(v["runs"][0]["status"], "ok");
}

#[test]
fn overlap_is_skipped_timeout_is_timeout_kill_9_is_interrupted() {
    let (_rt, base) = hanging_provider();
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(
        dir.path(),
        &format!(
            "[provider]\nname = \"openai\"\nmodel = \"m\"\napi_key = \"k\"\nbase_url = \"{base}\"\n\
             [[cron.jobs]]\nname = \"hang\"\nschedule = \"* * * * * *\"\nmessage = \"x\"\ntimeout = \"3s\"\n"
        ),
    );
    let mut d = Daemon::start(&config);
    assert!(wait_until(Duration::from_secs(10), || {
        let r = runs(&config, "hang");
        count(&r, "skipped") >= 1 && count(&r, "timeout") >= 1
    }));
    let r = runs(&config, "hang");
    let t = r.iter().find(|r| r["status"] == "timeout").unwrap();
    assert!(t["error"].as_str().unwrap().contains("timed out after 3s"));

    assert!(wait_until(Duration::from_secs(5), || count(
        &runs(&config, "hang"),
        "running"
    ) == 1));
    d.signal(nix::sys::signal::Signal::SIGKILL);
    let db = dir.path().join("state/cron.sqlite3");
    let _d = Daemon::start(&config);
    let r = runs(&config, "hang");
    assert!(count(&r, "interrupted") >= 1, "{r:?}");
    let conn = rusqlite::Connection::open(&db).unwrap();
    let ok: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(ok, "ok");
}

#[test]
fn catch_up_once_after_a_stopped_period() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(
        dir.path(),
        &format!("[cron]\ncatch_up = \"once\"\n{EVERY_SECOND}"),
    );
    let mut d = Daemon::start(&config);
    assert!(wait_until(Duration::from_secs(10), || count(
        &runs(&config, "每秒"),
        "ok"
    ) >= 1));
    d.signal(nix::sys::signal::Signal::SIGTERM);
    let down = Instant::now();
    // The daemon stays down for at least 3 fire times.
    while down.elapsed() < Duration::from_secs(3) {
        std::thread::sleep(Duration::from_millis(100));
    }
    let _d = Daemon::start(&config);
    let r = runs(&config, "每秒");
    assert!(count(&r, "missed") >= 2, "{r:?}");
    let last_missed = r.iter().find(|r| r["status"] == "missed").unwrap()["scheduled_at"].clone();
    assert!(wait_until(Duration::from_secs(5), || runs(&config, "每秒")
        .iter()
        .any(
            |r| r["status"] == "ok" && r["scheduled_at"] == last_missed
        )));
}
