//! Runtime-job figures: jobs added one by one through the control socket
//! (`cron.add`, each a new child of the tree), and the start of a daemon
//! whose state database holds many persisted one-shot reminders (time to
//! `READY=1`, then to the first `cron.list` answer, and RSS).
//!
//! `cargo bench --bench runtime_jobs` (`BENCH_ADD_JOBS`, default 10000, and
//! `BENCH_REMINDERS`, default 100000, set the sizes; `ZEROCLAW_BIN` measures
//! another binary).

use serde_json::json;
use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use zeroclaw::control::call::Call;
use zeroclaw::control::client;
use zeroclaw::cron::NewJob;

fn bin() -> String {
    std::env::var("ZEROCLAW_BIN").unwrap_or_else(|_| env!("CARGO_BIN_EXE_zeroclaw").to_string())
}

fn size(var: &str, default: usize) -> usize {
    std::env::var(var)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn config(dir: &Path) -> PathBuf {
    let path = dir.join("config.toml");
    let text = format!(
        "[daemon]\nstate_dir = \"{}\"\nshutdown_timeout = \"60s\"\n[provider]\nname = \"echo\"\n\
         [gateway]\nenabled = false\n",
        dir.join("state").display()
    );
    std::fs::write(&path, text).expect("write config");
    path
}

/// Start the daemon; returns it and the time to `READY=1`.
fn start(dir: &Path, config: &Path) -> (Child, Duration) {
    let notify = dir.join("notify.sock");
    let _ = std::fs::remove_file(&notify);
    let sock = UnixDatagram::bind(&notify).expect("bind notify socket");
    sock.set_read_timeout(Some(Duration::from_secs(600)))
        .expect("timeout");
    let t0 = Instant::now();
    let mut child = Command::new(bin())
        .arg("--config")
        .arg(config)
        .arg("daemon")
        .env("NOTIFY_SOCKET", &notify)
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    let mut buf = [0u8; 512];
    loop {
        match sock.recv(&mut buf) {
            Ok(n) if String::from_utf8_lossy(&buf[..n]).contains("READY=1") => {
                return (child, t0.elapsed());
            }
            Ok(_) => {}
            Err(e) => {
                let _ = child.kill();
                let _ = child.wait();
                panic!("no READY=1 from the daemon: {e}");
            }
        }
    }
}

fn stop(mut child: Child) {
    let _ = nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGTERM,
    );
    let _ = child.wait();
}

fn rss(child: &Child) -> String {
    let status =
        std::fs::read_to_string(format!("/proc/{}/status", child.id())).unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmRSS"))
        .map(|l| l.trim_start_matches("VmRSS:").trim().to_string())
        .unwrap_or_else(|| "?".into())
}

fn add_through_the_socket(dir: &Path, config: &Path, n: usize) {
    let (child, _) = start(dir, config);
    let socket = dir.join("state/zeroclaw.sock");
    let t0 = Instant::now();
    for i in 0..n {
        let call = Call::CronAdd(NewJob {
            name: format!("bench-{i}"),
            at: Some("1h".into()),
            message: "reminder".into(),
            ..NewJob::default()
        });
        client::call(&socket, &call).expect("cron.add");
    }
    let took = t0.elapsed();
    println!(
        "{n} runtime jobs added through the control socket: {took:.2?} ({:.0} per second), RSS {}",
        n as f64 / took.as_secs_f64(),
        rss(&child)
    );
    stop(child);
}

/// Write `n` one-shot reminders straight into a fresh state database.
fn seed(dir: &Path, n: usize) {
    let db = dir.join("state/cron.sqlite3");
    drop(zeroclaw::cron::Store::open(&db).expect("create the database"));
    let mut conn = rusqlite::Connection::open(&db).expect("open");
    let tx = conn.transaction().expect("transaction");
    let at = chrono::Utc::now() + chrono::Duration::hours(1);
    {
        let mut st = tx
            .prepare(
                "INSERT INTO runtime_jobs (id, name, owner, spec, created_at, done_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, NULL)",
            )
            .expect("prepare");
        for i in 0..n {
            let name = format!("telegram:{} reminder {i}", i % 1000);
            let spec = json!({
                "name": name, "schedule": zeroclaw::cron::interval::at_expr(at),
                "enabled": true, "message": "reminder", "provider": null, "model": null,
                "tools": [], "timezone": "UTC", "deliver_to": format!("telegram:{}", i % 1000),
                "timeout": "5m",
            });
            st.execute(rusqlite::params![
                zeroclaw::cron::job_id(&name),
                name,
                format!("telegram:{}", i % 1000),
                spec.to_string(),
                chrono::Utc::now().to_rfc3339(),
            ])
            .expect("insert");
        }
    }
    tx.commit().expect("commit");
}

fn start_with_reminders(dir: &Path, config: &Path, n: usize) {
    seed(dir, n);
    let (child, ready) = start(dir, config);
    let socket = dir.join("state/zeroclaw.sock");
    let t0 = Instant::now();
    let list = client::call_with_timeout(&socket, &Call::CronList {}, Duration::from_secs(600))
        .expect("cron.list");
    let jobs = list["jobs"].as_array().map(Vec::len).unwrap_or(0);
    println!(
        "daemon with {n} persisted one-shot reminders: READY=1 after {ready:.2?}, \
         `cron list` of {jobs} jobs in {:.2?}, RSS {}",
        t0.elapsed(),
        rss(&child)
    );
    stop(child);
}

fn main() {
    // `cargo bench` passes --bench; `cargo test --benches` runs nothing here.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let config = config(dir.path());
    add_through_the_socket(dir.path(), &config, size("BENCH_ADD_JOBS", 10_000));
    let dir = tempfile::tempdir().expect("tempdir");
    let config = self::config(dir.path());
    start_with_reminders(dir.path(), &config, size("BENCH_REMINDERS", 100_000));
}
