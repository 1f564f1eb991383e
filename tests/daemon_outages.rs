//! Channels that never silently stop, through the real binary with the
//! fakes: a whole-service outage of each service (every call refused or
//! dropped) with a restart delay short enough to spend the start limit in a
//! second is ridden out in place (`reconnecting (attempt N)` in status,
//! never `failed`), and what was sent meanwhile is answered exactly once
//! within 10 s of the service's return; a black-holed poll is abandoned; the
//! time of each channel's last completed work shows in `status --json`,
//! `/ready` and `/metrics`.
//!
//! The outages last 5 s (not the 30 s of a real incident) to keep the suite
//! fast: with `restart_sec = "200ms"` the supervisor's start limit would be
//! spent within the first second, so 5 s shows the same thing.
//! `OUTAGE_SECS=30 cargo test --test daemon_outages` runs the long version.

mod support;

use serde_json::Value;
use std::time::{Duration, Instant};
use support::daemon::{Env, wait_for};
use support::discord::FakeDiscord;
use support::slack::{APP_TOKEN, BOT_TOKEN, FakeSlack};
use support::telegram::{FakeTelegram, TOKEN};

const T: Duration = Duration::from_secs(30);
fn outage() -> Duration {
    let secs = std::env::var("OUTAGE_SECS")
        .ok()
        .and_then(|s| s.parse().ok());
    Duration::from_secs(secs.unwrap_or(5))
}
/// How soon after the service's return the outage's messages are answered.
const RECOVERY: Duration = Duration::from_secs(10);
const GW_TOKEN: &str = "outage-test-token-0123456789";

fn base(channel: &str) -> String {
    format!(
        "[supervisor]\nrestart_sec = \"200ms\"\n[gateway]\nport = 0\nauth_token = \"{GW_TOKEN}\"\n{channel}"
    )
}

/// Wait out the outage, checking at every look that the child is never
/// `failed`; `true` when status showed `reconnecting (attempt N)`.
fn ride_out(env: &Env, child: &str, stderr: impl Fn() -> String) -> bool {
    let down = Instant::now();
    let mut reconnecting = false;
    wait_for("the outage to last its time", T, || {
        let c = env.child(child).unwrap();
        assert_ne!(c["state"], "failed", "{c} {}", stderr());
        reconnecting |= c["detail"]
            .as_str()
            .is_some_and(|s| s.starts_with("reconnecting (attempt"));
        down.elapsed() >= outage()
    });
    reconnecting
}

/// After the service's return: `sent` reaches `n` within [`RECOVERY`].
fn recovered(env: &Env, child: &str, n: usize, sent: impl Fn() -> usize) {
    let back = Instant::now();
    wait_for("the messages of the outage answered", T, || {
        assert_ne!(env.child(child).unwrap()["state"], "failed");
        sent() >= n
    });
    eprintln!(
        "{child}: answered {:?} after the service's return",
        back.elapsed()
    );
    assert!(back.elapsed() < RECOVERY, "{:?}", back.elapsed());
    let c = env.child(child).unwrap();
    assert_eq!(c["state"], "running", "{c}");
    assert_eq!(c["restarts"].as_u64(), Some(0), "no restart needed: {c}");
}

/// A daemon with only `[channel.discord]`, on `fake`.
fn discord_env(fake: &FakeDiscord) -> Env {
    Env::new(&base(&format!(
        "[channel.discord]\nbot_token = \"{}\"\napi_base = \"{}\"\ngateway_url = \"{}\"\n",
        support::discord::TOKEN,
        fake.api_base(),
        fake.gateway_url()
    )))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn discord_outage_is_ridden_out_and_replayed_on_resume_once() {
    let fake = FakeDiscord::start().await;
    let env = discord_env(&fake);
    let d = env.start_ready(&[]);
    wait_for("connected", T, || fake.with(|s| !s.identifies.is_empty()));
    fake.push_message(Some("201"), "101", "7", false, "before");
    wait_for("the reply before the outage", T, || fake.sent().len() == 1);

    fake.set_outage(true);
    wait_for("the outage noticed", T, || {
        env.child("channel:discord").is_some_and(|c| {
            c["detail"]
                .as_str()
                .is_some_and(|s| s.starts_with("reconnecting"))
        })
    });
    fake.push_message(Some("201"), "101", "7", false, "during one");
    fake.push_message(Some("201"), "101", "7", false, "during two");
    assert!(ride_out(&env, "channel:discord", || d.stderr()));

    fake.set_outage(false);
    recovered(&env, "channel:discord", 3, || fake.sent().len());
    fake.push_message(Some("201"), "101", "7", false, "after");
    wait_for("the reply after the outage", T, || fake.sent().len() >= 4);
    let texts: Vec<String> = fake.sent().into_iter().map(|(_, t)| t).collect();
    assert_eq!(
        texts,
        [
            "echo: before",
            "echo: during one",
            "echo: during two",
            "echo: after"
        ],
        "every message answered exactly once"
    );
    assert_eq!(
        fake.with(|s| s.identifies.len()),
        1,
        "resumed, not identified"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slack_outage_is_ridden_out_and_redelivered_once() {
    let fake = FakeSlack::start().await;
    let env = Env::new(&base(&format!(
        "[channel.slack]\nbot_token = \"{BOT_TOKEN}\"\napp_token = \"{APP_TOKEN}\"\napi_base = \"{}\"\n",
        fake.api_base()
    )));
    let d = env.start_ready(&[]);
    wait_for("connected", T, || fake.with(|s| s.connections == 1));
    fake.push_message("C1", "U2", "before", None);
    wait_for("the reply before the outage", T, || fake.sent().len() == 1);

    fake.set_outage(true);
    // Queued by Slack while no connection is open, delivered on the next.
    fake.push_message("C1", "U2", "during one", None);
    fake.push_message("C1", "U2", "during two", None);
    assert!(ride_out(&env, "channel:slack", || d.stderr()));

    fake.set_outage(false);
    recovered(&env, "channel:slack", 3, || fake.sent().len());
    fake.push_message("C1", "U2", "after", None);
    wait_for("the reply after the outage", T, || fake.sent().len() >= 4);
    let texts: Vec<String> = fake.sent().into_iter().map(|(_, t, _)| t).collect();
    assert_eq!(
        texts,
        [
            "echo: before",
            "echo: during one",
            "echo: during two",
            "echo: after"
        ],
        "every message answered exactly once"
    );
}

fn client() -> reqwest::Client {
    zeroclaw::tls::install_crypto_provider();
    reqwest::Client::builder()
        .timeout(T)
        .no_proxy()
        .build()
        .expect("client")
}

/// A poll the network black-holes is abandoned (poll_timeout + a few
/// seconds) and the next message answered within 10 s; the time of the
/// last completed poll shows in `status --json`, `/ready` and `/metrics`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn black_holed_poll_is_abandoned_and_activity_is_shown() {
    let fake = FakeTelegram::start().await;
    let env = Env::new(&base(&format!(
        "[channel.telegram]\nbot_token = \"{TOKEN}\"\nallowed_users = [\"42\"]\napi_base = \"{}\"\n\
         poll_timeout = \"1s\"\nsend_interval = \"10ms\"\n",
        fake.api_base()
    )));
    let _d = env.start_ready(&[]);
    fake.push_text(42, 42, "one");
    wait_for("first reply", T, || fake.sent().len() == 1);

    let c = env.child("channel:telegram").unwrap();
    let last = c["last_activity"].as_str().unwrap_or_default().to_string();
    assert!(
        chrono::DateTime::parse_from_rfc3339(&last).is_ok(),
        "RFC 3339 last_activity: {c}"
    );
    assert!(c["idle_secs"].as_u64().is_some_and(|s| s <= 5), "{c}");

    let mut url = String::new();
    wait_for("the gateway's address", T, || {
        url = env.child("gateway").unwrap()["detail"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        url.starts_with("http")
    });
    let c = client();
    let ready: Value = c
        .get(format!("{url}/ready"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let activity = &ready["activity"]["channel:telegram"];
    assert!(activity["last_activity"].is_string(), "{ready}");
    assert!(activity["idle_secs"].is_u64(), "{ready}");
    let metrics = c
        .get(format!("{url}/metrics"))
        .bearer_auth(GW_TOKEN)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("# TYPE zeroclaw_channel_last_activity_seconds gauge"),
        "{metrics}"
    );
    let now = chrono::Utc::now().timestamp();
    let gauge: i64 = metrics
        .lines()
        .find_map(|l| {
            l.strip_prefix("zeroclaw_channel_last_activity_seconds{channel=\"telegram\"} ")
        })
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no telegram activity gauge: {metrics}"));
    assert!((now - 10..=now + 1).contains(&gauge), "{gauge} vs {now}");

    // The next poll is accepted and never answered.
    fake.with(|f| f.blackhole_polls = 1);
    wait_for("the black-holed poll", T, || {
        fake.with(|f| f.blackhole_polls == 0)
    });
    let sent_at = Instant::now();
    fake.push_text(42, 42, "two");
    wait_for("the reply after the black hole", T, || {
        fake.sent().len() == 2
    });
    assert!(
        sent_at.elapsed() < Duration::from_secs(10),
        "{:?}",
        sent_at.elapsed()
    );
    let texts: Vec<String> = fake.sent().into_iter().map(|(_, t)| t).collect();
    assert_eq!(texts, ["echo: one", "echo: two"]);
    let c = env.child("channel:telegram").unwrap();
    assert_eq!(
        (c["state"].as_str(), c["restarts"].as_u64()),
        (Some("running"), Some(0)),
        "{c}"
    );
}

/// What a channel accepted outlives a restart of it: the worker is stuck
/// answering (every post fails with a 502) when `zeroclaw restart` stops
/// it; Discord never sends those dispatches again (the new start RESUMEs
/// after them), so only the channel's backlog can still answer them — once
/// each, in order, when posting works again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn discord_messages_accepted_before_a_restart_are_answered_after_it_once() {
    let fake = FakeDiscord::start().await;
    let env = discord_env(&fake);
    let d = env.start_ready(&[]);
    wait_for("connected", T, || fake.with(|s| !s.identifies.is_empty()));
    fake.with(|s| s.fail_posts = u32::MAX);
    for text in ["one", "two", "three"] {
        fake.push_message(Some("201"), "101", "7", false, text);
    }
    wait_for("the worker stuck on its first answer", T, || {
        env.child("channel:discord").is_some_and(|c| {
            c["detail"]
                .as_str()
                .is_some_and(|s| s.contains("could not answer"))
        })
    });
    let out = env.cli(&["restart", "channel:discord"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    wait_for("the new start resumed", T, || {
        fake.with(|s| !s.resumes.is_empty())
    });
    fake.with(|s| s.fail_posts = 0);
    wait_for("the accepted messages answered", T, || {
        fake.sent().len() >= 3
    });
    fake.push_message(Some("201"), "101", "7", false, "after");
    wait_for("the reply after the restart", T, || fake.sent().len() >= 4);
    let texts: Vec<String> = fake.sent().into_iter().map(|(_, t)| t).collect();
    assert_eq!(
        texts,
        ["echo: one", "echo: two", "echo: three", "echo: after"],
        "every accepted message answered exactly once, in order: {}",
        d.stderr()
    );
    assert_eq!(
        fake.with(|s| s.identifies.len()),
        1,
        "resumed, not identified"
    );
}
