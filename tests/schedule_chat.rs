//! Reminders from chat through the real binary: a fake Telegram user asks,
//! the fake model calls `schedule`, and the reminder arrives in that chat at
//! its time; the per-chat limit, bad arguments, listing and cancelling (own
//! chat only) answer the model clearly.

mod support;

use serde_json::{Value, json};
use std::time::Duration;
use support::daemon::{Env, wait_for};
use support::openai::{self, Step};
use support::telegram::FakeTelegram;

const T: Duration = Duration::from_secs(30);
const CHAT: i64 = 4242;
const OTHER: i64 = 5151;

fn config(tg: &FakeTelegram, model: &openai::Fake, extra: &str) -> String {
    format!(
        "[provider]\nname = \"openai\"\nmodel = \"gpt-test\"\napi_key = \"{key}\"\n\
         base_url = \"{base}/v1\"\n\
         [agent]\ntimezone = \"Asia/Shanghai\"\n{extra}\n\
         [channel.telegram]\nbot_token = \"{tgk}\"\nallowed_users = [\"1\"]\n\
         api_base = \"{api}\"\npoll_timeout = \"1s\"\nsend_interval = \"10ms\"\n\
         tools = [\"schedule\"]\n",
        key = openai::KEY,
        base = model.base_url,
        tgk = support::telegram::TOKEN,
        api = tg.api_base(),
    )
}

fn call(name: &str, args: Value) -> Step {
    Step::ToolCall {
        name: name.into(),
        arguments: args.to_string(),
    }
}

fn sent_in(tg: &FakeTelegram, chat: i64, needle: &str) -> bool {
    tg.sent()
        .iter()
        .any(|(c, t)| c == &chat.to_string() && t.contains(needle))
}

/// The user says `text` in `chat`; wait for an answer there containing `needle`.
fn say(tg: &FakeTelegram, chat: i64, text: &str, needle: &str) {
    tg.push_text(chat, 1, text);
    wait_for(&format!("`{needle}` in chat {chat}"), T, || {
        sent_in(tg, chat, needle)
    });
}

fn start(env: &Env) -> support::daemon::Daemon {
    let d = env.start_ready(&[]);
    wait_for("the Telegram channel running", T, || {
        env.child("channel:telegram")
            .is_some_and(|c| c["state"] == "running")
    });
    d
}

fn chat_jobs(env: &Env, chat: i64) -> Vec<Value> {
    let out = env.cli(&["cron", "list", "--json"]);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    v["jobs"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .filter(|j| j["owner"] == format!("telegram:{chat}"))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reminder_scheduled_from_chat_arrives_in_that_chat() {
    let tg = FakeTelegram::start().await;
    let model = openai::Fake::start(vec![
        call(
            "schedule",
            json!({"message": "提醒用户备份数据", "at": "2s"}),
        ),
        Step::text("好的，两秒后提醒你"),
        Step::text("⏰ 该备份数据了"),
    ])
    .await;
    let env = Env::new(&config(&tg, &model, ""));
    let _d = start(&env);
    say(&tg, CHAT, "两秒后提醒我备份", "好的，两秒后提醒你");
    let jobs = chat_jobs(&env, CHAT);
    assert_eq!(jobs.len(), 1, "{jobs:?}");
    assert_eq!(jobs[0]["source"], "runtime");
    wait_for("the reminder in the chat", T, || {
        sent_in(&tg, CHAT, "⏰ 该备份数据了")
    });
    assert!(!sent_in(&tg, OTHER, "备份"));
    let reqs = model.requests();
    // The chat's request offered the three tools and carried the date and zone.
    let first = &reqs[0].body;
    let tools: Vec<&str> = first["tools"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|t| t["function"]["name"].as_str())
        .collect();
    assert_eq!(tools, ["schedule", "list_scheduled", "cancel_scheduled"]);
    let system = first["messages"][0]["content"].as_str().unwrap_or_default();
    assert!(
        system.contains("The current date and time is") && system.contains("Asia/Shanghai"),
        "{system}"
    );
    // The run at its time was given the reminder's message.
    let fired = reqs[2].body["messages"].to_string();
    assert!(fired.contains("提醒用户备份数据"), "{fired}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn limits_bad_arguments_listing_and_cancelling_answer_the_model() {
    let tg = FakeTelegram::start().await;
    let model = openai::Fake::start(vec![]).await;
    let env = Env::new(&config(&tg, &model, "max_jobs_per_chat = 1"));
    let _d = start(&env);
    model.push([
        call("schedule", json!({"message": "喝水", "every": "1h"})),
        Step::text("已安排每小时提醒"),
    ]);
    say(&tg, CHAT, "每小时提醒我喝水", "已安排每小时提醒");
    let id = chat_jobs(&env, CHAT)[0]["id"].as_str().unwrap().to_string();

    let refusals = [
        (
            json!({"message": "再来", "cron": "0 9 * * *"}),
            "the most allowed",
        ),
        (
            json!({"message": "x", "at": "1m", "every": "1h"}),
            "exactly one",
        ),
        (json!({"message": "x", "every": "30s"}), "once a minute"),
        (
            json!({"message": "x", "at": "2020-01-01T00:00:00Z"}),
            "in the past",
        ),
        (json!({"text": "x"}), "bad arguments"),
    ];
    for (i, (args, needle)) in refusals.into_iter().enumerate() {
        model.push([call("schedule", args), Step::EchoToolResult]);
        say(&tg, CHAT, &format!("试试 {i}"), needle);
    }
    assert_eq!(chat_jobs(&env, CHAT).len(), 1, "nothing more was stored");

    model.push([call("list_scheduled", json!({})), Step::EchoToolResult]);
    say(&tg, CHAT, "我有哪些提醒？", &id);
    // Another chat neither sees nor cancels it.
    model.push([call("list_scheduled", json!({})), Step::EchoToolResult]);
    say(&tg, OTHER, "我有哪些提醒？", "\"scheduled\":[]");
    model.push([
        call("cancel_scheduled", json!({"id": id})),
        Step::EchoToolResult,
    ]);
    say(&tg, OTHER, "取消它", "has no reminder");
    assert_eq!(chat_jobs(&env, CHAT).len(), 1);

    model.push([
        call("cancel_scheduled", json!({"id": id})),
        Step::EchoToolResult,
    ]);
    say(&tg, CHAT, "取消提醒", "cancelled");
    assert!(chat_jobs(&env, CHAT).is_empty());
    // Room again within the limit.
    model.push([
        call("schedule", json!({"message": "站起来", "every": "2h"})),
        Step::text("又安排好了"),
    ]);
    say(&tg, CHAT, "每两小时提醒我站起来", "又安排好了");
    assert_eq!(chat_jobs(&env, CHAT).len(), 1);
}
