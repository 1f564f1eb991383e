//! `notifications/tools/list_changed` refreshes what the model is offered,
//! and `/metrics` counts MCP calls and errors per server and tool, through
//! the real binary against a server built on the official TypeScript SDK.

mod support;

use serde_json::{Value, json};
use std::time::Duration;
use support::daemon::{Env, wait_for};
use support::mcp::{self, call, run};
use support::openai::{self, Step};

const T: Duration = Duration::from_secs(30);
const GW_TOKEN: &str = "gateway-token-for-mcp-metrics";

fn offered(body: &Value) -> Vec<String> {
    let mut names: Vec<String> = body["tools"]
        .as_array()
        .map(|t| {
            t.iter()
                .filter_map(|t| t["function"]["name"].as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default();
    names.sort_unstable();
    names
}

fn exposed_tools(env: &Env, server: &str) -> Vec<String> {
    let out = env.cli(&["mcp", "list", "--json"]);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    v["servers"]
        .as_array()
        .and_then(|s| s.iter().find(|s| s["name"] == server))
        .and_then(|s| s["tools"].as_array())
        .map(|t| {
            t.iter()
                .filter_map(|t| t["exposed"].as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_changed_tool_list_is_offered_and_calls_are_counted() {
    let gpt = openai::Fake::start(vec![
        call("lc__first", json!({})),
        Step::EchoToolResult,
        call("lc__second", json!({})),
        call("everything__get-sum", json!({"a": "not a number"})),
        Step::EchoToolResult,
    ])
    .await;
    let env = Env::new(&format!(
        "[gateway]\nport = 0\nauth_token = \"{GW_TOKEN}\"\n{}{}{}{}",
        mcp::provider(&gpt.base_url),
        mcp::list_changed("lc"),
        mcp::everything("everything", "[\"get-sum\"]", ""),
        mcp::job("lc", "[\"mcp:lc\", \"mcp:everything\"]"),
    ));
    let d = env.start_ready(&[]);
    wait_for("lc offering its first tool", T, || {
        exposed_tools(&env, "lc") == ["lc__first"]
    });
    wait_for("mcp:everything running", T, || {
        env.child("mcp:everything")
            .is_some_and(|c| c["state"] == "running")
    });
    assert!(
        run(&env, "lc").contains("the first tool answered"),
        "{}",
        d.stderr()
    );
    // The call made the server add a tool and say so; the list is refreshed.
    wait_for("the second tool listed", T, || {
        exposed_tools(&env, "lc") == ["lc__first", "lc__second"]
    });
    let output = run(&env, "lc");
    let reqs = gpt.requests();
    assert_eq!(offered(&reqs[0].body), ["everything__get-sum", "lc__first"]);
    assert_eq!(
        offered(&reqs[2].body),
        ["everything__get-sum", "lc__first", "lc__second"]
    );
    let last = reqs.last().map(|r| r.body.to_string()).unwrap_or_default();
    assert!(
        last.contains("the second tool answered"),
        "{last}\n{output}"
    );

    let mut url = String::new();
    wait_for("the gateway's address", T, || {
        url = env
            .child("gateway")
            .and_then(|g| g["detail"].as_str().map(String::from))
            .unwrap_or_default();
        url.starts_with("http")
    });
    zeroclaw::tls::install_crypto_provider();
    let metrics = reqwest::Client::builder()
        .no_proxy()
        .timeout(T)
        .build()
        .unwrap()
        .get(format!("{url}/metrics"))
        .bearer_auth(GW_TOKEN)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for line in [
        "zeroclaw_mcp_tool_calls_total{server=\"lc\",tool=\"first\"} 1",
        "zeroclaw_mcp_tool_calls_total{server=\"lc\",tool=\"second\"} 1",
        "zeroclaw_mcp_tool_calls_total{server=\"everything\",tool=\"get-sum\"} 1",
        "zeroclaw_mcp_tool_errors_total{server=\"everything\",tool=\"get-sum\"} 1",
    ] {
        assert!(metrics.contains(line), "{line} missing:\n{metrics}");
    }
    assert!(
        !metrics.contains("zeroclaw_mcp_tool_errors_total{server=\"lc\""),
        "{metrics}"
    );
    assert!(
        metrics.contains("# HELP zeroclaw_mcp_tool_calls_total"),
        "{metrics}"
    );
}
