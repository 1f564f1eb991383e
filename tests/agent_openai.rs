//! The agent against a fake OpenAI-compatible chat-completions server.

mod support;

use std::time::Duration;
use support::agent::{
    ask, ask_with_shell, assert_reports_this_year, new_agent, provider_config, respond_err,
};
use support::openai::{Fake, KEY, Step};
use tokio::time::Instant;
use zeroclaw::config::{Config, parse_str};

/// `name` may be `openai`, `openrouter`, `ollama` or a custom compatible server.
fn config(name: &str, fake: &Fake, key: &str, timeout: &str, retries: u32) -> Config {
    provider_config(name, "gpt-test", &fake.base_url, key, timeout, retries)
}

#[tokio::test]
async fn text_reply_uses_the_documented_request_shape() {
    let fake = Fake::start(vec![Step::text("Hello from the fake")]).await;
    let agent = new_agent(&config("openai", &fake, KEY, "5s", 0));
    assert_eq!(
        agent.respond(ask("hi")).await.unwrap(),
        "Hello from the fake"
    );
    let req = &fake.requests()[0];
    assert_eq!(req.headers["authorization"], format!("Bearer {KEY}"));
    assert_eq!(req.body["model"], "gpt-test");
    assert_eq!(req.body["messages"][0]["role"], "system");
    assert_eq!(req.body["messages"][1]["role"], "user");
    assert_eq!(req.body["messages"][1]["content"], "hi");
    assert_eq!(req.body["max_completion_tokens"], 4096);
    assert!(req.body.get("tools").is_none());
}

#[tokio::test]
async fn compatible_servers_get_max_tokens_and_a_v1_base_url_works() {
    let fake = Fake::start(vec![Step::text("local")]).await;
    let mut c = config("vllm", &fake, KEY, "5s", 0);
    c.provider.base_url = Some(format!("{}/v1/", fake.base_url));
    let agent = new_agent(&c);
    assert_eq!(agent.respond(ask("hi")).await.unwrap(), "local");
    assert_eq!(fake.requests()[0].body["max_tokens"], 4096);
}

#[tokio::test]
async fn a_cron_job_can_name_another_provider_and_model() {
    let fake = Fake::start(vec![Step::text("from openrouter")]).await;
    let c = parse_str(
        &format!(
            r#"
            [provider]
            name = "echo"
            [providers.openrouter]
            api_key = "{KEY}"
            base_url = "{}"
            "#,
            fake.base_url
        ),
        "test",
    )
    .unwrap();
    let agent = new_agent(&c);
    let mut req = ask("hi");
    req.provider = Some("openrouter".into());
    req.model = Some("vendor/model-x".into());
    assert_eq!(agent.respond(req).await.unwrap(), "from openrouter");
    assert_eq!(fake.requests()[0].body["model"], "vendor/model-x");
    // The default stays echo.
    assert!(
        agent
            .respond(ask("plain"))
            .await
            .unwrap()
            .starts_with("echo: plain")
    );
}

#[tokio::test]
async fn tool_call_round_trip_runs_date_and_answers() {
    let fake = Fake::start(vec![
        Step::ToolCall {
            name: "shell".into(),
            arguments: r#"{"command":"date +%Y"}"#.into(),
        },
        Step::EchoToolResult,
    ])
    .await;
    let agent = new_agent(&config("openai", &fake, KEY, "5s", 0));
    let answer = ask_with_shell(&agent, "what year is it?").await;
    assert_reports_this_year(&answer);
    let reqs = fake.requests();
    assert_eq!(reqs[0].body["tools"][0]["type"], "function");
    assert_eq!(reqs[0].body["tools"][0]["function"]["name"], "shell");
    let m = &reqs[1].body["messages"];
    assert_eq!(m[2]["role"], "assistant");
    assert_eq!(m[2]["tool_calls"][0]["id"], "call_1");
    assert!(m[2]["tool_calls"][0]["function"]["arguments"].is_string());
    assert_eq!(m[3]["role"], "tool");
    assert_eq!(m[3]["tool_call_id"], "call_1");
}

#[tokio::test]
async fn invalid_tool_arguments_are_reported_to_the_model() {
    let fake = Fake::start(vec![
        Step::ToolCall {
            name: "shell".into(),
            arguments: "{not json".into(),
        },
        Step::EchoToolResult,
    ])
    .await;
    let agent = new_agent(&config("openai", &fake, KEY, "5s", 0));
    let mut req = ask("x");
    req.tools = vec!["shell".into()];
    let answer = agent.respond(req).await.unwrap();
    assert!(
        answer.contains("cannot parse the command line") || answer.contains("not allowed"),
        "{answer}"
    );
}

#[tokio::test]
async fn tool_loop_stops_at_max_tool_iterations() {
    let call = Step::ToolCall {
        name: "shell".into(),
        arguments: r#"{"command":"date"}"#.into(),
    };
    let fake = Fake::start(vec![call; 10]).await;
    let mut c = config("openai", &fake, KEY, "5s", 0);
    c.agent.max_tool_iterations = 2;
    let agent = new_agent(&c);
    let mut req = ask("loop");
    req.tools = vec!["shell".into()];
    let err = agent.respond(req).await.unwrap_err();
    assert_eq!(fake.hits(), 3, "first call plus two tool iterations");
    assert!(
        err.user_message().contains("too many tool steps"),
        "{}",
        err.user_message()
    );
}

#[tokio::test]
async fn rate_limited_429_honours_retry_after_ms_then_succeeds() {
    let fake = Fake::start(vec![
        Step::Error {
            status: 429,
            kind: "requests".into(),
            code: Some("rate_limit_exceeded".into()),
            retry_after: Some("5".into()),
            retry_after_ms: Some("400".into()),
        },
        Step::text("after the wait"),
    ])
    .await;
    let agent = new_agent(&config("openai", &fake, KEY, "5s", 3));
    let started = Instant::now();
    assert_eq!(agent.respond(ask("hi")).await.unwrap(), "after the wait");
    assert_eq!(fake.hits(), 2);
    let waited = started.elapsed();
    assert!(waited >= Duration::from_millis(380), "{waited:?}");
    assert!(
        waited < Duration::from_secs(4),
        "retry-after-ms wins over retry-after: {waited:?}"
    );
}

#[tokio::test]
async fn retries_are_bounded_and_the_error_is_short() {
    let fake = Fake::start(vec![Step::error(503, "server_error"); 5]).await;
    let agent = new_agent(&config("openai", &fake, KEY, "5s", 2));
    let err = agent.respond(ask("hi")).await.unwrap_err();
    assert_eq!(fake.hits(), 3);
    assert_eq!(
        err.user_message(),
        "the model provider is overloaded; please try again later"
    );
    assert!(err.to_string().contains("req_oai_3"), "{err}");

    let fake = Fake::start(vec![Step::error(529, "overloaded"), Step::text("ok now")]).await;
    let agent = new_agent(&config("openai", &fake, KEY, "5s", 2));
    assert_eq!(agent.respond(ask("hi")).await.unwrap(), "ok now");
}

#[tokio::test]
async fn wrong_key_401_is_not_retried_and_says_so() {
    let fake = Fake::start(vec![]).await;
    let agent = new_agent(&config("openrouter", &fake, "sk-wrong", "5s", 3));
    let err = agent.respond(ask("hi")).await.unwrap_err();
    assert_eq!(fake.hits(), 1);
    assert_eq!(
        err.user_message(),
        "the model provider rejected the API key"
    );
    assert!(err.to_string().contains("Incorrect API key"), "{err}");
    assert!(err.to_string().contains("req_oai_1"), "{err}");
}

#[tokio::test]
async fn not_found_model_is_not_retried() {
    let fake = Fake::start(vec![Step::error(404, "invalid_request_error"); 3]).await;
    let agent = new_agent(&config("openai", &fake, KEY, "5s", 3));
    let err = agent.respond(ask("hi")).await.unwrap_err();
    assert_eq!(fake.hits(), 1);
    assert!(
        err.user_message()
            .contains("check the configured model name")
    );
}

#[tokio::test]
async fn malformed_json_is_a_clear_error_not_a_panic() {
    let fake = Fake::start(vec![Step::Malformed]).await;
    let agent = new_agent(&config("openai", &fake, KEY, "5s", 3));
    let err = agent.respond(ask("hi")).await.unwrap_err();
    assert_eq!(fake.hits(), 1);
    assert_eq!(
        err.user_message(),
        "the model provider sent a reply that could not be read"
    );
    assert!(
        err.to_string().contains("502 Bad Gateway"),
        "body snippet logged: {err}"
    );
}

#[tokio::test]
async fn connection_dropped_mid_body_is_retried_then_reported() {
    let fake = Fake::start(vec![Step::DropMidBody, Step::text("second try")]).await;
    let agent = new_agent(&config("ollama", &fake, KEY, "5s", 2));
    assert_eq!(agent.respond(ask("hi")).await.unwrap(), "second try");

    let fake = Fake::start(vec![Step::DropMidBody; 3]).await;
    let agent = new_agent(&config("ollama", &fake, KEY, "5s", 0));
    let err = agent.respond(ask("hi")).await.unwrap_err();
    assert_eq!(fake.hits(), 1);
    assert_eq!(err.user_message(), "could not reach the model provider");
}

#[tokio::test]
async fn slow_server_hits_the_timeout_without_hanging() {
    let fake = Fake::start(vec![Step::Hang; 4]).await;
    let agent = new_agent(&config("openai", &fake, KEY, "300ms", 3));
    let err = respond_err(&agent, "hi").await;
    assert_eq!(
        err.user_message(),
        "the model provider did not answer in time"
    );
    assert_eq!(fake.hits(), 1);
}

#[tokio::test]
async fn nothing_listening_is_a_connect_error() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let c = parse_str(
        &format!(
            "[provider]\nname = \"ollama\"\nbase_url = \"http://127.0.0.1:{port}\"\nmax_retries = 1\nretry_min_delay = \"10ms\"\n"
        ),
        "t",
    )
    .unwrap();
    let err = new_agent(&c).respond(ask("hi")).await.unwrap_err();
    assert_eq!(err.user_message(), "could not reach the model provider");
}
