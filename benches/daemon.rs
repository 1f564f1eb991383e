//! Daemon figures, measured against the real release binary:
//! cold start to `READY=1` (median of 20), idle RSS after 10 s, and the
//! `status` round trip over the control socket (median, p99).
//!
//! `cargo bench --bench daemon` (set `ZEROCLAW_BENCH_CONFIG` to measure another
//! config, `ZEROCLAW_BIN` to measure another binary: cargo builds the one it
//! hands a bench with the dev-dependencies' features, which is not quite the
//! binary users get from `cargo build --release --bin zeroclaw`).

use std::os::unix::net::UnixDatagram;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use zeroclaw::control::client;

fn bin() -> String {
    std::env::var("ZEROCLAW_BIN").unwrap_or_else(|_| env!("CARGO_BIN_EXE_zeroclaw").to_string())
}

fn config(dir: &std::path::Path) -> std::path::PathBuf {
    let path = dir.join("config.toml");
    let text = match std::env::var("ZEROCLAW_BENCH_CONFIG") {
        Ok(p) => std::fs::read_to_string(p).expect("read ZEROCLAW_BENCH_CONFIG"),
        // The quickstart's shape: echo provider, gateway on loopback, one job.
        Err(_) => format!(
            "[daemon]\nstate_dir = \"{}\"\n[provider]\nname = \"echo\"\n[gateway]\nport = 0\nauth_token = \"bench\"\n\
             [[cron.jobs]]\nname = \"tick\"\nschedule = \"* * * * *\"\nmessage = \"hello\"\n",
            dir.join("state").display()
        ),
    };
    std::fs::write(&path, text).expect("write config");
    path
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn main() {
    // `cargo bench` passes --bench; `cargo test --benches` passes nothing useful: run only under bench.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let config = config(dir.path());
    let notify = dir.path().join("notify.sock");

    let mut starts = Vec::new();
    for _ in 0..20 {
        let _ = std::fs::remove_file(&notify);
        let sock = UnixDatagram::bind(&notify).expect("bind notify socket");
        sock.set_read_timeout(Some(Duration::from_secs(30)))
            .expect("timeout");
        let t0 = Instant::now();
        let mut child = Command::new(bin())
            .arg("--config")
            .arg(&config)
            .arg("daemon")
            .env("NOTIFY_SOCKET", &notify)
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn");
        let mut buf = [0u8; 512];
        loop {
            let n = sock.recv(&mut buf).expect("READY=1");
            if String::from_utf8_lossy(&buf[..n]).contains("READY=1") {
                break;
            }
        }
        starts.push(t0.elapsed());
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(child.id() as i32),
            nix::sys::signal::Signal::SIGTERM,
        );
        let _ = child.wait();
    }
    starts.sort();
    println!(
        "cold start to READY=1: median {:?}, min {:?}, max {:?} (n=20)",
        percentile(&starts, 0.5),
        starts[0],
        starts[starts.len() - 1]
    );

    let mut child = Command::new(bin())
        .arg("--config")
        .arg(&config)
        .arg("daemon")
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    let socket = dir.path().join("state/zeroclaw.sock");
    let deadline = Instant::now() + Duration::from_secs(30);
    while client::request(&socket, "status", serde_json::json!({})).is_err() {
        assert!(Instant::now() < deadline, "daemon did not start");
        std::thread::sleep(Duration::from_millis(10));
    }
    std::thread::sleep(Duration::from_secs(10));
    let status =
        std::fs::read_to_string(format!("/proc/{}/status", child.id())).unwrap_or_default();
    let rss = status
        .lines()
        .find(|l| l.starts_with("VmRSS"))
        .unwrap_or("VmRSS: ?")
        .to_string();
    println!(
        "idle RSS after 10 s: {}",
        rss.trim_start_matches("VmRSS:").trim()
    );

    let mut trips = Vec::new();
    for _ in 0..2000 {
        let t0 = Instant::now();
        client::request(&socket, "status", serde_json::json!({})).expect("status");
        trips.push(t0.elapsed());
    }
    trips.sort();
    println!(
        "status round trip: median {:?}, p99 {:?} (n=2000, includes connect)",
        percentile(&trips, 0.5),
        percentile(&trips, 0.99)
    );
    let _ = child.kill();
    let _ = child.wait();
}
