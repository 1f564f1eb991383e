//! Runtime jobs through the real binary: `zeroclaw cron add` / `cron remove`
//! over the control socket, a one-shot delivered to a fake Telegram chat,
//! an interval job stopped by `remove`, persistence across `stop`, `kill -9`
//! and downtime over a one-shot's time, and every refusal storing nothing.

mod support;

use serde_json::Value;
use std::time::Duration;
use support::daemon::{Env, wait_for};
use support::telegram::FakeTelegram;

const T: Duration = Duration::from_secs(30);
const CHAT: &str = "777";

fn config(tg: &FakeTelegram) -> String {
    format!(
        "[channel.telegram]\nbot_token = \"{tgk}\"\nallowed_users = [\"1\"]\n\
         api_base = \"{api}\"\npoll_timeout = \"1s\"\nsend_interval = \"10ms\"\n\
         [[cron.jobs]]\nname = \"配置任务\"\nschedule = \"0 18 * * 5\"\nmessage = \"cfg\"\n",
        tgk = support::telegram::TOKEN,
        api = tg.api_base(),
    )
}

/// `zeroclaw <args> --json` parsed, with its exit code.
fn json(env: &Env, args: &[&str]) -> (Option<i32>, Value) {
    let mut all = args.to_vec();
    all.push("--json");
    let out = env.cli(&all);
    let v = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    (out.status.code(), v)
}

fn list(env: &Env) -> Vec<Value> {
    json(env, &["cron", "list"]).1["jobs"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

fn job(env: &Env, name: &str) -> Option<Value> {
    list(env).into_iter().find(|j| j["name"] == name)
}

fn runs(env: &Env, name: &str) -> Vec<Value> {
    json(env, &["cron", "runs", "--name", name, "--limit", "1000"]).1["runs"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

fn ok_runs(env: &Env, name: &str) -> usize {
    runs(env, name)
        .iter()
        .filter(|r| r["status"] == "ok")
        .count()
}

fn delivered(tg: &FakeTelegram, needle: &str) -> usize {
    tg.sent()
        .iter()
        .filter(|(chat, text)| chat == CHAT && text.contains(needle))
        .count()
}

fn add(env: &Env, args: &[&str]) -> Value {
    let mut all = vec!["cron", "add"];
    all.extend_from_slice(args);
    let (code, v) = json(env, &all);
    assert_eq!(code, Some(0), "cron add {args:?}: {v}");
    v
}

/// Whether `cond` holds at some point within `within` (for asserting that
/// something does not happen).
fn becomes_true_within(within: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let deadline = std::time::Instant::now() + within;
    while std::time::Instant::now() < deadline {
        if cond() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    cond()
}

fn wait_telegram(env: &Env) {
    wait_for("the Telegram channel running", T, || {
        env.child("channel:telegram")
            .is_some_and(|c| c["state"] == "running")
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn add_at_fires_once_and_delivers_to_the_telegram_chat() {
    let tg = FakeTelegram::start().await;
    let env = Env::new(&config(&tg));
    let _d = env.start_ready(&[]);
    wait_telegram(&env);
    let target = format!("telegram:{CHAT}");
    let v = add(
        &env,
        &[
            "提醒",
            "--at",
            "2s",
            "--message",
            "备份数据",
            "--deliver-to",
            &target,
        ],
    );
    assert_eq!(v["job"]["source"], "runtime", "{v}");
    assert!(v["job"]["next_run"].is_string(), "{v}");
    // The child is in the tree like a config job's.
    assert!(env.child("cron:提醒").is_some());
    wait_for("the reminder in the chat", T, || {
        delivered(&tg, "echo: 备份数据") == 1
    });
    wait_for("the one-shot marked done", T, || {
        job(&env, "提醒").is_some_and(|j| j["state"] == "done")
    });
    let j = job(&env, "提醒").unwrap();
    assert!(j["next_run"].is_null(), "{j}");
    let cfg = job(&env, "配置任务").unwrap();
    assert_eq!(cfg["source"], "config");
    // Never again: no second run or delivery over the next 3 s.
    let again = becomes_true_within(Duration::from_secs(3), || {
        ok_runs(&env, "提醒") > 1 || delivered(&tg, "echo: 备份数据") > 1
    });
    assert!(!again, "{:?}", runs(&env, "提醒"));
    assert_eq!(runs(&env, "提醒")[0]["status"], "ok");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_runs_repeatedly_until_removed() {
    let tg = FakeTelegram::start().await;
    let env = Env::new(&config(&tg));
    let _d = env.start_ready(&[]);
    add(&env, &["tick", "--every", "1s", "--message", "t"]);
    wait_for("two runs of the interval job", T, || {
        ok_runs(&env, "tick") >= 2
    });
    let id = zeroclaw::cron::job_id("tick");
    let (code, v) = json(&env, &["cron", "remove", &id]);
    assert_eq!(code, Some(0), "{v}");
    assert_eq!(v["removed"]["name"], "tick");
    assert!(env.child("cron:tick").is_none());
    assert!(job(&env, "tick").is_none());
    let after = ok_runs(&env, "tick");
    let ran = becomes_true_within(Duration::from_secs(3), || ok_runs(&env, "tick") > after);
    assert!(!ran, "the removed job ran again");
    // Its history stays; the config job was never touched.
    assert!(after >= 2);
    assert_eq!(env.child("cron:配置任务").unwrap()["restarts"], 0);
    let (code, v) = json(&env, &["cron", "remove", "tick"]);
    assert_eq!(
        (code, &v["error"]["code"]),
        (Some(1), &Value::from("not_found"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runtime_jobs_survive_stop_kill_9_and_a_one_shot_runs_after_downtime() {
    let tg = FakeTelegram::start().await;
    let env = Env::new(&config(&tg));
    let d = env.start_ready(&[]);
    add(&env, &["tick", "--every", "1s", "--message", "t"]);
    add(&env, &["later", "--at", "1h", "--message", "l"]);
    let at = add(&env, &["soon", "--at", "3s", "--message", "s"])["job"]["next_run"]
        .as_str()
        .unwrap()
        .to_string();
    let at = chrono::DateTime::parse_from_rfc3339(&at).unwrap();
    // Down over the one-shot's time: it runs at the next start (within the grace).
    d.signal(nix::sys::signal::Signal::SIGTERM);
    let mut d = d;
    d.wait_exit(T);
    let (_, offline) = json(&env, &["cron", "list"]);
    assert_eq!(offline["daemon"], "stopped");
    let names: Vec<&str> = offline["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|j| j["source"] == "runtime")
        .filter_map(|j| j["name"].as_str())
        .collect();
    assert_eq!(names, ["tick", "later", "soon"], "oldest first");
    wait_for("the one-shot's time to pass", T, || chrono::Utc::now() > at);
    let d = env.start_ready(&[]);
    wait_for("the one-shot run after the start", T, || {
        ok_runs(&env, "soon") == 1
    });
    let before = ok_runs(&env, "tick");
    wait_for("the interval job running again", T, || {
        ok_runs(&env, "tick") > before
    });
    wait_for("the one-shot done", T, || {
        job(&env, "soon").is_some_and(|j| j["state"] == "done")
    });
    d.signal(nix::sys::signal::Signal::SIGKILL);
    let mut d = d;
    d.wait_exit(T);
    let _d = env.start_ready(&[]);
    let before = ok_runs(&env, "tick");
    wait_for("the interval job after kill -9", T, || {
        ok_runs(&env, "tick") > before
    });
    let later = job(&env, "later").unwrap();
    assert_eq!(later["state"], "idle", "{later}");
    assert!(env.child("cron:later").is_some());
    // The done one-shot is no child any more and did not run twice.
    assert!(env.child("cron:soon").is_none());
    assert_eq!(ok_runs(&env, "soon"), 1);
}

/// `[cron] one_shot_grace = "0s"`: a one-shot whose time passed while the
/// daemon was down is recorded missed at the next start and never runs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_one_shot_late_past_the_configured_grace_is_missed_not_run() {
    let tg = FakeTelegram::start().await;
    let env = Env::new(&format!("[cron]\none_shot_grace = \"0s\"\n{}", config(&tg)));
    let mut d = env.start_ready(&[]);
    let at = add(&env, &["soon", "--at", "2s", "--message", "s"])["job"]["next_run"]
        .as_str()
        .unwrap()
        .to_string();
    let at = chrono::DateTime::parse_from_rfc3339(&at).unwrap();
    d.signal(nix::sys::signal::Signal::SIGTERM);
    d.wait_exit(T);
    wait_for("the one-shot's time to pass", T, || {
        chrono::Utc::now() > at + chrono::Duration::seconds(1)
    });
    let _d = env.start_ready(&[]);
    wait_for("the one-shot recorded missed", T, || {
        runs(&env, "soon").iter().any(|r| r["status"] == "missed")
    });
    assert_eq!(ok_runs(&env, "soon"), 0, "{:?}", runs(&env, "soon"));
    let missed = runs(&env, "soon");
    assert!(
        missed[0]["error"]
            .as_str()
            .unwrap_or_default()
            .contains("more than 0s"),
        "{missed:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusals_are_clear_and_store_nothing() {
    let tg = FakeTelegram::start().await;
    let env = Env::new(&config(&tg));
    let _d = env.start_ready(&[]);
    let big = "x".repeat(20_000);
    let cases: [(&[&str], &str, &str); 6] = [
        (
            &["配置任务", "--every", "1m", "--message", "m"],
            "conflict",
            "config file",
        ),
        (
            &["a", "--schedule", "61 * * * *", "--message", "m"],
            "bad_request",
            "schedule",
        ),
        (
            &["b", "--at", "2020-01-01T00:00:00Z", "--message", "m"],
            "bad_request",
            "in the past",
        ),
        (
            &[
                "c",
                "--schedule",
                "0 9 * * *",
                "--timezone",
                "Mars/Base",
                "--message",
                "m",
            ],
            "bad_request",
            "Mars/Base",
        ),
        (
            &["d", "--every", "1m", "--message", &big],
            "bad_request",
            "bytes",
        ),
        (
            &["e", "--every", "10ms", "--message", "m"],
            "bad_request",
            "at least",
        ),
    ];
    for (args, code, needle) in cases {
        let mut all = vec!["cron", "add"];
        all.extend_from_slice(args);
        let (exit, v) = json(&env, &all);
        assert_eq!(exit, Some(1), "{args:?}: {v}");
        assert_eq!(v["error"]["code"], code, "{args:?}: {v}");
        let msg = v["error"]["message"].as_str().unwrap_or_default();
        assert!(msg.contains(needle), "{args:?}: {msg}");
    }
    // Exactly one of --schedule, --at, --every.
    let out = env.cli(&[
        "cron",
        "add",
        "f",
        "--at",
        "1m",
        "--every",
        "1m",
        "--message",
        "m",
    ]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    add(&env, &["dup", "--every", "1m", "--message", "m"]);
    let (_, v) = json(
        &env,
        &["cron", "add", "dup", "--every", "2m", "--message", "m"],
    );
    assert_eq!(v["error"]["code"], "conflict", "{v}");
    let (_, v) = json(&env, &["cron", "remove", "配置任务"]);
    assert_eq!(v["error"]["code"], "conflict", "{v}");
    // A reload that changes the config jobs leaves the runtime one alone.
    env.write_config(&format!(
        "{}[[cron.jobs]]\nname = \"新\"\nschedule = \"@daily\"\nmessage = \"n\"\n",
        config(&tg)
    ));
    let (code, v) = json(&env, &["reload"]);
    assert_eq!(code, Some(0), "{v}");
    assert_eq!(v["added"], serde_json::json!(["cron:新"]), "{v}");
    assert_eq!(v["removed"], serde_json::json!([]), "{v}");
    assert_eq!(env.child("cron:dup").unwrap()["restarts"], 0);
    let runtime: Vec<Value> = list(&env)
        .into_iter()
        .filter(|j| j["source"] == "runtime")
        .collect();
    assert_eq!(runtime.len(), 1, "{runtime:?}");
    assert_eq!(runtime[0]["schedule"], "@every 1m");
}
