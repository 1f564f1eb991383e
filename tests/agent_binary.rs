//! Through the real binary: the daemon pointed at the fake Anthropic
//! Messages API (`[provider] base_url`), asked over `POST /webhook`.
//!
//! `/webhook` offers the model no tools (`AgentRequest::tools` stays empty),
//! so the tool round trip is driven through a cron job with
//! `tools = ["shell"]` and `zeroclaw cron run` instead.

mod support;

use serde_json::{Value, json};
use std::time::Duration;
use support::anthropic::{Fake, KEY, Step};
use support::daemon::{Daemon, Env};

const TOKEN: &str = "test-token-0123456789";
const T: Duration = Duration::from_secs(30);

fn provider_config(fake: &Fake, key: &str) -> String {
    format!(
        "[gateway]\nport = 0\nauth_token = \"{TOKEN}\"\n\
         [provider]\nname = \"anthropic\"\nmodel = \"claude-test\"\napi_key = \"{key}\"\n\
         base_url = \"{}\"\nretry_min_delay = \"10ms\"\nretry_max_delay = \"100ms\"\n",
        fake.base_url
    )
}

fn client() -> reqwest::Client {
    support::http::client(T)
}

async fn ask(url: &str, message: &str) -> (u16, Value) {
    let resp = client()
        .post(format!("{url}/webhook"))
        .bearer_auth(TOKEN)
        .json(&json!({"message": message, "session": "s1"}))
        .send()
        .await
        .expect("webhook answers");
    let status = resp.status().as_u16();
    (status, resp.json().await.expect("JSON body"))
}

fn start(env: &Env) -> (Daemon, String) {
    env.start_gateway(&["--port", "0"])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhook_answers_with_the_providers_text() {
    let fake = Fake::start(vec![Step::text("Hello from the fake Claude.")]).await;
    let env = Env::new(&provider_config(&fake, KEY));
    let (d, url) = start(&env);
    let (s, b) = ask(&url, "Say hello").await;
    assert_eq!(s, 200, "{b}\n{}", d.stderr());
    assert_eq!(b["response"], "Hello from the fake Claude.");

    let reqs = fake.requests();
    assert_eq!(reqs.len(), 1);
    let r = &reqs[0];
    assert_eq!(r.headers["x-api-key"], KEY);
    assert_eq!(r.headers["anthropic-version"], "2023-06-01");
    assert_eq!(r.body["model"], "claude-test");
    let last = r.body["messages"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(last["role"], "user", "{last}");
    assert!(last.to_string().contains("Say hello"), "{last}");
    // No tools are offered on /webhook.
    assert!(
        r.body
            .get("tools")
            .is_none_or(|t| t.as_array().is_some_and(Vec::is_empty)),
        "{}",
        r.body
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rejected_key_is_502_with_a_short_message_and_the_request_id_logged() {
    let fake = Fake::start(vec![]).await;
    let env = Env::new(&provider_config(&fake, "sk-ant-wrong"));
    let (d, url) = start(&env);
    let (s, b) = ask(&url, "hello?").await;
    assert_eq!(s, 502, "{b}");
    assert_eq!(b["error"]["code"], "agent_error", "{b}");
    assert_eq!(
        b["error"]["message"], "the model provider rejected the API key",
        "{b}"
    );
    // The user sees nothing of the provider's detail...
    assert!(!b.to_string().contains("req_fake"), "{b}");
    // ...which goes to the log with the provider's request id.
    support::daemon::wait_for("the request id in the log", T, || {
        d.stderr().contains("req_fake_1")
    });
    // A 401 is not retried.
    assert_eq!(fake.hits(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cron_job_with_the_shell_tool_round_trips_through_the_provider() {
    let fake = Fake::start(vec![
        Step::ToolUse {
            name: "shell".into(),
            input: json!({"command": "echo tool-output-marker"}),
        },
        Step::EchoToolResult,
    ])
    .await;
    let job = "[[cron.jobs]]\nname = \"probe\"\nschedule = \"0 9 * * *\"\n\
               message = \"run the probe\"\ntools = [\"shell\"]\n\
               [tools.shell]\nallowed_commands = [\"echo\"]\n";
    let env = Env::new(&format!("{}{job}", provider_config(&fake, KEY)));
    let work = env.path("work");
    let d = env.start_ready(&["--workdir", work.to_str().unwrap()]);
    let out = env.cli(&["cron", "run", "probe", "--json"]);
    let v: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {out:?}\n{}", d.stderr()));
    assert_eq!(out.status.code(), Some(0), "{v}\n{}", d.stderr());
    assert_eq!(v["run"]["status"], "ok", "{v}");
    let output = v["run"]["output"].as_str().unwrap();
    assert!(
        output.starts_with("The tool said: ") && output.contains("tool-output-marker"),
        "{v}"
    );

    let reqs = fake.requests();
    assert_eq!(reqs.len(), 2, "one call, then one with the tool result");
    let tools = reqs[0].body["tools"].as_array().expect("tools offered");
    assert_eq!(tools.len(), 1);
    assert_eq!(tools[0]["name"], "shell");
    assert!(tools[0]["input_schema"].is_object(), "{}", reqs[0].body);
    let fed_back = reqs[1].body["messages"].to_string();
    assert!(fed_back.contains("tool_result"), "{fed_back}");
    assert!(fed_back.contains("tool-output-marker"), "{fed_back}");
}
