//! No secret of the config reaches anything a person or the model can read.
//!
//! The real daemon runs at `level = "trace"` with every secret distinctive,
//! once per way an external service can fail (connection refused, dropped,
//! 5xx, credentials rejected with 401 / Discord's 4004, provider timeout),
//! each channel and the provider pointed at a fake that fails that way.
//! Once every channel has failed at least once, everything an operator or
//! the model can see is collected — log file, stderr, `status`, `channel
//! list`, `channel doctor`, `doctor`, `cron run` (each with and without
//! `--json`), `/health`, `/metrics`, and every request the fake model got
//! (the tool results it was handed) — and searched for each secret, raw,
//! hex-encoded (websocket frame dumps) and percent-encoded (URLs).

mod support;

use serde_json::{Value, json};
use std::process::{Command, Output};
use std::time::Duration;
use support::anthropic::{self, Step};
use support::daemon::{BIN, Env, wait_for};
use support::faulty::{Failure, Faulty, refused_url};

const T: Duration = Duration::from_secs(30);
const TG_TOKEN: &str = "111111:tg-SECRET-111";
const TG_WEBHOOK_SECRET: &str = "tg-WEBHOOK-SECRET-222";
const DC_TOKEN: &str = "dc-SECRET-333";
const SL_BOT: &str = "xoxb-sl-SECRET-444";
const SL_APP: &str = "xapp-sl-SECRET-555";
/// Given through the environment (`"${ZC_LEAK_SIGNING}"` in the file).
const SL_SIGNING: &str = "sl-SIGNING-SECRET-666";
const GW_TOKEN: &str = "gw-AUTH-SECRET-777";
const OPENAI_KEY: &str = "openai-SECRET-888";
const ANT_KEY: &str = "ant-SECRET-999";
const SIGNING_VAR: &str = "ZC_LEAK_SIGNING";

/// Where each service of one phase points, and the provider's key.
struct Endpoints {
    telegram: String,
    discord_api: String,
    discord_gateway: String,
    slack: String,
    provider: String,
    provider_key: String,
    openai: String,
    format: &'static str,
}

impl Endpoints {
    /// Every service at `url`, failing the same way.
    fn all(url: &str, format: &'static str) -> Self {
        Self {
            telegram: url.into(),
            discord_api: format!("{url}/api/v10"),
            discord_gateway: url.replace("http://", "ws://"),
            slack: format!("{url}/api"),
            provider: url.into(),
            provider_key: ANT_KEY.into(),
            openai: url.into(),
            format,
        }
    }
}

fn config(env: &Env, e: &Endpoints) -> String {
    let log = env.path("zeroclaw.log");
    let cfg = env.config.display();
    format!(
        "[gateway]\nport = 0\nauth_token = \"{GW_TOKEN}\"\n\
         [logging]\nlevel = \"trace\"\nfile = \"{log}\"\nformat = \"{format}\"\n\
         [provider]\nname = \"anthropic\"\nmodel = \"claude-test\"\napi_key = \"{key}\"\n\
         base_url = \"{provider}\"\ntimeout = \"1s\"\nmax_retries = 0\n\
         retry_min_delay = \"10ms\"\nretry_max_delay = \"50ms\"\n\
         [providers.openai]\napi_key = \"{OPENAI_KEY}\"\nbase_url = \"{openai}\"\nmodel = \"gpt-test\"\n\
         [channel.telegram]\nbot_token = \"{TG_TOKEN}\"\nwebhook_secret = \"{TG_WEBHOOK_SECRET}\"\n\
         api_base = \"{tg}\"\npoll_timeout = \"1s\"\nallowed_users = [1]\n\
         [channel.discord]\nbot_token = \"{DC_TOKEN}\"\napi_base = \"{dc_api}\"\n\
         gateway_url = \"{dc_gw}\"\n\
         [channel.slack]\nbot_token = \"{SL_BOT}\"\napp_token = \"{SL_APP}\"\n\
         signing_secret = \"${{{SIGNING_VAR}}}\"\napi_base = \"{slack}\"\n\
         [tools.shell]\nallowed_commands = [\"cat\"]\n\
         [[cron.jobs]]\nname = \"probe\"\nschedule = \"0 9 * * *\"\nmessage = \"read {cfg}\"\n\
         tools = [\"shell\"]\n\
         [[cron.jobs]]\nname = \"other\"\nschedule = \"0 9 * * *\"\nmessage = \"hi\"\n\
         provider = \"openai\"\n",
        log = log.display(),
        format = e.format,
        key = e.provider_key,
        provider = e.provider,
        openai = e.openai,
        tg = e.telegram,
        dc_api = e.discord_api,
        dc_gw = e.discord_gateway,
        slack = e.slack,
    )
}

/// `zeroclaw --config <config> <args>` with the environment secret set.
fn cli(env: &Env, args: &[&str]) -> Output {
    Command::new(BIN)
        .arg("--config")
        .arg(&env.config)
        .args(args)
        .env_remove("NOTIFY_SOCKET")
        .env_remove("RUST_LOG")
        .env(SIGNING_VAR, SL_SIGNING)
        .output()
        .expect("run zeroclaw")
}

fn status_json(env: &Env) -> Option<Value> {
    let out = cli(env, &["status", "--json"]);
    serde_json::from_slice(&out.stdout).ok()
}

/// The child's entry in `status --json`.
fn child(status: &Value, name: &str) -> Value {
    status["children"]
        .as_array()
        .and_then(|cs| cs.iter().find(|c| c["name"] == name))
        .cloned()
        .unwrap_or(Value::Null)
}

const CHANNELS: [&str; 3] = ["channel:telegram", "channel:discord", "channel:slack"];

/// Everything one run of the daemon shows, labelled by where it was seen.
struct Seen(Vec<(String, String)>);

impl Seen {
    fn add(&mut self, label: String, text: impl Into<String>) {
        self.0.push((label, text.into()));
    }

    fn add_output(&mut self, phase: &str, what: &str, out: &Output) {
        self.add(
            format!("{phase}: `{what}` stdout"),
            String::from_utf8_lossy(&out.stdout),
        );
        self.add(
            format!("{phase}: `{what}` stderr"),
            String::from_utf8_lossy(&out.stderr),
        );
    }
}

/// Start the daemon, wait until every channel has failed once, collect what
/// every exit shows (running the `probe` job `probe_runs` times), stop it.
async fn run_phase(phase: &str, env: &Env, probe_runs: usize, seen: &mut Seen) {
    let work = env.path("work");
    let mut daemon = env.start_with(&["--workdir", work.to_str().unwrap()], |cmd| {
        cmd.env(SIGNING_VAR, SL_SIGNING);
    });
    wait_for(&format!("{phase}: the daemon answering"), T, || {
        if let Some(status) = daemon.try_exit() {
            panic!("{phase}: daemon exited ({status}):\n{}", daemon.stderr());
        }
        status_json(env).is_some()
    });
    // A channel whose service fails either exits (and is restarted or
    // failed) or retries in place and says so in its detail: both show the
    // error text that must not carry a secret.
    wait_for(&format!("{phase}: every channel failing once"), T, || {
        status_json(env).is_some_and(|s| {
            CHANNELS.iter().all(|c| {
                let entry = child(&s, c);
                !entry["last_exit"].is_null()
                    || entry["detail"]
                        .as_str()
                        .is_some_and(|d| d.starts_with("reconnecting"))
            })
        })
    });
    collect_cli(phase, env, probe_runs, seen);
    collect_http(phase, env, seen).await;
    daemon.signal(nix::sys::signal::Signal::SIGTERM);
    daemon.wait_exit(T);
    let log = std::fs::read_to_string(env.path("zeroclaw.log")).unwrap_or_default();
    assert!(
        log.contains("TRACE"),
        "{phase}: the log holds no trace line; the test would prove nothing"
    );
    if let Some(line) = log.lines().find(|l| wire_trace(l)) {
        panic!("{phase}: a wire library logged at trace:\n{line}");
    }
    seen.add(format!("{phase}: log file"), log);
    seen.add(format!("{phase}: daemon stderr"), daemon.stderr());
}

/// Every CLI command an operator would run to see what went wrong.
fn collect_cli(phase: &str, env: &Env, probe_runs: usize, seen: &mut Seen) {
    for _ in 0..probe_runs {
        let out = cli(env, &["cron", "run", "probe", "--json"]);
        seen.add_output(phase, "cron run probe --json", &out);
    }
    for args in [
        &["cron", "run", "other"][..],
        &["status"],
        &["status", "--json"],
        &["channel", "list"],
        &["channel", "list", "--json"],
        &["channel", "doctor"],
        &["channel", "doctor", "--json"],
        &["doctor"],
        &["doctor", "--json"],
        &["cron", "status"],
        &["cron", "runs", "--name", "probe", "--json"],
        &["cron", "runs", "--name", "other"],
    ] {
        let out = cli(env, args);
        seen.add_output(phase, &args.join(" "), &out);
    }
}

/// `/health` and `/metrics` of the running gateway.
async fn collect_http(phase: &str, env: &Env, seen: &mut Seen) {
    let status = status_json(env).expect("status");
    let gateway = child(&status, "gateway")["detail"]
        .as_str()
        .and_then(|d| d.split_whitespace().find(|w| w.starts_with("http://")))
        .map(str::to_string)
        .unwrap_or_else(|| panic!("{phase}: no gateway URL in {status}"));
    zeroclaw::tls::install_crypto_provider();
    let http = reqwest::Client::builder()
        .no_proxy()
        .timeout(T)
        .build()
        .unwrap();
    for route in ["/health", "/metrics"] {
        let resp = http
            .get(format!("{gateway}{route}"))
            .bearer_auth(GW_TOKEN)
            .send()
            .await
            .expect(route);
        assert!(
            resp.status().is_success(),
            "{phase}: {route} answered {}",
            resp.status()
        );
        let body = resp.text().await.expect(route);
        seen.add(format!("{phase}: GET {route}"), body);
    }
}

/// Libraries whose trace lines dump protocol data (frames, headers).
const WIRE: [&str; 6] = [
    "tungstenite",
    "tokio_tungstenite",
    "hyper",
    "h2",
    "reqwest",
    "rustls",
];

/// A trace line (text or JSON format) from one of the [`WIRE`] libraries.
fn wire_trace(line: &str) -> bool {
    let (level, target) = match serde_json::from_str::<Value>(line) {
        Ok(v) => (
            v["level"].as_str().unwrap_or_default().to_string(),
            v["target"].as_str().unwrap_or_default().to_string(),
        ),
        Err(_) => {
            let mut words = line.split_whitespace().skip(1);
            let level = words.next().unwrap_or_default().to_string();
            (level, words.next().unwrap_or_default().to_string())
        }
    };
    let crate_name = target
        .split("::")
        .next()
        .unwrap_or_default()
        .trim_end_matches(':');
    level == "TRACE" && WIRE.contains(&crate_name)
}

/// Each secret in the forms it could take on the way out.
fn forms(secret: &str) -> Vec<(String, &'static str)> {
    let hex: String = secret.bytes().map(|b| format!("{b:02x}")).collect();
    let percent: String = secret
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    vec![
        (secret.to_string(), "raw"),
        (hex, "hex"),
        (percent, "percent-encoded"),
    ]
}

fn leaks(seen: &Seen, secrets: &[&str]) -> Vec<String> {
    let mut found = Vec::new();
    for (label, text) in &seen.0 {
        let lower = text.to_ascii_lowercase();
        for secret in secrets {
            for (form, how) in forms(secret) {
                if lower.contains(&form.to_ascii_lowercase()) {
                    let at = lower.find(&form.to_ascii_lowercase()).unwrap_or(0);
                    let start = at.saturating_sub(80);
                    let end = (at + form.len() + 40).min(text.len());
                    let context = String::from_utf8_lossy(&text.as_bytes()[start..end]);
                    found.push(format!("{secret} ({how}) in {label}: …{context}…"));
                }
            }
        }
    }
    found
}

/// The real protocols, credentials rejected: Telegram 401, Slack
/// `invalid_auth`, Discord closes with 4004 after IDENTIFY (so the token went
/// over the websocket). The model is reached with its real key and reads the
/// config file through the shell tool, once successfully and once with an
/// error; then it fails with 401, a timeout, a 5xx and a dropped connection.
async fn rejected_phase(seen: &mut Seen) {
    let telegram = support::telegram::FakeTelegram::start().await;
    let discord = support::discord::FakeDiscord::start().await;
    let slack = support::slack::FakeSlack::start().await;
    let env = Env::new("");
    let cfg = env.config.display().to_string();
    let shell = |command: String| Step::ToolUse {
        name: "shell".into(),
        input: json!({ "command": command }),
    };
    let model = anthropic::Fake::start(vec![
        shell(format!("cat {cfg}")),
        shell(format!("cat {cfg} /nonexistent/file")),
        Step::EchoToolResult,
        Step::error(401, "authentication_error", None),
        Step::Hang,
        Step::error(500, "api_error", None),
        Step::DropMidBody,
    ])
    .await;
    let rejected = Endpoints {
        telegram: telegram.api_base(),
        discord_api: discord.api_base(),
        discord_gateway: discord.gateway_url(),
        slack: slack.api_base(),
        provider: model.base_url.clone(),
        provider_key: anthropic::KEY.into(),
        openai: refused_url(),
        format: "text",
    };
    env.write_config(&config(&env, &rejected));
    run_phase("rejected", &env, 5, seen).await;
    assert!(
        discord.with(|s| !s.identifies.is_empty()),
        "Discord never got IDENTIFY: the frame with the token was not exercised"
    );
    let handed: Vec<String> = model
        .requests()
        .iter()
        .map(|r| r.body.to_string())
        .collect();
    assert!(
        handed.len() >= 3 && handed.iter().any(|b| b.contains("tool_result")),
        "the model was not handed the tool results ({} requests)",
        handed.len()
    );
    for (i, body) in handed.into_iter().enumerate() {
        seen.add(format!("rejected: request {i} to the model"), body);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_reaches_any_output_whatever_fails() {
    let mut seen = Seen(Vec::new());

    // Nothing listens: connection refused everywhere.
    let env = Env::new("");
    env.write_config(&config(&env, &Endpoints::all(&refused_url(), "text")));
    run_phase("refused", &env, 1, &mut seen).await;

    // The request is read, then the connection is cut.
    let dropping = Faulty::start(Failure::Drop).await;
    let env = Env::new("");
    env.write_config(&config(&env, &Endpoints::all(&dropping.url(), "json")));
    run_phase("dropped", &env, 1, &mut seen).await;

    // Every answer is a 502.
    let failing = Faulty::start(Failure::Status(502)).await;
    let env = Env::new("");
    env.write_config(&config(&env, &Endpoints::all(&failing.url(), "text")));
    run_phase("5xx", &env, 1, &mut seen).await;

    rejected_phase(&mut seen).await;

    let secrets = [
        TG_TOKEN,
        TG_WEBHOOK_SECRET,
        DC_TOKEN,
        SL_BOT,
        SL_APP,
        SL_SIGNING,
        GW_TOKEN,
        OPENAI_KEY,
        ANT_KEY,
        anthropic::KEY,
    ];
    let found = leaks(&seen, &secrets);
    assert!(
        found.is_empty(),
        "{} leaks in {} outputs:\n{}",
        found.len(),
        seen.0.len(),
        found.join("\n")
    );
}
