//! Through the real binary: a Telegram round trip via the fake Bot
//! API, restarts visible in `status --json` with nothing lost or repeated,
//! and a rejected token shown as `failed` without a restart storm.

mod support;

use std::time::Duration;
use support::daemon::{Env, wait_for};
use support::telegram::{FakeTelegram, TOKEN};

const T: Duration = Duration::from_secs(30);
const USER: i64 = 42;

fn telegram_config(fake: &FakeTelegram, token: &str) -> String {
    format!(
        "[channel.telegram]\nbot_token = \"{token}\"\nallowed_users = [\"{USER}\"]\napi_base = \"{}\"\n\
         poll_timeout = \"1s\"\nsend_interval = \"10ms\"\n",
        fake.api_base()
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn telegram_round_trip_and_restart_without_loss() {
    let fake = FakeTelegram::start().await;
    let env = Env::new(&telegram_config(&fake, TOKEN));
    let _d = env.start_ready(&[]);

    fake.push_text(USER, USER, "one");
    wait_for("first reply", T, || fake.sent().len() == 1);
    assert_eq!(fake.sent()[0], (USER.to_string(), "echo: one".to_string()));

    // Polls fail with 502s: ridden out in place, the supervisor restarts nothing.
    fake.with(|f| f.fail_polls = 2);
    fake.push_text(USER, USER, "two");
    wait_for("second reply", T, || fake.sent().len() >= 2);
    wait_for("502s consumed", T, || fake.with(|f| f.fail_polls == 0));
    let c = env.child("channel:telegram").unwrap();
    assert_eq!(
        (c["restarts"].as_u64(), &c["state"]),
        (Some(0), &"running".into()),
        "{c}"
    );
    // Answers the channel cannot read are a crash: the supervisor restarts it.
    fake.with(|f| f.garbled_polls = 2);
    wait_for("restarts counted in status --json", T, || {
        env.child("channel:telegram")
            .is_some_and(|c| c["restarts"].as_u64() >= Some(1))
    });
    wait_for("channel running again", T, || {
        env.child("channel:telegram")
            .is_some_and(|c| c["state"] == "running")
    });
    fake.push_text(USER, USER, "three");
    wait_for("all replies", T, || fake.sent().len() >= 3);
    // Give a duplicate a chance to show up before judging.
    fake.push_text(USER, USER, "four");
    wait_for("fourth reply", T, || fake.sent().len() >= 4);
    let texts: Vec<String> = fake.sent().into_iter().map(|(_, t)| t).collect();
    assert_eq!(
        texts,
        vec!["echo: one", "echo: two", "echo: three", "echo: four"],
        "every update answered exactly once"
    );

    let out = env.cli(&["channel", "list", "--json"]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let row = &v["channels"][0];
    assert_eq!(row["name"], "channel:telegram", "{v}");
    assert_eq!(row["mode"], "polling");
    assert_eq!(row["state"], "running");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reply_with_emoji_is_split_by_utf16_length() {
    // 2,100 emoji: the echo reply is 2,106 characters but 4,206 UTF-16
    // units, more than Telegram's 4,096 (the fake refuses longer texts).
    let fake = FakeTelegram::start().await;
    let env = Env::new(&telegram_config(&fake, TOKEN));
    let _d = env.start_ready(&[]);
    fake.push_text(USER, USER, &"😀".repeat(2100));
    wait_for("three parts", T, || fake.sent().len() >= 3);
    let parts: Vec<String> = fake.sent().into_iter().map(|(_, t)| t).collect();
    // Cut at the only space, then hard cuts at 4,096 units (2,048 emoji).
    assert_eq!(
        parts,
        vec!["echo:".to_string(), "😀".repeat(2048), "😀".repeat(52)]
    );
    assert!(
        parts
            .iter()
            .all(|p| p.encode_utf16().count() <= support::telegram::MAX_TEXT)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rejected_token_is_failed_not_restarted() {
    let fake = FakeTelegram::start().await;
    let env = Env::new(&telegram_config(&fake, "1:revoked"));
    let d = env.start_ready(&[]);
    wait_for("channel failed", T, || {
        env.child("channel:telegram")
            .is_some_and(|c| c["state"] == "failed")
    });
    let child = env.child("channel:telegram").unwrap();
    assert_eq!(child["restarts"], 0, "{child}");
    assert!(
        child["last_exit"]["message"]
            .as_str()
            .unwrap()
            .contains("credential rejected"),
        "{child}"
    );
    // The rest of the tree is untouched.
    assert_eq!(env.child("control").unwrap()["state"], "running");
    let human = String::from_utf8_lossy(&env.cli(&["status"]).stdout).to_string();
    assert!(human.contains("failed"), "{human}");
    // An operator can retry once the token is fixed: the request is accepted.
    let out = env.cli(&["restart", "channel:telegram"]);
    assert_eq!(out.status.code(), Some(0), "{out:?} {}", d.stderr());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cron_result_is_delivered_to_a_telegram_chat() {
    let fake = FakeTelegram::start().await;
    let job = "[[cron.jobs]]\nname = \"日报\"\nschedule = \"0 9 * * *\"\nmessage = \"report\"\n\
               deliver_to = \"telegram:777\"\n\
               [[cron.jobs]]\nname = \"nowhere\"\nschedule = \"0 9 * * *\"\nmessage = \"lost?\"\n\
               deliver_to = \"slack:C1\"\n";
    let env = Env::new(&format!("{}{job}", telegram_config(&fake, TOKEN)));
    let _d = env.start_ready(&[]);

    let out = env.cli(&["cron", "run", "日报", "--json"]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["run"]["status"], "ok", "{v}");
    wait_for("delivered to chat 777", T, || {
        fake.sent()
            .contains(&("777".to_string(), "echo: report".to_string()))
    });

    // A channel that is not running: the run is an error, the output is kept.
    let out = env.cli(&["cron", "run", "nowhere", "--json"]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["run"]["status"], "error", "{v}");
    assert_eq!(v["run"]["output"], "echo: lost?", "{v}");
    assert!(v["run"]["error"].as_str().unwrap().contains("slack"), "{v}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn doctor_probes_channel_credentials() {
    let fake = FakeTelegram::start().await;
    let env = Env::new(&telegram_config(&fake, TOKEN));
    let out = env.cli(&["doctor", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(0), "{v}");
    let names: Vec<&str> = v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert!(names.contains(&"telegram getMe"), "{names:?}");
    assert!(
        names.contains(&"daemon") && names.contains(&"state dir"),
        "{names:?}"
    );

    let env = Env::new(&telegram_config(&fake, "1:revoked"));
    let out = env.cli(&["doctor"]);
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("[FAIL] telegram getMe") && text.contains("fix:"),
        "{text}"
    );
}

/// Telegram in webhook mode whose token is revoked while the daemon runs:
/// the reply that meets the 401 stops the channel as `failed` (a revoked
/// token stays revoked), it is not restarted as if the connection were lost.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhook_token_revoked_while_running_is_failed_not_restarted() {
    let fake = FakeTelegram::start().await;
    let env = Env::new(&format!(
        "[gateway]\nport = 0\nauth_token = \"gateway-token-0123456789\"\n{}\
         webhook_url = \"https://bot.example.invalid/webhook/telegram\"\n\
         webhook_secret = \"tg-secret\"\n",
        telegram_config(&fake, TOKEN)
    ));
    let d = env.start_ready(&[]);
    let mut url = String::new();
    wait_for("the gateway's address in status", T, || {
        url = env
            .child("gateway")
            .and_then(|c| c["detail"].as_str().map(String::from))
            .unwrap_or_default();
        url.starts_with("http")
    });
    wait_for("the channel to register its webhook", T, || {
        fake.with(|s| s.webhook.is_some())
    });
    zeroclaw::tls::install_crypto_provider();
    let client = reqwest::Client::builder()
        .timeout(T)
        .no_proxy()
        .build()
        .unwrap();
    let post = |id: i64, text: &str| {
        client
            .post(format!("{url}/webhook/telegram"))
            .header("X-Telegram-Bot-Api-Secret-Token", "tg-secret")
            .json(&support::telegram::update(id, USER, USER, text))
            .send()
    };
    assert_eq!(post(901, "before").await.unwrap().status(), 200);
    wait_for("the reply before the revocation", T, || {
        fake.sent().len() == 1
    });

    fake.with(|s| s.revoked = true);
    assert_eq!(post(902, "after").await.unwrap().status(), 200);
    wait_for("channel failed", T, || {
        env.child("channel:telegram")
            .is_some_and(|c| c["state"] == "failed")
    });
    let child = env.child("channel:telegram").unwrap();
    assert_eq!(child["restarts"], 0, "{child} {}", d.stderr());
    let exit = child["last_exit"]["message"].as_str().unwrap();
    assert!(
        exit.contains("credential rejected") && exit.contains("401"),
        "{child}"
    );
    assert_eq!(fake.sent().len(), 1);
    assert_eq!(env.child("gateway").unwrap()["state"], "running");
}

/// Telegram down for five seconds (every call dropped) with a restart delay
/// short enough to spend the start limit in a second: the channel rides the
/// outage out in place (`reconnecting (attempt N)` in status, never
/// `failed`), and what was sent meanwhile is answered exactly once after.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outage_is_ridden_out_and_what_came_meanwhile_answered_once() {
    // `OUTAGE_SECS=30` runs the long version (see tests/daemon_outages.rs).
    let secs = std::env::var("OUTAGE_SECS")
        .ok()
        .and_then(|s| s.parse().ok());
    let outage = Duration::from_secs(secs.unwrap_or(5));
    let fake = FakeTelegram::start().await;
    let env = Env::new(&format!(
        "[supervisor]\nrestart_sec = \"200ms\"\n{}",
        telegram_config(&fake, TOKEN)
    ));
    let d = env.start_ready(&[]);
    fake.push_text(USER, USER, "before");
    wait_for("the reply before the outage", T, || fake.sent().len() == 1);

    fake.with(|s| s.outage = true);
    let down = std::time::Instant::now();
    fake.push_text(USER, USER, "during one");
    fake.push_text(USER, USER, "during two");
    let mut reconnecting = false;
    wait_for("the outage to last its time", T, || {
        let c = env.child("channel:telegram").unwrap();
        assert_ne!(c["state"], "failed", "{c} {}", d.stderr());
        reconnecting |= c["detail"]
            .as_str()
            .is_some_and(|s| s.starts_with("reconnecting (attempt"));
        down.elapsed() >= outage
    });
    assert!(reconnecting, "status showed the reconnects");

    fake.with(|s| s.outage = false);
    let back = std::time::Instant::now();
    wait_for("the messages of the outage answered", T, || {
        assert_ne!(env.child("channel:telegram").unwrap()["state"], "failed");
        fake.sent().len() >= 3
    });
    assert!(
        back.elapsed() < Duration::from_secs(10),
        "{:?}",
        back.elapsed()
    );
    fake.push_text(USER, USER, "after");
    wait_for("the reply after the outage", T, || fake.sent().len() >= 4);
    let texts: Vec<String> = fake.sent().into_iter().map(|(_, t)| t).collect();
    assert_eq!(
        texts,
        vec![
            "echo: before",
            "echo: during one",
            "echo: during two",
            "echo: after"
        ],
        "every update answered exactly once"
    );
    let child = env.child("channel:telegram").unwrap();
    assert_eq!(child["state"], "running", "{child}");
    assert_eq!(
        child["restarts"].as_u64(),
        Some(0),
        "an outage costs the supervisor no restart: {child}"
    );
}

/// The offset that confirms an answered update is kept in the state
/// database with the rest of the daemon's state (no side file), so after
/// `kill -9` the next start polls on from it: an update Telegram delivers
/// again because its confirmation never reached it is not answered twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_offset_lives_in_the_state_database_and_outlives_kill_9() {
    let fake = FakeTelegram::start().await;
    let env = Env::new(&telegram_config(&fake, TOKEN));
    let mut d = env.start_ready(&[]);
    let id = fake.push_text(USER, USER, "one");
    wait_for("the reply", T, || fake.sent().len() == 1);
    let db = env.path("state/cron.sqlite3");
    let saved = || -> Option<i64> {
        let flags = rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY;
        let c = rusqlite::Connection::open_with_flags(&db, flags).ok()?;
        c.query_row("SELECT offset FROM channel_offsets", [], |r| r.get(0))
            .ok()
    };
    wait_for("the offset in the state database", T, || {
        saved() == Some(id + 1)
    });
    d.signal(nix::sys::signal::Signal::SIGKILL);
    d.wait_exit(T);
    assert!(
        !env.path("state/telegram.offset").exists(),
        "no side file next to the state database"
    );

    // Telegram never heard the confirmation: it hands the update out again.
    fake.with(|s| {
        s.pending
            .push(support::telegram::update(id, USER, USER, "one"));
        s.offsets.clear();
    });
    let _d = env.start_ready(&[]);
    fake.push_text(USER, USER, "two");
    wait_for("the reply after the restart", T, || fake.sent().len() >= 2);
    assert_eq!(
        fake.with(|s| s.offsets.first().copied()),
        Some(Some(id + 1)),
        "the first poll after the restart carries the saved offset"
    );
    let texts: Vec<String> = fake.sent().into_iter().map(|(_, t)| t).collect();
    assert_eq!(texts, vec!["echo: one", "echo: two"], "answered once each");
}

/// Slack hands out an envelope again when its ack was lost with the
/// connection. The event ids the channel accepted are kept in the state
/// database, so a redelivery that reaches the daemon after `kill -9` and a
/// new start is acknowledged and not answered a second time.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slack_redelivery_after_kill_9_is_not_answered_twice() {
    use support::slack::{APP_TOKEN, BOT_TOKEN, FakeSlack};
    let fake = FakeSlack::start().await;
    let env = Env::new(&format!(
        "[channel.slack]\nbot_token = \"{BOT_TOKEN}\"\napp_token = \"{APP_TOKEN}\"\napi_base = \"{}\"\n",
        fake.api_base()
    ));
    let mut d = env.start_ready(&[]);
    wait_for("connected", T, || fake.with(|s| s.connections == 1));
    let (_, event_id) = fake.push_message("C1", "U2", "one", None);
    wait_for("the reply", T, || fake.sent().len() == 1);
    d.signal(nix::sys::signal::Signal::SIGKILL);
    d.wait_exit(T);

    let _d = env.start_ready(&[]);
    wait_for("connected again", T, || fake.with(|s| s.connections == 2));
    let again = support::slack::message_event("C1", "U2", "one");
    fake.push_event(again, Some(&event_id));
    fake.push_message("C1", "U2", "two", None);
    wait_for("the reply to the new message", T, || fake.sent().len() >= 2);
    let texts: Vec<String> = fake.sent().into_iter().map(|(_, t, _)| t).collect();
    assert_eq!(texts, ["echo: one", "echo: two"], "answered once each");
}
