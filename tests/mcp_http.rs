//! An MCP server over Streamable HTTP (`server-everything streamableHttp`,
//! run by the test on 127.0.0.1): its tools reach the model with the
//! configured headers sent, and when the server goes away and comes back
//! the child gets a new session and the next call works.

mod support;

use serde_json::json;
use std::time::Duration;
use support::daemon::{Env, wait_for};
use support::mcp::{self, HttpEverything, call, run};
use support::openai::{self, Step};

const T: Duration = Duration::from_secs(30);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_tools_reach_the_model_and_survive_a_server_restart() {
    let mut server = HttpEverything::start();
    let gpt = openai::Fake::start(vec![
        call("web__echo", json!({"message": "over http"})),
        Step::EchoToolResult,
        call(
            "web__echo",
            json!({"message": "after the server came back"}),
        ),
        Step::EchoToolResult,
    ])
    .await;
    let env = Env::new(&format!(
        "{}[mcp.servers.web]\nurl = \"{}\"\ntools = [\"echo\"]\ntimeout = \"5s\"\n\
         headers = {{ Authorization = \"${{MCP_TEST_AUTH}}\" }}\n{}",
        mcp::provider(&gpt.base_url),
        server.url(),
        mcp::job("http", "[\"mcp:web\"]"),
    ));
    let d = env.start_with(&[], |cmd| {
        cmd.env("MCP_TEST_AUTH", "Bearer t0ken");
    });
    wait_for("mcp:web running", T, || {
        env.child("mcp:web")
            .is_some_and(|c| c["state"] == "running")
    });
    assert!(run(&env, "http").contains("over http"), "{}", d.stderr());
    let port = server.port;
    server.kill();
    let _server = HttpEverything::start_on(port);
    // The old session is gone with the old process: the child gets a new one.
    wait_for("the echo working again", T, || {
        let out = env.cli(&[
            "mcp",
            "call",
            "web",
            "echo",
            "--args",
            r#"{"message": "probe"}"#,
        ]);
        out.status.code() == Some(0)
    });
    let output = run(&env, "http");
    assert!(
        output.contains("after the server came back"),
        "{output}\n{}",
        d.stderr()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn headers_are_sent_and_a_refusing_server_is_a_clear_failed_start() {
    use axum::http::{HeaderMap, StatusCode};
    use std::sync::{Arc, Mutex};
    // An endpoint that refuses every request, recording the headers it got.
    let seen: Arc<Mutex<Vec<String>>> = Arc::default();
    let record = seen.clone();
    let app = axum::Router::new().route(
        "/mcp",
        axum::routing::any(move |headers: HeaderMap| {
            let record = record.clone();
            async move {
                if let Some(v) = headers.get("authorization").and_then(|v| v.to_str().ok()) {
                    record.lock().unwrap().push(v.to_string());
                }
                (StatusCode::FORBIDDEN, "no entry")
            }
        }),
    );
    let base = support::scripted::serve(app).await;
    let env = Env::new(&format!(
        "[mcp.servers.refusing]\nurl = \"{base}/mcp\"\ntools = [\"*\"]\nstart_timeout = \"5s\"\n\
         headers = {{ Authorization = \"${{MCP_TEST_AUTH}}\" }}\n\
         [supervisor.children.\"mcp:refusing\"]\nrestart_sec = \"1h\"\n"
    ));
    let d = env.start_with(&[], |cmd| {
        cmd.env("MCP_TEST_AUTH", "Bearer t0ken");
    });
    let mut message = String::new();
    wait_for("mcp:refusing in backoff", T, || {
        let c = env.child("mcp:refusing").unwrap_or_default();
        message = c["last_exit"]["message"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        c["state"] == "backoff"
    });
    assert!(
        message.contains("`initialize` at") && message.contains("/mcp"),
        "{message}\n{}",
        d.stderr()
    );
    let seen = seen.lock().unwrap().clone();
    assert!(
        !seen.is_empty() && seen.iter().all(|v| v == "Bearer t0ken"),
        "{seen:?}"
    );
}
