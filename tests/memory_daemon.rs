//! Conversation memory through the real binary: a fake Telegram user talks
//! to a fake OpenAI-compatible model; after `zeroclaw stop` and after
//! `kill -9` the model still receives the earlier turns, `zeroclaw memory`
//! lists and shows them (with and without the daemon) and `memory clear`
//! makes the next message start afresh.

mod support;

use serde_json::Value;
use std::time::Duration;
use support::daemon::{Daemon, Env, wait_for};
use support::openai::{self, Step};
use support::telegram::FakeTelegram;

const T: Duration = Duration::from_secs(30);
const CHAT: i64 = 4242;
const SESSION: &str = "telegram:4242";

fn config(tg: &FakeTelegram, model: &openai::Fake) -> String {
    format!(
        "[provider]\nname = \"openai\"\nmodel = \"gpt-test\"\napi_key = \"{key}\"\n\
         base_url = \"{base}/v1\"\n\
         [channel.telegram]\nbot_token = \"{tgk}\"\nallowed_users = [\"1\"]\n\
         api_base = \"{api}\"\npoll_timeout = \"1s\"\nsend_interval = \"10ms\"\n",
        key = openai::KEY,
        base = model.base_url,
        tgk = support::telegram::TOKEN,
        api = tg.api_base(),
    )
}

fn json(env: &Env, args: &[&str]) -> (Option<i32>, Value) {
    let mut all = args.to_vec();
    all.push("--json");
    let out = env.cli(&all);
    (
        out.status.code(),
        serde_json::from_slice(&out.stdout).unwrap_or(Value::Null),
    )
}

/// Send `text` as the user and wait for the bot's `answer` in the chat.
fn say(tg: &FakeTelegram, text: &str, answer: &str) {
    tg.push_text(CHAT, 1, text);
    wait_for(&format!("the answer `{answer}`"), T, || {
        tg.sent()
            .iter()
            .any(|(chat, t)| chat == &CHAT.to_string() && t == answer)
    });
}

/// The user and assistant texts of the model's `n`-th request.
fn conversation(model: &openai::Fake, n: usize) -> Vec<(String, String)> {
    let reqs = model.requests();
    reqs[n].body["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["role"] == "user" || m["role"] == "assistant")
        .map(|m| {
            (
                m["role"].as_str().unwrap_or_default().to_string(),
                m["content"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

fn start(env: &Env) -> Daemon {
    let d = env.start_ready(&[]);
    wait_for("the Telegram channel running", T, || {
        env.child("channel:telegram")
            .is_some_and(|c| c["state"] == "running")
    });
    d
}

fn pair(role: &str, text: &str) -> (String, String) {
    (role.to_string(), text.to_string())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_model_receives_earlier_turns_after_stop_and_kill_9() {
    let tg = FakeTelegram::start().await;
    let model = openai::Fake::start(vec![
        Step::text("你好，我记住了：蓝色"),
        Step::text("你喜欢蓝色"),
        Step::text("还是蓝色"),
        Step::text("我们刚认识"),
    ])
    .await;
    let env = Env::new(&config(&tg, &model));
    let mut d = start(&env);
    say(&tg, "我最喜欢的颜色是蓝色", "你好，我记住了：蓝色");
    d.signal(nix::sys::signal::Signal::SIGTERM);
    d.wait_exit(T);

    // Without the daemon, from the database.
    let (code, v) = json(&env, &["memory", "list"]);
    assert_eq!(code, Some(0), "{v}");
    assert_eq!(v["sessions"][0]["session"], SESSION, "{v}");
    assert_eq!(v["sessions"][0]["turns"], 1, "{v}");
    let (_, v) = json(&env, &["memory", "show", SESSION]);
    assert_eq!(v["turns"][0]["user"], "我最喜欢的颜色是蓝色", "{v}");

    let mut d = start(&env);
    say(&tg, "我喜欢什么颜色？", "你喜欢蓝色");
    assert_eq!(
        conversation(&model, 1),
        [
            pair("user", "我最喜欢的颜色是蓝色"),
            pair("assistant", "你好，我记住了：蓝色"),
            pair("user", "我喜欢什么颜色？"),
        ]
    );
    d.signal(nix::sys::signal::Signal::SIGKILL);
    d.wait_exit(T);

    let _d = start(&env);
    say(&tg, "再说一次？", "还是蓝色");
    let third = conversation(&model, 2);
    assert_eq!(third.len(), 5, "{third:?}");
    assert_eq!(third[2], pair("user", "我喜欢什么颜色？"));
    assert_eq!(third[3], pair("assistant", "你喜欢蓝色"));

    // Through the daemon: shown, then cleared, and the next message starts afresh.
    let (_, v) = json(&env, &["memory", "show", SESSION]);
    assert_eq!(v["turns"].as_array().map(Vec::len), Some(3), "{v}");
    let (code, v) = json(&env, &["memory", "clear", SESSION]);
    assert_eq!((code, &v["cleared"]), (Some(0), &Value::Bool(true)), "{v}");
    let (code, v) = json(&env, &["memory", "show", SESSION]);
    assert_eq!(
        (code, &v["error"]["code"]),
        (Some(1), &Value::from("not_found"))
    );
    say(&tg, "你是谁？", "我们刚认识");
    assert_eq!(conversation(&model, 3), [pair("user", "你是谁？")]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_store_keeps_only_the_turns_the_history_bounds_leave() {
    let tg = FakeTelegram::start().await;
    let long = "长".repeat(70);
    let model = openai::Fake::start(vec![
        Step::text("one"),
        Step::text("two"),
        Step::text("three"),
        Step::text("four"),
        Step::text(&long),
    ])
    .await;
    let bounds = "[agent]\nmax_history_turns = 2\nmax_history_chars = 60\n";
    let env = Env::new(&format!("{}{bounds}", config(&tg, &model)));
    let mut d = start(&env);
    for (text, answer) in [("一", "one"), ("二", "two"), ("三", "three")] {
        say(&tg, text, answer);
    }
    d.signal(nix::sys::signal::Signal::SIGTERM);
    d.wait_exit(T);
    let (_, v) = json(&env, &["memory", "show", SESSION]);
    let users: Vec<_> = v["turns"]
        .as_array()
        .map(|t| t.iter().map(|t| t["user"].clone()).collect())
        .unwrap_or_default();
    assert_eq!(users, ["二", "三"], "{v}");

    let _d = start(&env);
    say(&tg, "四", "four");
    assert_eq!(
        conversation(&model, 3),
        [
            pair("user", "二"),
            pair("assistant", "two"),
            pair("user", "三"),
            pair("assistant", "three"),
            pair("user", "四"),
        ]
    );
    // A turn longer than the character bound leaves no turn to keep.
    say(&tg, "五", &long);
    let (code, v) = json(&env, &["memory", "show", SESSION]);
    assert_eq!(
        (code, &v["error"]["code"]),
        (Some(1), &Value::from("not_found")),
        "{v}"
    );
}
