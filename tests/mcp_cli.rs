//! The operator's side of MCP through the real binary: `zeroclaw mcp list`
//! and `mcp call` against a running daemon, `doctor` starting each server,
//! and `config check` refusing tools lists that name unknown servers or
//! tools a server does not allow.

mod support;

use serde_json::Value;
use std::time::Duration;
use support::daemon::{Env, output_text, wait_for};
use support::mcp;

const T: Duration = Duration::from_secs(30);

fn json_of(out: &std::process::Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or(Value::Null)
}

#[test]
fn mcp_list_and_call_against_the_running_daemon() {
    let env = Env::new(&format!(
        "{}[mcp.servers.missing]\ncommand = \"/nonexistent/mcp-server\"\ntools = [\"*\"]\n\
         [supervisor.children.\"mcp:missing\"]\nrestart_sec = \"1h\"\n",
        mcp::everything("everything", "[\"echo\", \"get-sum\"]", ""),
    ));
    let d = env.start_ready(&[]);
    let mut list = Value::Null;
    wait_for("both servers listed with their state", T, || {
        list = json_of(&env.cli(&["mcp", "list", "--json"]));
        list["servers"].as_array().is_some_and(|s| {
            s.iter()
                .any(|s| s["name"] == "everything" && s["state"] == "running")
                && s.iter()
                    .any(|s| s["name"] == "missing" && s["state"] == "backoff")
        })
    });
    let servers = list["servers"].as_array().cloned().unwrap_or_default();
    let everything = servers
        .iter()
        .find(|s| s["name"] == "everything")
        .cloned()
        .unwrap_or_default();
    let tools: Vec<&str> = everything["tools"]
        .as_array()
        .map(|t| t.iter().filter_map(|t| t["exposed"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(tools, ["everything__echo", "everything__get-sum"], "{list}");
    assert_eq!(everything["transport"], "stdio");
    let missing = servers
        .iter()
        .find(|s| s["name"] == "missing")
        .cloned()
        .unwrap_or_default();
    assert!(
        missing["detail"]
            .as_str()
            .is_some_and(|d| d.contains("cannot start")),
        "{missing}"
    );
    // The text form names every server and tool.
    let text = output_text(&env.cli(&["mcp", "list"]));
    assert!(
        text.contains("everything (stdio): running") && text.contains("everything__get-sum"),
        "{text}"
    );

    let out = env.cli(&[
        "mcp",
        "call",
        "everything",
        "get-sum",
        "--args",
        r#"{"a": 2, "b": 40}"#,
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", output_text(&out));
    assert!(output_text(&out).contains("42"), "{}", output_text(&out));
    // An unknown tool is the server's error, with a failing exit code.
    let out = env.cli(&["mcp", "call", "everything", "no-such-tool", "--json"]);
    assert_eq!(out.status.code(), Some(1), "{}", output_text(&out));
    let v = json_of(&out);
    assert!(v["is_error"] == true || v["ok"] == false, "{v}");
    // A server in backoff, and one that is not configured.
    let out = env.cli(&["mcp", "call", "missing", "x"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        output_text(&out).contains("not running"),
        "{}",
        output_text(&out)
    );
    let out = env.cli(&["mcp", "call", "nope", "x"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        output_text(&out).contains("no MCP server `nope`"),
        "{}",
        output_text(&out)
    );
    drop(d);
}

#[test]
fn doctor_starts_each_server_and_lists_its_tools() {
    let env = Env::new(&format!(
        "{}[mcp.servers.missing]\ncommand = \"/nonexistent/mcp-server\"\ntools = [\"*\"]\n",
        mcp::everything("everything", "[\"echo\"]", ""),
    ));
    let out = env.cli(&["doctor", "--json"]);
    let v = json_of(&out);
    let checks = v["checks"].as_array().cloned().unwrap_or_default();
    let check = |name: &str| {
        checks
            .iter()
            .find(|c| c["name"] == name)
            .cloned()
            .unwrap_or_default()
    };
    let good = check("mcp everything");
    assert_eq!(good["ok"], true, "{v}");
    assert!(
        good["detail"]
            .as_str()
            .is_some_and(|d| d.contains("everything__echo")),
        "{good}"
    );
    let bad = check("mcp missing");
    assert_eq!(bad["ok"], false, "{v}");
    assert!(
        bad["detail"]
            .as_str()
            .is_some_and(|d| d.contains("/nonexistent/mcp-server")),
        "{bad}"
    );
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn config_check_refuses_unknown_servers_and_tools_not_allowed() {
    let env = Env::new(&format!(
        "{}{}{}",
        mcp::everything("everything", "[\"echo\"]", ""),
        mcp::job("a", "[\"mcp:nothere\"]"),
        mcp::job(
            "b",
            "[\"everything__get-sum\", \"everything__echo\", \"mcp:everything\"]"
        ),
    ));
    let out = env.cli(&["config", "check"]);
    let text = output_text(&out);
    assert_ne!(out.status.code(), Some(0), "{text}");
    assert!(text.contains("unknown MCP server `nothere`"), "{text}");
    assert!(
        text.contains("does not allow `everything__get-sum`"),
        "{text}"
    );
    assert!(!text.contains("`everything__echo`"), "{text}");
    // A bad transport and a name that cannot be part of a tool name.
    let env = Env::new(
        "[mcp.servers.\"a.b\"]\ncommand = \"x\"\ntools = [\"*\"]\n\
         [mcp.servers.both]\ncommand = \"x\"\nurl = \"http://127.0.0.1:1/mcp\"\ntools = [\"*\"]\n\
         [mcp.servers.neither]\ntools = [\"*\"]\n\
         [mcp.servers.partial]\nurl = \"http://127.0.0.1:1/mcp\"\ntools = [\"*\"]\n\
         headers = { Authorization = \"Bearer ${TOKEN}\" }\n",
    );
    let text = output_text(&env.cli(&["config", "check"]));
    assert!(text.contains("cannot be part of a tool name"), "{text}");
    assert!(text.contains("not both"), "{text}");
    assert!(text.contains("set `command`"), "{text}");
    assert!(text.contains("only when it is the whole value"), "{text}");
}

#[test]
fn reload_adds_changes_and_removes_servers() {
    let env = Env::new("");
    let _d = env.start_ready(&[]);
    env.write_config(&mcp::everything("everything", "[\"echo\"]", ""));
    let out = env.cli(&["reload", "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", output_text(&out));
    wait_for("mcp:everything added and running", T, || {
        env.child("mcp:everything")
            .is_some_and(|c| c["state"] == "running")
    });
    // Allowing another tool restarts the child with the new list.
    env.write_config(&mcp::everything(
        "everything",
        "[\"echo\", \"get-sum\"]",
        "",
    ));
    let out = env.cli(&["reload", "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", output_text(&out));
    wait_for("the new tool offered", T, || {
        let v = json_of(&env.cli(&["mcp", "list", "--json"]));
        v["servers"][0]["tools"]
            .as_array()
            .is_some_and(|t| t.len() == 2)
    });
    env.write_config("");
    let out = env.cli(&["reload", "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", output_text(&out));
    wait_for("mcp:everything removed", T, || {
        env.child("mcp:everything").is_none()
    });
    let v = json_of(&env.cli(&["mcp", "list", "--json"]));
    assert_eq!(v["servers"], serde_json::json!([]), "{v}");
}
