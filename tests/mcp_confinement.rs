//! MCP stdio servers run confined like the shell tool: their environment is
//! their `env` table and an allow-list (never the daemon's secrets), and
//! Landlock lets them read only what the config lists, whatever the
//! server's own policy allows. Driven through the real binary against
//! `@modelcontextprotocol/server-everything` and `server-filesystem`.

mod support;

use serde_json::{Value, json};
use std::time::Duration;
use support::daemon::{Env, wait_for};
use support::mcp::{self, call, run};
use support::openai::{self, Step};

const T: Duration = Duration::from_secs(30);
const DAEMON_SECRET: &str = "daemon-only-secret-7f3a9c";

fn running(env: &Env, child: &str) -> bool {
    env.child(child).is_some_and(|c| c["state"] == "running")
}

/// The content of every `role: tool` message the model was sent.
fn tool_results(gpt: &openai::Fake) -> Vec<(bool, String)> {
    let reqs = gpt.requests();
    let Some(last) = reqs.last() else {
        return Vec::new();
    };
    last.body["messages"]
        .as_array()
        .map(|m| {
            m.iter()
                .filter(|m| m["role"] == "tool")
                .filter_map(|m| m["content"].as_str().map(|c| (true, c.to_string())))
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_env_shows_the_servers_env_and_none_of_the_daemons_secrets() {
    let gpt = openai::Fake::start(vec![
        call("everything__get-env", json!({})),
        Step::EchoToolResult,
    ])
    .await;
    let workdir = tempfile::tempdir().unwrap();
    let env = Env::new(
        &format!(
            "{}\n[daemon]\n{}{}",
            mcp::provider(&gpt.base_url).replace(openai::KEY, "${TEST_OPENAI_KEY}"),
            mcp::everything(
                "everything",
                "[\"get-env\"]",
                &format!(
                    "workdir = \"{}\"\nenv = {{ GREETING = \"hello from the config\" }}",
                    workdir.path().display()
                ),
            ),
            mcp::job("env", "[\"everything__get-env\"]"),
        )
        .replace("\n[daemon]\n", "\n"),
    );
    let d = env.start_with(&[], |cmd| {
        cmd.env("TEST_OPENAI_KEY", openai::KEY)
            .env("AWS_SECRET_ACCESS_KEY", DAEMON_SECRET)
            .env("ZEROCLAW_TEST_PRIVATE", DAEMON_SECRET);
    });
    wait_for("mcp:everything running", T, || {
        running(&env, "mcp:everything")
    });
    run(&env, "env");
    let results = tool_results(&gpt);
    assert_eq!(results.len(), 1, "{results:?}\n{}", d.stderr());
    let text = &results[0].1;
    let shown: Value = serde_json::from_str(text).unwrap_or(Value::Null);
    // The server got its `env` (values are secrets, masked before the model sees them).
    assert_eq!(shown["GREETING"], "***", "{text}");
    assert_eq!(
        shown["HOME"].as_str(),
        Some(workdir.path().to_str().unwrap_or_default()),
        "{text}"
    );
    for name in [
        "TEST_OPENAI_KEY",
        "AWS_SECRET_ACCESS_KEY",
        "ZEROCLAW_TEST_PRIVATE",
    ] {
        assert!(
            shown.get(name).is_none(),
            "{name} reached the server: {text}"
        );
    }
    assert!(
        !text.contains(DAEMON_SECRET) && !text.contains(openai::KEY),
        "{text}"
    );
    let names: Vec<&String> = shown
        .as_object()
        .map(|o| o.keys().collect())
        .unwrap_or_default();
    assert!(
        names.iter().all(
            |n| ["PATH", "LANG", "TZ", "HOME", "GREETING"].contains(&n.as_str())
                || n.starts_with("LC_")
        ),
        "{names:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_filesystem_server_reads_what_is_listed_and_landlock_refuses_the_rest() {
    let shared = tempfile::tempdir().unwrap();
    std::fs::write(shared.path().join("notes.txt"), "the shared notes").unwrap();
    let private = tempfile::tempdir().unwrap();
    std::fs::write(private.path().join("secret.txt"), "unlisted secret").unwrap();
    let gpt = openai::Fake::start(vec![
        call(
            "fs__read_text_file",
            json!({"path": shared.path().join("notes.txt")}),
        ),
        call(
            "fs__read_text_file",
            json!({"path": private.path().join("secret.txt")}),
        ),
        Step::EchoToolResult,
    ])
    .await;
    // The server itself is told to serve both directories; only `shared`
    // is in its `read_paths`.
    let table = mcp::filesystem("fs", shared.path(), "[\"read_text_file\"]").replace(
        &format!("\", \"{}\"]\nread_paths", shared.path().display()),
        &format!(
            "\", \"{}\", \"{}\"]\nread_paths",
            shared.path().display(),
            private.path().display()
        ),
    );
    let env = Env::new(&format!(
        "{}{table}{}",
        mcp::provider(&gpt.base_url),
        mcp::job("fs", "[\"mcp:fs\"]"),
    ));
    let d = env.start_ready(&[]);
    wait_for("mcp:fs running", T, || running(&env, "mcp:fs"));
    run(&env, "fs");
    let results = tool_results(&gpt);
    assert_eq!(results.len(), 2, "{results:?}\n{}", d.stderr());
    assert!(results[0].1.contains("the shared notes"), "{results:?}");
    assert!(!results[1].1.contains("unlisted secret"), "{results:?}");
    assert!(
        results[1].1.to_lowercase().contains("denied") || results[1].1.contains("EACCES"),
        "{results:?}"
    );
}
