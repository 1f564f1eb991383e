//! MCP servers nobody here wrote (`@modelcontextprotocol/server-everything`
//! and `server-filesystem`, from npm) as children of the real binary: a
//! fake model calls their tools through a cron job and the results reach it.

mod support;

use serde_json::json;
use std::time::Duration;
use support::daemon::{Env, wait_for};
use support::mcp::{self, call, run};
use support::openai::{self, Step};

const T: Duration = Duration::from_secs(30);

fn running(env: &Env, child: &str) -> bool {
    env.child(child).is_some_and(|c| c["state"] == "running")
}

/// The `role: tool` messages of request `i` to the model.
fn tool_results(gpt: &openai::Fake, i: usize) -> Vec<String> {
    gpt.requests()[i].body["messages"]
        .as_array()
        .map(|m| {
            m.iter()
                .filter(|m| m["role"] == "tool")
                .filter_map(|m| m["content"].as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn echo_and_get_sum_results_reach_the_model() {
    let gpt = openai::Fake::start(vec![
        call(
            "everything__echo",
            json!({"message": "hello from the model"}),
        ),
        call("everything__get-sum", json!({"a": 19, "b": 23})),
        Step::EchoToolResult,
    ])
    .await;
    let env = Env::new(&format!(
        "{}{}{}",
        mcp::provider(&gpt.base_url),
        mcp::everything("everything", "[\"echo\", \"get-sum\"]", ""),
        mcp::job("mcp", "[\"mcp:everything\"]"),
    ));
    let d = env.start_ready(&[]);
    wait_for("mcp:everything running", T, || {
        running(&env, "mcp:everything")
    });
    let output = run(&env, "mcp");
    assert!(output.contains("42"), "{output}\n{}", d.stderr());
    let reqs = gpt.requests();
    assert_eq!(reqs.len(), 3, "echo, get-sum, answer");
    // The model was offered exactly the allowed tools, with the server's schemas.
    let tools = reqs[0].body["tools"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let mut names: Vec<&str> = tools
        .iter()
        .filter_map(|t| t["function"]["name"].as_str())
        .collect();
    names.sort_unstable();
    assert_eq!(names, ["everything__echo", "everything__get-sum"]);
    let echo = tools
        .iter()
        .find(|t| t["function"]["name"] == "everything__echo")
        .cloned()
        .unwrap_or_default();
    assert_eq!(
        echo["function"]["parameters"]["properties"]["message"]["type"], "string",
        "{echo}"
    );
    let results = tool_results(&gpt, 1);
    assert!(
        results.iter().any(|r| r.contains("hello from the model")),
        "{results:?}"
    );
    let results = tool_results(&gpt, 2);
    assert!(results.iter().any(|r| r.contains("42")), "{results:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn images_are_summarised_and_errors_and_timeouts_are_tool_errors() {
    let gpt = openai::Fake::start(vec![
        call("everything__get-tiny-image", json!({})),
        call("everything__get-sum", json!({"a": "one", "b": 2})),
        call(
            "everything__trigger-long-running-operation",
            json!({"duration": 20, "steps": 2}),
        ),
        Step::EchoToolResult,
    ])
    .await;
    let env = Env::new(&format!(
        "{}{}{}",
        mcp::provider(&gpt.base_url),
        mcp::everything(
            "everything",
            "[\"get-tiny-image\", \"get-sum\", \"trigger-long-running-operation\"]",
            "timeout = \"1s\"",
        ),
        mcp::job("mcp", "[\"mcp:everything\"]"),
    ));
    let d = env.start_ready(&[]);
    wait_for("mcp:everything running", T, || {
        running(&env, "mcp:everything")
    });
    run(&env, "mcp");
    let reqs = gpt.requests();
    assert_eq!(reqs.len(), 4, "{}", d.stderr());
    let messages = reqs[3].body["messages"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let results: Vec<String> = messages
        .iter()
        .filter(|m| m["role"] == "tool")
        .filter_map(|m| m["content"].as_str().map(String::from))
        .collect();
    assert_eq!(results.len(), 3, "{results:?}");
    // The image is described, its bytes are not handed to the model.
    assert!(results[0].contains("[image image/png"), "{}", results[0]);
    assert!(results[0].len() < 1000, "{}", results[0]);
    // A result the server marks isError, and a call past `timeout`.
    assert!(
        results[1].to_lowercase().contains("error") || results[1].contains("invalid"),
        "{}",
        results[1]
    );
    assert!(
        results[2]
            .contains("did not answer the call to `trigger-long-running-operation` within 1s"),
        "{}",
        results[2]
    );
    // A slow tool is not a dead server: the child was not restarted.
    let c = env.child("mcp:everything").unwrap_or_default();
    assert_eq!(c["state"], "running", "{c}");
    assert_eq!(c["restarts"], 0, "{c}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shell_call_does_not_reap_a_running_server() {
    // The shell tool kills every process it did not start once a command
    // ends (its orphan sweep): a server is not one of those.
    let gpt = openai::Fake::start(vec![
        call("shell", json!({"command": "echo from the shell"})),
        call("everything__echo", json!({"message": "server still here"})),
        Step::EchoToolResult,
    ])
    .await;
    let workdir = tempfile::tempdir().unwrap();
    let env = Env::new(&format!(
        "{}[tools.shell]\nallowed_commands = [\"echo\"]\nworkdir = \"{}\"\n{}{}",
        mcp::provider(&gpt.base_url),
        workdir.path().display(),
        mcp::everything("everything", "[\"echo\"]", ""),
        mcp::job("both", "[\"shell\", \"mcp:everything\"]"),
    ));
    let d = env.start_ready(&[]);
    wait_for("mcp:everything running", T, || {
        running(&env, "mcp:everything")
    });
    let output = run(&env, "both");
    assert!(
        output.contains("server still here"),
        "{output}\n{}",
        d.stderr()
    );
    let results = tool_results(&gpt, 2);
    assert!(results[0].contains("from the shell"), "{results:?}");
    let c = env.child("mcp:everything").unwrap_or_default();
    assert_eq!(c["restarts"], 0, "{c}");
}
