//! MCP servers supervised like any other child of the real binary: a killed
//! server is restarted and its tools work again; a server that never
//! answers `initialize`, one that prints garbage and a missing command each
//! give a clear error and a child in backoff, the daemon unharmed.

mod support;

use serde_json::json;
use std::time::Duration;
use support::daemon::{Env, wait_for};
use support::mcp::{self, call, run};
use support::openai::{self, Step};

const T: Duration = Duration::from_secs(30);

/// The server's pid from its status line (`stdio `node`, pid 42; ...`).
fn server_pid(env: &Env, child: &str) -> Option<i32> {
    let c = env.child(child)?;
    if c["state"] != "running" {
        return None;
    }
    let detail = c["detail"].as_str()?;
    let rest = detail.split("pid ").nth(1)?;
    rest.split(';').next()?.trim().parse().ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_server_is_restarted_and_the_next_call_works() {
    let gpt = openai::Fake::start(vec![
        call("everything__echo", json!({"message": "before the kill"})),
        Step::EchoToolResult,
        call("everything__echo", json!({"message": "after the restart"})),
        Step::EchoToolResult,
    ])
    .await;
    let env = Env::new(&format!(
        "{}{}{}",
        mcp::provider(&gpt.base_url),
        mcp::everything("everything", "[\"echo\"]", ""),
        mcp::job("mcp", "[\"everything__echo\"]"),
    ));
    let d = env.start_ready(&[]);
    let mut first = None;
    wait_for("mcp:everything running", T, || {
        first = server_pid(&env, "mcp:everything");
        first.is_some()
    });
    let first = first.unwrap_or_default();
    assert!(
        run(&env, "mcp").contains("before the kill"),
        "{}",
        d.stderr()
    );
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(first),
        nix::sys::signal::Signal::SIGKILL,
    )
    .unwrap();
    let mut second = None;
    wait_for("mcp:everything restarted with a new process", T, || {
        second = server_pid(&env, "mcp:everything").filter(|p| *p != first);
        second.is_some()
    });
    let c = env.child("mcp:everything").unwrap_or_default();
    assert!(c["restarts"].as_u64() >= Some(1), "{c}");
    assert!(
        c["last_exit"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("everything")),
        "{c}"
    );
    let output = run(&env, "mcp");
    assert!(
        output.contains("after the restart"),
        "{output}\n{}",
        d.stderr()
    );
    // The killed process is gone, not a zombie of the daemon.
    wait_for("the killed server reaped", T, || {
        !std::path::Path::new(&format!("/proc/{first}")).exists()
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_servers_back_off_with_a_clear_error_and_the_daemon_is_unharmed() {
    let gpt = openai::Fake::start(vec![
        call("everything__echo", json!({"message": "still working"})),
        Step::EchoToolResult,
    ])
    .await;
    let slow = "[supervisor.children.\"mcp:silent\"]\nrestart_sec = \"1h\"\n\
                [supervisor.children.\"mcp:garbage\"]\nrestart_sec = \"1h\"\n\
                [supervisor.children.\"mcp:missing\"]\nrestart_sec = \"1h\"\n";
    let env = Env::new(&format!(
        "{}{}{}{slow}\
         [mcp.servers.silent]\ncommand = \"sleep\"\nargs = [\"600\"]\ntools = [\"*\"]\n\
         start_timeout = \"500ms\"\n\
         [mcp.servers.garbage]\ncommand = \"sh\"\n\
         args = [\"-c\", \"echo 'this is not JSON-RPC'; head -c 300 /dev/urandom; sleep 600\"]\n\
         tools = [\"*\"]\nstart_timeout = \"2s\"\n\
         [mcp.servers.missing]\ncommand = \"/nonexistent/mcp-server\"\ntools = [\"*\"]\n",
        mcp::provider(&gpt.base_url),
        mcp::everything("everything", "[\"echo\"]", ""),
        mcp::job(
            "mcp",
            "[\"mcp:everything\", \"mcp:silent\", \"mcp:garbage\"]"
        ),
    ));
    let d = env.start_ready(&[]);
    let exit_of = |child: &str| -> Option<String> {
        let c = env.child(child)?;
        (c["state"] == "backoff").then(|| c["last_exit"]["message"].as_str().map(String::from))?
    };
    for (child, expect) in [
        ("mcp:silent", "no answer to `initialize`"),
        ("mcp:garbage", "bytes on stdout that are not MCP messages"),
        ("mcp:missing", "cannot start `/nonexistent/mcp-server`"),
    ] {
        let mut message = None;
        wait_for(&format!("{child} in backoff"), T, || {
            message = exit_of(child);
            message.is_some()
        });
        let message = message.unwrap_or_default();
        assert!(message.contains(expect), "{child}: {message}");
    }
    // The daemon and the good server carry on; the bad servers offer nothing.
    assert!(run(&env, "mcp").contains("still working"), "{}", d.stderr());
    let offered: Vec<String> = gpt.requests()[0].body["tools"]
        .as_array()
        .map(|t| {
            t.iter()
                .filter_map(|t| t["function"]["name"].as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(offered, ["everything__echo"]);
    assert!(
        env.child("mcp:everything")
            .is_some_and(|c| c["state"] == "running" && c["restarts"] == 0)
    );
}
