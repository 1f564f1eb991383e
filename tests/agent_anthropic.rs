//! The agent against a fake Anthropic Messages API.

mod support;

use std::time::Duration;
use support::agent::{
    ask, ask_with_shell, assert_reports_this_year, new_agent, provider_config, respond_err,
};
use support::anthropic::{Fake, KEY, Step};
use tokio::time::Instant;
use zeroclaw::agent::Agent;
use zeroclaw::config::{Config, parse_str};

fn config(fake: &Fake, key: &str, timeout: &str, retries: u32) -> Config {
    provider_config(
        "anthropic",
        "claude-test",
        &fake.base_url,
        key,
        timeout,
        retries,
    )
}

#[tokio::test]
async fn text_reply_uses_the_documented_request_shape() {
    let fake = Fake::start(vec![Step::text("Hello from the fake")]).await;
    let agent = new_agent(&config(&fake, KEY, "5s", 0));
    let answer = agent.respond(ask("hi")).await.unwrap();
    assert_eq!(answer, "Hello from the fake");
    let req = &fake.requests()[0];
    assert_eq!(req.headers["anthropic-version"], "2023-06-01");
    assert_eq!(req.headers["x-api-key"], KEY);
    assert_eq!(req.body["model"], "claude-test");
    assert_eq!(req.body["max_tokens"], 4096);
    assert!(req.body["system"].as_str().unwrap().contains("ZeroClaw"));
    assert_eq!(req.body["messages"][0]["role"], "user");
    assert_eq!(req.body["messages"][0]["content"][0]["text"], "hi");
    assert!(
        req.body.get("tools").is_none(),
        "no tools offered by default"
    );
}

#[tokio::test]
async fn tool_call_round_trip_runs_date_and_answers() {
    let fake = Fake::start(vec![
        Step::ToolUse {
            name: "shell".into(),
            input: serde_json::json!({"command": "date +%Y"}),
        },
        Step::EchoToolResult,
    ])
    .await;
    let agent = new_agent(&config(&fake, KEY, "5s", 0));
    let answer = ask_with_shell(&agent, "what year is it?").await;
    assert_reports_this_year(&answer);
    let reqs = fake.requests();
    assert_eq!(reqs.len(), 2);
    assert_eq!(reqs[0].body["tools"][0]["name"], "shell");
    assert_eq!(
        reqs[0].body["tools"][0]["input_schema"]["required"][0],
        "command"
    );
    let second = &reqs[1].body["messages"];
    assert_eq!(second[1]["role"], "assistant");
    assert_eq!(second[1]["content"][1]["type"], "tool_use");
    assert_eq!(second[2]["content"][0]["type"], "tool_result");
    assert_eq!(second[2]["content"][0]["tool_use_id"], "toolu_1");
    assert_eq!(second[2]["content"][0]["is_error"], false);
}

#[tokio::test]
async fn refused_command_goes_back_to_the_model_not_the_user() {
    let fake = Fake::start(vec![
        Step::ToolUse {
            name: "shell".into(),
            input: serde_json::json!({"command": "rm -rf /"}),
        },
        Step::EchoToolResult,
    ])
    .await;
    let agent = new_agent(&config(&fake, KEY, "5s", 0));
    let mut req = ask("clean up");
    req.tools = vec!["shell".into()];
    let answer = agent.respond(req).await.unwrap();
    assert!(answer.contains("command `rm` is not allowed"), "{answer}");
    assert_eq!(
        fake.requests()[1].body["messages"][2]["content"][0]["is_error"],
        true
    );
}

#[tokio::test]
async fn rate_limited_429_honours_retry_after_then_succeeds() {
    let fake = Fake::start(vec![
        Step::error(429, "rate_limit_error", Some("1")),
        Step::text("after the wait"),
    ])
    .await;
    let agent = new_agent(&config(&fake, KEY, "5s", 3));
    let started = Instant::now();
    let answer = agent.respond(ask("hi")).await.unwrap();
    assert_eq!(answer, "after the wait");
    assert_eq!(fake.hits(), 2);
    // Backoff alone would wait ~10-20ms; the server asked for a second.
    assert!(
        started.elapsed() >= Duration::from_millis(950),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn overloaded_529_is_retried_then_reported() {
    let fake = Fake::start(vec![
        Step::error(529, "overloaded_error", None),
        Step::text("recovered"),
    ])
    .await;
    let agent = new_agent(&config(&fake, KEY, "5s", 2));
    assert_eq!(agent.respond(ask("hi")).await.unwrap(), "recovered");

    let fake = Fake::start(vec![Step::error(529, "overloaded_error", None); 5]).await;
    let agent = new_agent(&config(&fake, KEY, "5s", 2));
    let err = agent.respond(ask("hi")).await.unwrap_err();
    assert_eq!(fake.hits(), 3, "one try and two retries");
    assert_eq!(
        err.user_message(),
        "the model provider is overloaded; please try again later"
    );
    let detail = err.to_string();
    assert!(detail.contains("HTTP 529"), "{detail}");
    assert!(detail.contains("overloaded_error"), "{detail}");
    assert!(detail.contains("req_fake_3"), "{detail}");
}

#[tokio::test]
async fn wrong_key_401_is_not_retried_and_says_so() {
    let fake = Fake::start(vec![]).await;
    let agent = new_agent(&config(&fake, "sk-ant-wrong", "5s", 3));
    let err = agent.respond(ask("hi")).await.unwrap_err();
    assert_eq!(fake.hits(), 1);
    assert_eq!(
        err.user_message(),
        "the model provider rejected the API key"
    );
    assert!(err.to_string().contains("authentication_error"), "{err}");
    assert!(err.to_string().contains("req_fake_1"), "{err}");
    assert!(
        !err.to_string().contains("sk-ant-wrong"),
        "key leaked: {err}"
    );
}

#[tokio::test]
async fn malformed_json_is_a_clear_error_not_a_panic() {
    let fake = Fake::start(vec![Step::Malformed]).await;
    let agent = new_agent(&config(&fake, KEY, "5s", 3));
    let err = agent.respond(ask("hi")).await.unwrap_err();
    assert_eq!(fake.hits(), 1, "a malformed 200 is not retried");
    assert_eq!(
        err.user_message(),
        "the model provider sent a reply that could not be read"
    );
}

#[tokio::test]
async fn connection_dropped_mid_body_is_retried_then_reported() {
    let fake = Fake::start(vec![Step::DropMidBody, Step::text("second try")]).await;
    let agent = new_agent(&config(&fake, KEY, "5s", 2));
    assert_eq!(agent.respond(ask("hi")).await.unwrap(), "second try");

    let fake = Fake::start(vec![Step::DropMidBody; 3]).await;
    let agent = new_agent(&config(&fake, KEY, "5s", 1));
    let err = agent.respond(ask("hi")).await.unwrap_err();
    assert_eq!(fake.hits(), 2);
    assert_eq!(err.user_message(), "could not reach the model provider");
}

#[tokio::test]
async fn slow_server_hits_the_timeout_without_hanging() {
    let fake = Fake::start(vec![Step::Hang; 4]).await;
    let agent = new_agent(&config(&fake, KEY, "300ms", 3));
    let started = Instant::now();
    let err = respond_err(&agent, "hi").await;
    assert_eq!(
        err.user_message(),
        "the model provider did not answer in time"
    );
    assert_eq!(fake.hits(), 1, "a timeout is not retried");
    assert!(started.elapsed() < Duration::from_secs(3));
}

#[tokio::test]
async fn history_is_sent_with_the_next_message_of_the_session_only() {
    let fake = Fake::start(vec![
        Step::text("first answer"),
        Step::text("second"),
        Step::text("other"),
    ])
    .await;
    let agent = new_agent(&config(&fake, KEY, "5s", 0));
    agent.respond(ask("first question")).await.unwrap();
    agent.respond(ask("second question")).await.unwrap();
    let mut other = ask("other session");
    other.session = "test:2".into();
    agent.respond(other).await.unwrap();
    let reqs = fake.requests();
    let second = reqs[1].body["messages"].as_array().unwrap();
    assert_eq!(second.len(), 3);
    assert_eq!(second[0]["content"][0]["text"], "first question");
    assert_eq!(second[1]["content"][0]["text"], "first answer");
    assert_eq!(reqs[2].body["messages"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn sessions_run_concurrently() {
    // Session A hangs until its timeout; session B must be answered meanwhile.
    let fake = Fake::start(vec![Step::Hang, Step::text("b answered")]).await;
    let agent = std::sync::Arc::new(new_agent(&config(&fake, KEY, "3s", 0)));
    let a = {
        let agent = agent.clone();
        tokio::spawn(async move { agent.respond(ask("a")).await })
    };
    let deadline = Instant::now() + Duration::from_secs(2);
    while fake.hits() < 1 {
        assert!(
            Instant::now() < deadline,
            "session A never reached the fake"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let mut b = ask("b");
    b.session = "test:b".into();
    let answered = tokio::time::timeout(Duration::from_secs(2), agent.respond(b)).await;
    assert_eq!(answered.expect("B waited for A").unwrap(), "b answered");
    assert!(!a.is_finished());
    a.abort();
}

#[test]
fn anthropic_without_key_refuses_to_start_with_a_clear_error() {
    if std::env::var_os("ANTHROPIC_API_KEY").is_some() {
        return;
    }
    let c = parse_str("[provider]\nname = \"anthropic\"\n", "t").unwrap();
    let err = Agent::new(&c, std::env::temp_dir()).unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("no API key for provider `anthropic`"), "{msg}");
    assert!(msg.contains("ANTHROPIC_API_KEY"), "{msg}");
}

/// Wait until `cond` holds, failing after `within`.
async fn wait_for(within: Duration, what: &str, cond: impl Fn() -> bool) {
    let deadline = Instant::now() + within;
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// `cond` must stay false for `window` (the thing it watches must be blocked).
async fn stays_false(window: Duration, cond: impl Fn() -> bool) -> bool {
    let deadline = Instant::now() + window;
    while Instant::now() < deadline {
        if cond() {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    true
}

#[tokio::test]
async fn messages_of_one_session_are_answered_in_order() {
    // The first message hangs until its timeout; the second, same session,
    // must not reach the provider before the first is finished.
    let fake = std::sync::Arc::new(Fake::start(vec![Step::Hang, Step::text("second")]).await);
    let agent = std::sync::Arc::new(new_agent(&config(&fake, KEY, "2s", 0)));
    let first = {
        let agent = agent.clone();
        tokio::spawn(async move { agent.respond(ask("first")).await })
    };
    wait_for(Duration::from_secs(2), "the first request", || {
        fake.hits() == 1
    })
    .await;
    let second = {
        let agent = agent.clone();
        tokio::spawn(async move { agent.respond(ask("second")).await })
    };
    assert!(
        stays_false(Duration::from_millis(300), || fake.hits() > 1).await,
        "the second message overtook the first"
    );
    assert!(first.await.unwrap().is_err(), "first timed out");
    assert_eq!(second.await.unwrap().unwrap(), "second");
    assert_eq!(fake.hits(), 2);
}

#[tokio::test]
async fn max_concurrent_bounds_sessions_in_flight() {
    let fake = std::sync::Arc::new(Fake::start(vec![Step::Hang, Step::text("b")]).await);
    let mut c = config(&fake, KEY, "2s", 0);
    c.agent.max_concurrent = 1;
    let agent = std::sync::Arc::new(new_agent(&c));
    let a = {
        let agent = agent.clone();
        tokio::spawn(async move { agent.respond(ask("a")).await })
    };
    wait_for(Duration::from_secs(2), "session A", || fake.hits() == 1).await;
    let b = {
        let agent = agent.clone();
        let mut req = ask("b");
        req.session = "test:other".into();
        tokio::spawn(async move { agent.respond(req).await })
    };
    assert!(
        stays_false(Duration::from_millis(300), || fake.hits() > 1).await,
        "a second session ran past max_concurrent = 1"
    );
    assert!(a.await.unwrap().is_err());
    assert_eq!(b.await.unwrap().unwrap(), "b");
}

#[tokio::test]
async fn an_empty_message_is_refused_before_any_call() {
    let fake = Fake::start(vec![]).await;
    let agent = new_agent(&config(&fake, KEY, "5s", 0));
    let err = agent.respond(ask("   ")).await.unwrap_err();
    assert_eq!(
        err.user_message(),
        "the message is empty; please write something"
    );
    assert_eq!(fake.hits(), 0);
}

#[tokio::test]
async fn seed_health_check_job_works_with_default_shell_settings() {
    // 系统健康检查: tools = ["shell"], CPU / memory / disk with the default allowlist.
    let call = |c: &str| Step::ToolUse {
        name: "shell".into(),
        input: serde_json::json!({ "command": c }),
    };
    let fake = Fake::start(vec![
        call("uptime"),
        call("free -m"),
        call("df -h"),
        Step::EchoToolResult,
    ])
    .await;
    let agent = new_agent(&config(&fake, KEY, "5s", 0));
    let mut req = ask("检查系统状态：CPU、内存、磁盘、服务状态");
    req.session = "cron:health".into();
    req.tools = vec!["shell".into()];
    let answer = agent.respond(req).await.unwrap();
    assert!(answer.contains("Filesystem"), "{answer}");
    let reqs = fake.requests();
    assert_eq!(reqs.len(), 4);
    for (i, expect) in [(1, "load average"), (2, "Mem:"), (3, "Filesystem")] {
        let msgs = reqs[i].body["messages"].as_array().unwrap();
        let result = &msgs.last().unwrap()["content"][0];
        assert_eq!(result["is_error"], false, "{result}");
        assert!(
            result["content"].as_str().unwrap().contains(expect),
            "{result}"
        );
    }
}
