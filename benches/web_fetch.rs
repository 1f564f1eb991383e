//! Memory of `web_fetch` under hostile pages, measured on the real daemon:
//! 20 cron jobs run at once, each made (by a fake model) to fetch its own
//! 50 MB page from a local site. Prints the daemon's RSS before, its peak
//! (VmHWM) and after; the growth must stay within 16 MiB.
//!
//! `cargo bench --bench web_fetch` (the release binary), or
//! `cargo bench --profile dev --bench web_fetch` for a quick figure;
//! `ZEROCLAW_BIN` measures another binary.

#[path = "../tests/support/web.rs"]
mod web;

use axum::Router;
use axum::body::Bytes;
use axum::response::IntoResponse;
use axum::routing::post;
use serde_json::{Value, json};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use zeroclaw::control::client;

const JOBS: usize = 20;
const LIMIT_KIB: u64 = 16 * 1024;

fn bin() -> String {
    std::env::var("ZEROCLAW_BIN").unwrap_or_else(|_| env!("CARGO_BIN_EXE_zeroclaw").to_string())
}

fn proc_kib(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

/// An OpenAI-compatible model: asks for `web_fetch` of the URL in the
/// prompt, then answers once the tool result is there.
async fn model(body: Bytes) -> axum::response::Response {
    let req: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let messages = req["messages"].as_array().cloned().unwrap_or_default();
    let last = messages.last().cloned().unwrap_or(Value::Null);
    let message = if last["role"] == "tool" {
        json!({"role": "assistant", "content": "fetched"})
    } else {
        let url = last["content"].as_str().unwrap_or_default().to_string();
        json!({"role": "assistant", "content": null, "tool_calls": [{"id": "c1", "type": "function",
            "function": {"name": "web_fetch", "arguments": json!({"url": url}).to_string()}}]})
    };
    axum::Json(
        json!({"id": "x", "object": "chat.completion", "created": 0, "model": "m",
        "choices": [{"index": 0, "message": message, "finish_reason": "stop"}]}),
    )
    .into_response()
}

fn config(dir: &std::path::Path, site: &web::FakeSite, model_url: &str) -> std::path::PathBuf {
    let mut text = format!(
        "[daemon]\nstate_dir = \"{}\"\n[gateway]\nenabled = false\n\
         [provider]\nname = \"openai\"\nmodel = \"m\"\napi_key = \"k\"\nbase_url = \"{model_url}/v1\"\n\
         [agent]\nmax_concurrent = {JOBS}\n[cron]\nmax_concurrent = {JOBS}\n\
         [tools.web_fetch]\nallowed_hosts = [\"{}\"]\ncache_ttl = \"0s\"\n",
        dir.join("state").display(),
        site.allowed_host()
    );
    text.push_str(&format!(
        "[[cron.jobs]]\nname = \"warm\"\nschedule = \"0 0 1 1 *\"\nmessage = \"{}\"\ntools = [\"web_fetch\"]\n",
        site.url("/article/1")
    ));
    for i in 0..JOBS {
        text.push_str(&format!(
            "[[cron.jobs]]\nname = \"fetch-{i}\"\nschedule = \"0 0 1 1 *\"\nmessage = \"{}\"\n\
             tools = [\"web_fetch\"]\ntimeout = \"10m\"\n",
            site.url(&format!("/big?n={i}"))
        ));
    }
    let path = dir.join("config.toml");
    std::fs::write(&path, text).expect("write config");
    path
}

fn cron_run(config: &std::path::Path, job: &str) -> std::process::Child {
    Command::new(bin())
        .arg("--config")
        .arg(config)
        .args(["cron", "run", job])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn cron run")
}

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let site = rt.block_on(web::FakeSite::start());
    let model_url = rt.block_on(async {
        let app = Router::new().route("/v1/chat/completions", post(model));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        format!("http://{addr}")
    });
    let dir = tempfile::tempdir().expect("tempdir");
    let config = config(dir.path(), &site, &model_url);
    let mut daemon = Command::new(bin())
        .arg("--config")
        .arg(&config)
        .arg("daemon")
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn daemon");
    let pid = daemon.id();
    let socket = dir.path().join("state/zeroclaw.sock");
    let deadline = Instant::now() + Duration::from_secs(30);
    while client::request(&socket, "status", json!({})).is_err() {
        assert!(Instant::now() < deadline, "daemon did not start");
        std::thread::sleep(Duration::from_millis(10));
    }
    // One small fetch first, so code and pools used by every fetch are in.
    let _ = cron_run(&config, "warm").wait();
    let before = proc_kib(pid, "VmRSS:");
    // VmHWM is the peak since start; reset it to now (Linux 4.0+).
    let _ = std::fs::write(format!("/proc/{pid}/clear_refs"), "5");
    let t0 = Instant::now();
    let runs: Vec<_> = (0..JOBS)
        .map(|i| cron_run(&config, &format!("fetch-{i}")))
        .collect();
    for mut r in runs {
        let _ = r.wait();
    }
    let elapsed = t0.elapsed();
    let peak = proc_kib(pid, "VmHWM:");
    let after = proc_kib(pid, "VmRSS:");
    let sent = site
        .inner
        .big_bytes_sent
        .load(std::sync::atomic::Ordering::Relaxed);
    let growth = peak.saturating_sub(before);
    println!(
        "{JOBS} concurrent fetches of 50 MB pages in {elapsed:?}: RSS before {before} KiB, \
         peak {peak} KiB (+{growth} KiB), after {after} KiB; {} MiB of page bodies produced",
        sent / (1024 * 1024)
    );
    println!(
        "growth {} the {LIMIT_KIB} KiB budget",
        if growth <= LIMIT_KIB {
            "within"
        } else {
            "OVER"
        }
    );
    let _ = nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(pid as i32),
        nix::sys::signal::Signal::SIGTERM,
    );
    let _ = daemon.wait();
}
