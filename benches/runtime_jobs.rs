//! Runtime-job figures: jobs added one by one through the control socket
//! (`cron.add`, each a new child of the tree), and the start of a daemon
//! whose state database holds many persisted one-shot reminders (time to
//! `READY=1`, then to the first `cron.list` answer, and RSS).
//!
//! `cargo bench --bench runtime_jobs` (`BENCH_ADD_JOBS`, default 10000, and
//! `BENCH_REMINDERS`, default 100000, set the sizes; `ZEROCLAW_BIN` measures
//! another binary).
//!
//! `BENCH_TABLE=1000,10000,100000` measures instead, for each size, a daemon
//! whose database holds that many jobs each firing once a minute (job `i` at
//! second `i % 60`, so the fires spread over the seconds): time to
//! `READY=1`, RSS once every job is armed and at the end, and the fire
//! jitter (started − scheduled, from the run history) over
//! `BENCH_TABLE_SECS` (default 60) seconds.

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

/// Write `n` runtime jobs straight into a fresh state database; `spec`
/// gives job `i`'s name, owner and schedule.
fn seed(dir: &Path, n: usize, spec: impl Fn(usize) -> (String, Option<String>, String)) {
    let db = dir.join("state/cron.sqlite3");
    drop(zeroclaw::cron::Store::open(&db).expect("create the database"));
    let mut conn = rusqlite::Connection::open(&db).expect("open");
    let tx = conn.transaction().expect("transaction");
    {
        let mut st = tx
            .prepare(
                // Ids are 32-bit hashes of names: among 100,000 a few collide.
                "INSERT OR IGNORE INTO runtime_jobs (id, name, owner, spec, created_at, done_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, NULL)",
            )
            .expect("prepare");
        for i in 0..n {
            let (name, owner, schedule) = spec(i);
            let spec = json!({
                "name": name, "schedule": schedule,
                "enabled": true, "message": "reminder", "provider": null, "model": null,
                "tools": [], "timezone": "UTC", "deliver_to": owner,
                "timeout": "5m",
            });
            st.execute(rusqlite::params![
                zeroclaw::cron::job_id(&name),
                name,
                owner,
                spec.to_string(),
                chrono::Utc::now().to_rfc3339(),
            ])
            .expect("insert");
        }
    }
    tx.commit().expect("commit");
}

/// `n` one-shot reminders an hour from now, from 1,000 chats.
fn seed_reminders(dir: &Path, n: usize) {
    let at = zeroclaw::cron::interval::at_expr(chrono::Utc::now() + chrono::Duration::hours(1));
    seed(dir, n, |i| {
        let chat = format!("telegram:{}", i % 1000);
        (format!("{chat} reminder {i}"), Some(chat), at.clone())
    });
}

fn percentile(sorted: &[i64], p: f64) -> f64 {
    let i = ((sorted.len().saturating_sub(1)) as f64 * p).round() as usize;
    sorted.get(i).copied().unwrap_or(0) as f64 / 1000.0
}

/// One row of the table: `n` jobs firing once a minute for `secs` seconds.
fn table_row(n: usize, secs: u64) {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = config(dir.path());
    seed(dir.path(), n, |i| {
        (format!("job-{i}"), None, format!("{} * * * * *", i % 60))
    });
    let (child, ready) = start(dir.path(), &config);
    let socket = dir.path().join("state/zeroclaw.sock");
    // Every job is armed once `cron list` answers with all of them.
    let list = client::call_with_timeout(&socket, &Call::CronList {}, Duration::from_secs(600))
        .expect("cron.list");
    let listed = list["jobs"].as_array().map(Vec::len).unwrap_or(0);
    let armed_rss = rss(&child);
    let window_start = chrono::Utc::now();
    std::thread::sleep(Duration::from_secs(secs));
    let end_rss = rss(&child);
    stop(child);
    let db = zeroclaw::cron::Store::open_read_only(&dir.path().join("state/cron.sqlite3"))
        .expect("open the history");
    let runs = db.runs(None, usize::MAX).expect("runs");
    let mut jitter: Vec<i64> = runs
        .iter()
        .filter(|r| r.scheduled_at.is_some_and(|t| t >= window_start))
        .filter(|r| r.started_at.is_some())
        .filter_map(|r| (r.started_at? - r.scheduled_at?).num_microseconds())
        .collect();
    jitter.sort_unstable();
    let not_run = runs
        .iter()
        .filter(|r| r.scheduled_at.is_some_and(|t| t >= window_start) && r.started_at.is_none())
        .count();
    println!(
        "| {n} | {listed} | {:.2} s | {armed_rss} | {end_rss} | {} (+{not_run} not run) | {:.1} | {:.1} | {:.1} |",
        ready.as_secs_f64(),
        jitter.len(),
        percentile(&jitter, 0.50),
        percentile(&jitter, 0.99),
        percentile(&jitter, 1.0),
    );
}

fn table(sizes: &str) {
    let secs = size("BENCH_TABLE_SECS", 60) as u64;
    println!("fires over {secs} s; jitter = started − scheduled, ms");
    println!("| jobs | listed | READY=1 | RSS armed | RSS at end | runs | p50 | p99 | max |");
    println!("|---|---|---|---|---|---|---|---|---|");
    for n in sizes.split(',').filter_map(|s| s.trim().parse().ok()) {
        table_row(n, secs);
    }
}

fn start_with_reminders(dir: &Path, config: &Path, n: usize) {
    seed_reminders(dir, n);
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
    if let Ok(sizes) = std::env::var("BENCH_TABLE") {
        return table(&sizes);
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let config = config(dir.path());
    add_through_the_socket(dir.path(), &config, size("BENCH_ADD_JOBS", 10_000));
    let dir = tempfile::tempdir().expect("tempdir");
    let config = self::config(dir.path());
    start_with_reminders(dir.path(), &config, size("BENCH_REMINDERS", 100_000));
}
