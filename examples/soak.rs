//! Soak and idle-footprint driver for the real `zeroclaw` binary.
//! Not a test and not run by CI: `benches/soak.sh` and `benches/table.sh` run it.
//!
//! ```text
//! soak <zeroclaw binary> soak <duration>   # faults + load, then assertions (exit 1 on failure)
//! soak <zeroclaw binary> idle <secs>       # gateway + 3 channels on fakes + 100 jobs: RSS, restart latency
//! ```
//!
//! The fakes of `tests/support/` run in this process on 127.0.0.1, so the
//! driver injects faults by flipping their knobs and knows exactly what they
//! delivered. The provider is a small OpenAI-compatible fake written here
//! (the one in `tests/support/openai.rs` is scripted step by step; the soak
//! needs a random error rate and a count per message instead).
//! Messages cycle through a pool of chats per channel, so "answered exactly
//! once" is the count of replies per chat against the messages sent to it.

#[path = "../tests/support/discord.rs"]
mod discord;
#[path = "../tests/support/slack.rs"]
mod slack;
#[path = "../tests/support/telegram.rs"]
mod telegram;

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

type Res<T> = Result<T, String>;

const TG_USER: i64 = 42;
const CRON_JOBS: usize = 3;
/// Chats (and webhook sessions) per channel that messages cycle through, so
/// the agent's per-session memory reaches a steady state during warm-up
/// (with `max_history_turns = 4`, after 40 s at one message per channel
/// every 0.5 s).
const POOL: u64 = 20;
/// How long a whole-service outage lasts, and how often one starts.
const OUTAGE: Duration = Duration::from_secs(30);
const OUTAGE_EVERY: Duration = Duration::from_secs(60);

fn chat_of(n: u64) -> u64 {
    n % POOL
}

// ---------------------------------------------------------------- provider

#[derive(Default)]
struct ProviderState {
    /// Requests seen per user message.
    calls: Mutex<HashMap<String, u32>>,
    /// Probability (per mille) of an error answer.
    error_permille: AtomicU64,
    errors: AtomicU64,
}

#[derive(Clone)]
struct Provider {
    base_url: String,
    state: Arc<ProviderState>,
}

impl Provider {
    async fn start() -> Res<Self> {
        let state = Arc::new(ProviderState::default());
        let app = Router::new()
            .route("/v1/chat/completions", post(completions))
            .with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(|e| format!("bind provider: {e}"))?;
        let addr = listener
            .local_addr()
            .map_err(|e| format!("provider addr: {e}"))?;
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(Self {
            base_url: format!("http://{addr}"),
            state,
        })
    }

    fn calls(&self) -> HashMap<String, u32> {
        self.state
            .calls
            .lock()
            .map(|c| c.clone())
            .unwrap_or_default()
    }
}

async fn completions(State(state): State<Arc<ProviderState>>, body: axum::body::Bytes) -> Response {
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let last_user = body["messages"]
        .as_array()
        .and_then(|m| m.iter().rev().find(|m| m["role"] == "user"))
        .and_then(|m| m["content"].as_str())
        .unwrap_or("")
        .to_string();
    if let Ok(mut c) = state.calls.lock() {
        *c.entry(last_user.clone()).or_default() += 1;
    }
    let p = state.error_permille.load(Ordering::Relaxed);
    let roll = rand::random_range(0..1000u64);
    if roll < p {
        state.errors.fetch_add(1, Ordering::Relaxed);
        let (status, kind) = if roll % 2 == 0 {
            (StatusCode::INTERNAL_SERVER_ERROR, "server_error")
        } else {
            (StatusCode::TOO_MANY_REQUESTS, "rate_limit_exceeded")
        };
        let err = json!({"error": {"message": format!("fake {kind}"), "type": kind, "param": null, "code": null}});
        return (status, axum::Json(err)).into_response();
    }
    axum::Json(json!({
        "id": "chatcmpl-soak",
        "object": "chat.completion",
        "created": 1_700_000_000,
        "model": body["model"].clone(),
        "choices": [{"index": 0, "message": {"role": "assistant", "content": format!("re: {last_user}")}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
    }))
    .into_response()
}

// ---------------------------------------------------------------- daemon

struct Fakes {
    tg: telegram::FakeTelegram,
    dc: discord::FakeDiscord,
    sl: slack::FakeSlack,
    provider: Provider,
}

impl Fakes {
    async fn start() -> Res<Self> {
        let dc = discord::FakeDiscord::start().await;
        // A 1 s heartbeat: withheld ACKs are noticed within a couple of seconds.
        dc.with(|s| s.heartbeat_ms = 1000);
        Ok(Self {
            tg: telegram::FakeTelegram::start().await,
            dc,
            sl: slack::FakeSlack::start().await,
            provider: Provider::start().await?,
        })
    }
}

fn free_port() -> Res<u16> {
    let l = std::net::TcpListener::bind("127.0.0.1:0").map_err(|e| format!("free port: {e}"))?;
    l.local_addr()
        .map(|a| a.port())
        .map_err(|e| format!("free port: {e}"))
}

/// The config: gateway, the three channels on the fakes, the provider fake,
/// and `jobs` cron jobs on `schedule`.
fn write_config(dir: &Path, f: &Fakes, port: u16, jobs: usize, schedule: &str) -> Res<PathBuf> {
    let state = dir.join("state");
    let mut text = format!(
        r#"[daemon]
state_dir = "{state}"
shutdown_timeout = "5s"

[supervisor]
restart_sec = "100ms"
start_limit_burst = 1000
start_limit_interval = "1s"

[provider]
name = "openai"
model = "gpt-soak"
api_key = "sk-soak"
base_url = "{provider}"
max_retries = 0
timeout = "10s"

[gateway]
port = {port}
auth_token = "soak-token"

[channel.telegram]
bot_token = "{tg_token}"
allowed_users = ["{TG_USER}"]
api_base = "{tg}"
poll_timeout = "1s"
send_interval = "0ms"

[channel.discord]
bot_token = "{dc_token}"
api_base = "{dc_api}"
gateway_url = "{dc_gw}"

[channel.slack]
bot_token = "{sl_bot}"
app_token = "{sl_app}"
api_base = "{sl_api}"

[logging]
file = "{log}"
level = "info"

[cron]
max_runs_per_job = 100000

# Session memory is bounded by these; short bounds let every session reach
# its cap during warm-up, so growth after it is a leak and not history
# still filling up (at the defaults, 20 turns at one message per chat every
# 10 s takes over three minutes).
[agent]
max_history_turns = 4
"#,
        state = state.display(),
        provider = f.provider.base_url,
        tg_token = telegram::TOKEN,
        tg = f.tg.api_base(),
        dc_token = discord::TOKEN,
        dc_api = f.dc.api_base(),
        dc_gw = f.dc.gateway_url(),
        sl_bot = slack::BOT_TOKEN,
        sl_app = slack::APP_TOKEN,
        sl_api = f.sl.api_base(),
        log = dir.join("zeroclaw.log").display(),
    );
    for i in 0..jobs {
        text.push_str(&format!(
            "\n[[cron.jobs]]\nname = \"job-{i}\"\nschedule = \"{schedule}\"\nmessage = \"cron-job-{i}\"\ntimeout = \"10s\"\n"
        ));
    }
    let path = dir.join("config.toml");
    std::fs::write(&path, text).map_err(|e| format!("write config: {e}"))?;
    Ok(path)
}

struct Daemon {
    bin: PathBuf,
    config: PathBuf,
    socket: PathBuf,
    child: Child,
}

impl Daemon {
    fn start(bin: &Path, dir: &Path, config: &Path) -> Res<Self> {
        let stderr = std::fs::File::create(dir.join("stderr.log"))
            .map_err(|e| format!("stderr log: {e}"))?;
        let child = Command::new(bin)
            .arg("--config")
            .arg(config)
            .arg("daemon")
            .env_remove("NOTIFY_SOCKET")
            .env_remove("RUST_LOG")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(stderr)
            .spawn()
            .map_err(|e| format!("spawn {}: {e}", bin.display()))?;
        let d = Self {
            bin: bin.to_path_buf(),
            config: config.to_path_buf(),
            socket: dir.join("state/zeroclaw.sock"),
            child,
        };
        wait_until("daemon answers status", Duration::from_secs(30), || {
            d.status().is_some()
        })?;
        Ok(d)
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    fn status(&self) -> Option<Value> {
        zeroclaw::control::client::request(&self.socket, "status", json!({})).ok()
    }

    fn children(&self) -> Vec<Value> {
        self.status()
            .and_then(|s| s["children"].as_array().cloned())
            .unwrap_or_default()
    }

    fn child_state(&self, name: &str) -> Option<(String, u64)> {
        self.children()
            .into_iter()
            .find(|c| c["name"] == name)
            .map(|c| {
                (
                    c["state"].as_str().unwrap_or("?").to_string(),
                    c["restarts"].as_u64().unwrap_or(0),
                )
            })
    }

    /// `zeroclaw restart <child>` through the real CLI; its exit code.
    fn cli_restart(&self, child: &str) -> Option<i32> {
        Command::new(&self.bin)
            .arg("--config")
            .arg(&self.config)
            .args(["restart", child])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .ok()
            .and_then(|s| s.code())
    }

    fn cron_runs(&self) -> Res<Vec<Value>> {
        let out = Command::new(&self.bin)
            .arg("--config")
            .arg(&self.config)
            .args(["cron", "runs", "--json", "--limit", "10000"])
            .output()
            .map_err(|e| format!("cron runs: {e}"))?;
        let v: Value = serde_json::from_slice(&out.stdout)
            .map_err(|e| format!("cron runs --json: {e}: {:?}", out))?;
        Ok(v["runs"].as_array().cloned().unwrap_or_default())
    }

    fn exited(&mut self) -> Option<std::process::ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    fn stop(&mut self) {
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(self.child.id() as i32),
            nix::sys::signal::Signal::SIGTERM,
        );
        let deadline = Instant::now() + Duration::from_secs(10);
        while self.exited().is_none() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if self.exited().is_none() {
            self.stop();
        }
    }
}

fn wait_until(what: &str, timeout: Duration, mut cond: impl FnMut() -> bool) -> Res<()> {
    let deadline = Instant::now() + timeout;
    while !cond() {
        if Instant::now() > deadline {
            return Err(format!("timed out after {timeout:?} waiting for {what}"));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Ok(())
}

fn proc_kib(pid: u32, key: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(key))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|n| n.parse().ok())
        })
        .unwrap_or(0)
}

fn fd_count(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .map(|d| d.count())
        .unwrap_or(0)
}

fn all_running(d: &Daemon) -> bool {
    let c = d.children();
    !c.is_empty() && c.iter().all(|c| c["state"] == "running")
}

/// Run blocking daemon/CLI calls off the async workers.
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Res<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| format!("blocking task: {e}"))
}

/// A temp dir for config, state and log; with `SOAK_KEEP=1` it outlives the run.
fn state_dir() -> Res<(PathBuf, Option<tempfile::TempDir>)> {
    let tmp = tempfile::tempdir().map_err(|e| format!("tempdir: {e}"))?;
    if std::env::var_os("SOAK_KEEP").is_some() {
        let path = tmp.keep();
        println!("state dir (kept): {}", path.display());
        return Ok((path, None));
    }
    Ok((tmp.path().to_path_buf(), Some(tmp)))
}

// ---------------------------------------------------------------- idle mode

async fn idle(bin: PathBuf, secs: u64) -> Res<()> {
    let (path, _guard) = state_dir()?;
    let fakes = Fakes::start().await?;
    let config = write_config(&path, &fakes, free_port()?, 100, "0 0 3 * * *")?;
    let d = blocking(move || Daemon::start(&bin, &path, &config)).await??;
    let d = Arc::new(Mutex::new(d));
    let dd = d.clone();
    blocking(move || {
        let d = dd.lock().map_err(|_| "lock".to_string())?;
        wait_until("all children running", Duration::from_secs(30), || {
            all_running(&d)
        })
    })
    .await??;
    // One message through each channel: the idle figure is after real use.
    fakes.tg.push_text(1, TG_USER, "idle-tg");
    fakes.dc.push_message(None, "1", "7", false, "idle-dc");
    fakes.sl.push_message("C1", "U7", "idle-sl", None);
    let (tg, dc, sl) = (fakes.tg.clone(), fakes.dc.clone(), fakes.sl.clone());
    blocking(move || {
        wait_until("one reply per channel", Duration::from_secs(30), || {
            !tg.sent().is_empty() && !dc.sent().is_empty() && !sl.sent().is_empty()
        })
    })
    .await??;
    tokio::time::sleep(Duration::from_secs(secs)).await;
    let dd = d.clone();
    blocking(move || -> Res<()> {
        let d = dd.lock().map_err(|_| "lock".to_string())?;
        let pid = d.pid();
        println!(
            "idle_rss_kib={} idle_rss_anon_kib={} idle_rss_file_kib={} idle_fds={} children={}",
            proc_kib(pid, "VmRSS:"),
            proc_kib(pid, "RssAnon:"),
            proc_kib(pid, "RssFile:"),
            fd_count(pid),
            d.children().len()
        );
        // Restart -> running again: `restart` over the control socket answers once
        // the new start was attempted, then `status` must show the child running (the
        // stop is a real stop of the actor and its tasks; the start is the
        // supervisor's normal start path).
        let mut samples = Vec::new();
        for child in [
            "channel:telegram",
            "channel:discord",
            "channel:slack",
            "gateway",
        ] {
            for _ in 0..5 {
                let t0 = Instant::now();
                zeroclaw::control::client::request(&d.socket, "restart", json!({ "child": child }))
                    .map_err(|e| format!("restart {child}: {e}"))?;
                wait_until(
                    &format!("{child} running again"),
                    Duration::from_secs(30),
                    || d.child_state(child).is_some_and(|(s, _)| s == "running"),
                )?;
                samples.push((child, t0.elapsed()));
            }
        }
        let mut all: Vec<Duration> = samples.iter().map(|s| s.1).collect();
        all.sort();
        println!(
            "restart_to_running_ms_median={:.2} restart_to_running_ms_max={:.2} n={}",
            all[all.len() / 2].as_secs_f64() * 1e3,
            all[all.len() - 1].as_secs_f64() * 1e3,
            all.len()
        );
        Ok(())
    })
    .await??;
    Ok(())
}

// ---------------------------------------------------------------- soak mode

#[derive(Default)]
struct Counters {
    webhook_ok: AtomicU64,
    webhook_provider_error: AtomicU64,
    webhook_wrong_reply: AtomicU64,
    webhook_refused: AtomicU64,
    webhook_other: AtomicU64,
    restarts_ok: AtomicU64,
    restarts_failed: AtomicU64,
}

struct SlackPending {
    event: Value,
    envelopes: Vec<String>,
    pushed_at: Instant,
}

fn chance(permille: u64) -> bool {
    rand::random_range(0..1000u64) < permille
}

async fn soak(bin: PathBuf, duration: Duration) -> Res<()> {
    let (path, _guard) = state_dir()?;
    let fakes = Arc::new(Fakes::start().await?);
    let port = free_port()?;
    let config = write_config(&path, &fakes, port, CRON_JOBS, "* * * * * *")?;
    let path = path.clone();
    let d = blocking(move || Daemon::start(&bin, &path, &config)).await??;
    let d = Arc::new(Mutex::new(d));
    let pid = d.lock().map_err(|_| "lock")?.pid();
    let socket = d.lock().map_err(|_| "lock")?.socket.clone();
    let dd = d.clone();
    blocking(move || {
        let d = dd.lock().map_err(|_| "lock".to_string())?;
        wait_until("all children running", Duration::from_secs(30), || {
            all_running(&d)
        })
    })
    .await??;
    let names: Vec<String> = d
        .lock()
        .map_err(|_| "lock")?
        .children()
        .iter()
        .filter_map(|c| c["name"].as_str().map(String::from))
        .collect();
    println!("soak: pid {pid}, {duration:?}, children {names:?}");
    fakes
        .provider
        .state
        .error_permille
        .store(100, Ordering::Relaxed);

    let started = Instant::now();
    let end = started + duration;
    let warmup = (duration / 4)
        .max(Duration::from_secs(20))
        .min(duration / 2);
    let counters = Arc::new(Counters::default());
    let mut tasks = Vec::new();

    // Webhook load: 20 requests/s, each with its own id, each checked for its own answer.
    {
        let counters = counters.clone();
        tasks.push(tokio::spawn(async move {
            let client = reqwest::Client::builder()
                .timeout(Duration::from_secs(15))
                .build()
                .unwrap_or_default();
            let url = format!("http://127.0.0.1:{port}/webhook");
            let mut tick = tokio::time::interval(Duration::from_millis(50));
            let mut n = 0u64;
            while Instant::now() < end {
                tick.tick().await;
                n += 1;
                let (client, url, counters) = (client.clone(), url.clone(), counters.clone());
                tokio::spawn(async move {
                    let msg = format!("wh-{n}");
                    let r = client
                        .post(&url)
                        .bearer_auth("soak-token")
                        .json(&json!({"message": msg, "session": format!("wh-{}", chat_of(n))}))
                        .send()
                        .await;
                    let c = &counters;
                    match r {
                        Err(_) => c.webhook_refused.fetch_add(1, Ordering::Relaxed),
                        Ok(r) if r.status().is_success() => {
                            let v: Value = r.json().await.unwrap_or(Value::Null);
                            let text = v["response"].as_str().unwrap_or("");
                            if text == format!("re: {msg}") {
                                c.webhook_ok.fetch_add(1, Ordering::Relaxed)
                            } else if text.starts_with("re: ") {
                                c.webhook_wrong_reply.fetch_add(1, Ordering::Relaxed)
                            } else {
                                c.webhook_provider_error.fetch_add(1, Ordering::Relaxed)
                            }
                        }
                        Ok(r) if r.status().is_server_error() => {
                            c.webhook_provider_error.fetch_add(1, Ordering::Relaxed)
                        }
                        Ok(_) => c.webhook_other.fetch_add(1, Ordering::Relaxed),
                    };
                });
            }
        }));
    }

    // Channel load, 2 messages/s per channel, each in a chat/channel of its own;
    // plus the faults.
    let tg_sent = Arc::new(AtomicU64::new(0));
    let dc_sent = Arc::new(AtomicU64::new(0));
    let slack_pending: Arc<Mutex<BTreeMap<u64, SlackPending>>> = Arc::default();
    let slack_redelivered = Arc::new(AtomicU64::new(0));
    let faults: Arc<Mutex<BTreeMap<&'static str, u64>>> = Arc::default();
    {
        let fakes = fakes.clone();
        let (tg_sent, dc_sent) = (tg_sent.clone(), dc_sent.clone());
        let (slack_pending, slack_redelivered) = (slack_pending.clone(), slack_redelivered.clone());
        let faults = faults.clone();
        tasks.push(tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_millis(500));
            let mut withhold_until: Option<Instant> = None;
            let mut n = 0u64;
            let fault = |name: &'static str| {
                if let Ok(mut f) = faults.lock() {
                    *f.entry(name).or_default() += 1;
                }
            };
            while Instant::now() < end {
                tick.tick().await;
                n += 1;
                fakes
                    .tg
                    .push_text(1_000_000 + chat_of(n) as i64, TG_USER, &format!("tg-{n}"));
                tg_sent.fetch_add(1, Ordering::Relaxed);
                fakes.dc.push_message(
                    None,
                    &format!("{}", 1_000_000 + chat_of(n)),
                    "7",
                    false,
                    &format!("dc-{n}"),
                );
                dc_sent.fetch_add(1, Ordering::Relaxed);
                let event =
                    slack::message_event(&format!("C{}", chat_of(n)), "U7", &format!("sl-{n}"));
                let (env, _) = fakes.sl.push_event(event.clone(), Some(&format!("Ev{n}")));
                if let Ok(mut p) = slack_pending.lock() {
                    p.insert(
                        n,
                        SlackPending {
                            event,
                            envelopes: vec![env],
                            pushed_at: Instant::now(),
                        },
                    );
                }
                // Slack re-delivers an envelope nobody acknowledged (same event_id).
                let acks = fakes.sl.with(|s| s.acks.clone());
                if let Ok(mut p) = slack_pending.lock() {
                    p.retain(|_, e| !e.envelopes.iter().any(|x| acks.contains(x)));
                    for (k, e) in p.iter_mut() {
                        if e.pushed_at.elapsed() > Duration::from_secs(10) {
                            let (env, _) = fakes
                                .sl
                                .push_event(e.event.clone(), Some(&format!("Ev{k}")));
                            e.envelopes.push(env);
                            e.pushed_at = Instant::now();
                            slack_redelivered.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                }
                // Faults. A call fault is "the next call fails", never a
                // growing debt: faults that pile up while the channel backs
                // off (or waits out an outage) would model a service failing
                // N calls in a row where N grows with the client's patience,
                // which no service does.
                if chance(60) {
                    fakes.tg.with(|s| s.fail_polls = s.fail_polls.max(1));
                    fault("telegram getUpdates 502");
                }
                if chance(60) {
                    fakes.tg.with(|s| s.drop_polls = s.drop_polls.max(1));
                    fault("telegram getUpdates dropped");
                }
                if chance(60) {
                    fakes
                        .tg
                        .with(|s| s.rate_limit_sends = s.rate_limit_sends.max(1));
                    fault("telegram sendMessage 429");
                }
                if chance(40) {
                    fakes.dc.drop_connection();
                    fault("discord socket dropped");
                }
                if chance(60) {
                    fakes
                        .dc
                        .with(|s| s.rate_limit_posts = s.rate_limit_posts.max(1));
                    fault("discord post 429");
                }
                if chance(30) {
                    fakes.dc.with(|s| s.fail_posts = s.fail_posts.max(1));
                    fault("discord post 502");
                }
                if withhold_until.is_some_and(|t| Instant::now() > t) {
                    fakes.dc.with(|s| s.withhold_acks = false);
                    withhold_until = None;
                }
                if withhold_until.is_none() && chance(20) {
                    fakes.dc.with(|s| s.withhold_acks = true);
                    withhold_until = Some(Instant::now() + Duration::from_secs(4));
                    fault("discord heartbeat ACKs withheld 4 s");
                }
                if chance(30) {
                    fakes.sl.drop_connection();
                    fault("slack socket dropped");
                }
                if chance(30) {
                    fakes.sl.disconnect();
                    fault("slack disconnect frame");
                }
                if chance(60) {
                    fakes
                        .sl
                        .with(|s| s.rate_limit_posts = s.rate_limit_posts.max(1));
                    fault("slack post 429");
                }
                if chance(20) {
                    fakes.sl.with(|s| s.fail_opens = s.fail_opens.max(1));
                    fault("slack connections.open 500");
                }
            }
            fakes.dc.with(|s| s.withhold_acks = false);
        }));
    }

    // Whole-service outages: every call to one service refused or dropped
    // for OUTAGE, every OUTAGE_EVERY, the services in turn; never in the last
    // minute, so the channel has its time to come back and catch up.
    {
        let fakes = fakes.clone();
        let faults = faults.clone();
        tasks.push(tokio::spawn(async move {
            let mut turn = 0u32;
            loop {
                tokio::time::sleep(OUTAGE_EVERY).await;
                if Instant::now() + OUTAGE + Duration::from_secs(60) > end {
                    break;
                }
                let name = match turn % 3 {
                    0 => {
                        fakes.tg.with(|s| s.outage = true);
                        "telegram outage 30 s"
                    }
                    1 => {
                        fakes.dc.set_outage(true);
                        "discord outage 30 s"
                    }
                    _ => {
                        fakes.sl.set_outage(true);
                        "slack outage 30 s"
                    }
                };
                if let Ok(mut f) = faults.lock() {
                    *f.entry(name).or_default() += 1;
                }
                tokio::time::sleep(OUTAGE).await;
                fakes.tg.with(|s| s.outage = false);
                fakes.dc.set_outage(false);
                fakes.sl.set_outage(false);
                turn += 1;
            }
        }));
    }

    // `zeroclaw restart <child>` every 3 s, round robin over every child.
    {
        let d = d.clone();
        let counters = counters.clone();
        let names = names.clone();
        tasks.push(tokio::spawn(async move {
            let mut i = 0usize;
            while Instant::now() + Duration::from_secs(3) < end {
                tokio::time::sleep(Duration::from_secs(3)).await;
                let child = names[i % names.len()].clone();
                i += 1;
                let d = d.clone();
                let code = blocking(move || d.lock().ok().and_then(|d| d.cli_restart(&child)))
                    .await
                    .ok()
                    .flatten();
                if code == Some(0) {
                    counters.restarts_ok.fetch_add(1, Ordering::Relaxed);
                } else {
                    counters.restarts_failed.fetch_add(1, Ordering::Relaxed);
                }
            }
        }));
    }

    // Watch: the daemon must never exit; RSS and fds sampled every 5 s.
    let mut samples: Vec<(Duration, u64, usize)> = Vec::new();
    let mut exited = None;
    let mut warm: Option<(u64, usize)> = None;
    while Instant::now() < end {
        tokio::time::sleep(Duration::from_secs(1)).await;
        if let Some(s) = d.lock().map_err(|_| "lock")?.exited() {
            exited = Some(s);
            break;
        }
        let t = started.elapsed();
        if t.as_secs().is_multiple_of(5) {
            let s = (t, proc_kib(pid, "VmRSS:"), fd_count(pid));
            if warm.is_none() && t >= warmup {
                warm = Some((s.1, s.2));
            }
            samples.push(s);
        }
    }
    let mut failures: Vec<String> = Vec::new();
    for t in tasks {
        if let Err(e) = t.await {
            failures.push(format!("a driver task failed: {e}"));
        }
    }
    if let Some(s) = exited {
        failures.push(format!("the daemon exited during the soak: {s}"));
        report(&fakes, &counters, &faults, &samples, &failures);
        return Err("soak failed".into());
    }

    // Quiesce: faults are off; let every channel catch up.
    fakes
        .provider
        .state
        .error_permille
        .store(0, Ordering::Relaxed);
    println!("soak: load stopped at {:?}; quiescing", started.elapsed());
    let dd = d.clone();
    if let Err(e) = blocking(move || {
        let d = dd.lock().map_err(|_| "lock".to_string())?;
        wait_until("every child running", Duration::from_secs(30), || {
            all_running(&d)
        })
    })
    .await?
    {
        let dd = d.clone();
        let ch = blocking(move || dd.lock().map(|d| d.children()).unwrap_or_default()).await?;
        failures.push(format!("{e}: {}", Value::Array(ch)));
    }
    let n_tg = tg_sent.load(Ordering::Relaxed);
    let n_dc = dc_sent.load(Ordering::Relaxed);
    let fk = fakes.clone();
    let sp = slack_pending.clone();
    let _ = blocking(move || {
        wait_until(
            "telegram and slack caught up",
            Duration::from_secs(45),
            || {
                let tg = fk.tg.sent();
                let acks = fk.sl.with(|s| s.acks.clone());
                let mut slack_done = false;
                if let Ok(mut p) = sp.lock() {
                    p.retain(|_, e| !e.envelopes.iter().any(|x| acks.contains(x)));
                    for (k, e) in p.iter_mut() {
                        if e.pushed_at.elapsed() > Duration::from_secs(10) {
                            let (env, _) =
                                fk.sl.push_event(e.event.clone(), Some(&format!("Ev{k}")));
                            e.envelopes.push(env);
                            e.pushed_at = Instant::now();
                        }
                    }
                    slack_done = p.is_empty();
                }
                tg.len() as u64 >= n_tg && slack_done
            },
        )
    })
    .await?;
    // Settle: a duplicate would show up now; then the end figures.
    tokio::time::sleep(Duration::from_secs(5)).await;
    // RSS and fds now, at the end of the load: the checks below ask the
    // daemon for thousands of cron runs in one answer, a peak of the
    // harness's own making that the allocator keeps.
    let end_rss = proc_kib(pid, "VmRSS:");
    let end_fds = fd_count(pid);

    // Exactly once per update.
    let count = |sent: Vec<String>| {
        let mut m: HashMap<String, u32> = HashMap::new();
        for chat in sent {
            *m.entry(chat).or_default() += 1;
        }
        m
    };
    let tg = count(fakes.tg.sent().into_iter().map(|(c, _)| c).collect());
    let dc = count(fakes.dc.sent().into_iter().map(|(c, _)| c).collect());
    let sl = count(fakes.sl.sent().into_iter().map(|(c, _, _)| c).collect());
    // Answers per chat against messages sent to it.
    let check = |name: &str,
                 m: &HashMap<String, u32>,
                 chat: &dyn Fn(u64) -> String,
                 n: u64,
                 must: bool,
                 failures: &mut Vec<String>| {
        let mut expected: HashMap<String, u32> = HashMap::new();
        for i in 1..=n {
            *expected.entry(chat(chat_of(i))).or_default() += 1;
        }
        let (mut missing, mut extra) = (0u32, 0u32);
        let mut bad = Vec::new();
        for (k, want) in &expected {
            let got = m.get(k).copied().unwrap_or(0);
            if got != *want {
                bad.push(format!("{k}: {got} answers to {want} messages"));
            }
            missing += want.saturating_sub(got);
            extra += got.saturating_sub(*want);
        }
        println!(
            "{name}: {n} delivered, {} answered, {missing} unanswered, {extra} answered twice",
            n - u64::from(missing)
        );
        if extra > 0 || (must && missing > 0) {
            failures.push(format!("{name}: not exactly once: {bad:?}"));
        }
    };
    check(
        "telegram",
        &tg,
        &|k| (1_000_000 + k).to_string(),
        n_tg,
        true,
        &mut failures,
    );
    check(
        "slack",
        &sl,
        &|k| format!("C{k}"),
        n_tg,
        true,
        &mut failures,
    );
    // Discord's fake replays what the client missed on RESUME, as Discord
    // does, so exactly once holds for Discord too.
    check(
        "discord",
        &dc,
        &|k| (1_000_000 + k).to_string(),
        n_dc,
        true,
        &mut failures,
    );

    // Webhook: every answer was for its own request.
    if counters.webhook_wrong_reply.load(Ordering::Relaxed) > 0 {
        failures.push("webhook: an answer to another request".into());
    }

    // Cron: every fire in the history with a final status, and the history
    // matches what the provider saw.
    let dd = d.clone();
    let runs = blocking(move || dd.lock().map_err(|_| "lock".to_string())?.cron_runs()).await??;
    let now = chrono::Utc::now();
    let calls = fakes.provider.calls();
    let mut by_job: BTreeMap<String, (u64, u64, u64)> = BTreeMap::new();
    for r in &runs {
        let name = r["job_name"].as_str().unwrap_or("?").to_string();
        let e = by_job.entry(name).or_default();
        let status = r["status"].as_str().unwrap_or("?");
        // `missed`/`skipped` rows are fires that did not run (actor down, or
        // the previous run still going): in the history, no provider request.
        if r["started_at"].is_null() {
            e.1 += 1;
        } else {
            e.0 += 1;
        }
        if status == "running" {
            let started = r["started_at"]
                .as_str()
                .and_then(|s| chrono::DateTime::parse_from_rfc3339(s).ok());
            let age = started.map(|s| (now - s.with_timezone(&chrono::Utc)).num_seconds());
            if age.is_none_or(|a| a > 15) {
                failures.push(format!("cron run left running: {r}"));
            }
            e.2 += 1;
        } else if !["ok", "error", "timeout", "interrupted", "skipped", "missed"].contains(&status)
        {
            failures.push(format!("cron run with status {status}: {r}"));
        }
    }
    for i in 0..CRON_JOBS {
        let job = format!("job-{i}");
        let (rows, not_run, running) = by_job.get(&job).copied().unwrap_or_default();
        let seen = calls.get(&format!("cron-job-{i}")).copied().unwrap_or(0) as u64;
        let secs = started.elapsed().as_secs();
        println!(
            "cron {job}: {rows} runs in history ({running} running) + {not_run} missed/skipped fires, {seen} provider requests, ~{secs} s of schedule"
        );
        // Each run is one provider request (max_retries = 0); a fire not in
        // the history would show as a request without a row.
        if seen > rows + 1 || rows > seen + running + 1 {
            failures.push(format!(
                "cron {job}: {rows} runs in history but {seen} provider requests"
            ));
        }
        if (rows + not_run) * 10 < secs * 8 {
            failures.push(format!(
                "cron {job}: only {rows} runs in {secs} s of a 1 s schedule"
            ));
        }
    }

    // RSS and fds after warm-up.
    samples.push((started.elapsed(), end_rss, end_fds));
    if let Some((rss, fds)) = warm {
        println!(
            "rss after warm-up {rss} KiB, at end {end_rss} KiB; fds after warm-up {fds}, at end {end_fds}"
        );
        if end_rss > rss + 1024 {
            failures.push(format!(
                "RSS grew by {} KiB after warm-up (limit 1024)",
                end_rss - rss
            ));
        }
        if end_fds > fds + 2 {
            failures.push(format!("fds grew from {fds} to {end_fds}"));
        }
    }
    let dd = d.clone();
    if blocking(move || dd.lock().ok().and_then(|mut d| d.exited()))
        .await?
        .is_some()
    {
        failures.push("the daemon exited".into());
    }
    let _ = socket;
    report(&fakes, &counters, &faults, &samples, &failures);
    let dd = d.clone();
    let _ = blocking(move || {
        if let Ok(mut d) = dd.lock() {
            d.stop()
        }
    })
    .await;
    if failures.is_empty() {
        println!("SOAK PASSED");
        Ok(())
    } else {
        Err("SOAK FAILED".into())
    }
}

fn report(
    fakes: &Fakes,
    c: &Counters,
    faults: &Mutex<BTreeMap<&'static str, u64>>,
    samples: &[(Duration, u64, usize)],
    failures: &[String],
) {
    let l = |a: &AtomicU64| a.load(Ordering::Relaxed);
    println!(
        "webhook: {} answered with their own reply, {} provider-error answers, {} refused (gateway restarting), {} other, {} wrong reply",
        l(&c.webhook_ok),
        l(&c.webhook_provider_error),
        l(&c.webhook_refused),
        l(&c.webhook_other),
        l(&c.webhook_wrong_reply)
    );
    println!(
        "restarts via CLI: {} ok, {} failed; provider errors injected: {}",
        l(&c.restarts_ok),
        l(&c.restarts_failed),
        l(&fakes.provider.state.errors)
    );
    println!(
        "fakes: telegram polls {} ; discord connections {} identifies {} resumes {} (events replayed {}) heartbeats {} ; slack connections {} opens {}",
        fakes.tg.with(|s| s.offsets.len()),
        fakes.dc.with(|s| s.connections),
        fakes.dc.with(|s| s.identifies.len()),
        fakes.dc.with(|s| s.resumes.len()),
        fakes.dc.with(|s| s.replayed),
        fakes.dc.with(|s| s.heartbeats),
        fakes.sl.with(|s| s.connections),
        fakes.sl.with(|s| s.opens),
    );
    if let Ok(f) = faults.lock() {
        println!("faults injected: {f:?}");
    }
    let rows: Vec<String> = samples
        .iter()
        .map(|(t, r, f)| format!("{}s:{}KiB/{}fd", t.as_secs(), r, f))
        .collect();
    println!("rss/fd samples: {}", rows.join(" "));
    for f in failures {
        println!("FAIL: {f}");
    }
}

fn parse_duration(s: &str) -> Res<Duration> {
    humantime::parse_duration(s).map_err(|e| format!("duration `{s}`: {e}"))
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let usage = "usage: soak <zeroclaw binary> soak <duration> | idle <secs>";
    let result = (|| -> Res<()> {
        let bin = PathBuf::from(args.get(1).ok_or(usage)?);
        let mode = args.get(2).map(String::as_str).ok_or(usage)?;
        let arg = args.get(3).map(String::as_str).unwrap_or("60");
        // reqwest is built with `rustls-no-provider`; the webhook client is plain HTTP
        // but a client cannot be built without a provider.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .map_err(|e| format!("runtime: {e}"))?;
        match mode {
            "idle" => rt.block_on(idle(bin, arg.parse().map_err(|_| usage)?)),
            "soak" => rt.block_on(soak(bin, parse_duration(arg)?)),
            _ => Err(usage.into()),
        }
    })();
    if let Err(e) = result {
        eprintln!("{e}");
        std::process::exit(1);
    }
}
