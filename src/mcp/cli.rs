//! `zeroclaw mcp list` and `zeroclaw mcp call`: thin clients of the control
//! socket's `mcp.list` and `mcp.call`.

use super::control::{McpCallReply, McpListReply};
use crate::cli::Global;
use crate::control::call::Call;
use crate::control::client::{self, ClientError};
use crate::control::protocol::state_name;
use anyhow::Context;
use serde_json::{Value, json};
use std::time::Duration;

/// How long `mcp call` waits when the config cannot tell the server's timeout.
const FALLBACK_TIMEOUT: Duration = Duration::from_secs(600);

#[derive(Debug, clap::Subcommand)]
pub enum McpCommand {
    /// Configured servers with their state and the tools they offer now.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Call one tool of a running server (its own name, allowed or not).
    Call {
        server: String,
        tool: String,
        /// The tool's arguments, a JSON object.
        #[arg(long, default_value = "{}")]
        args: String,
        #[arg(long)]
        json: bool,
    },
}

pub fn run(global: &Global, command: McpCommand) -> anyhow::Result<u8> {
    // The daemon's config may hold secrets from an environment this shell
    // lacks: find the socket leniently, as `status` does.
    let located = crate::control::locate::locate(global.config.as_deref());
    located.warn();
    let socket = located.socket.clone();
    match command {
        McpCommand::List { json } => {
            let reply = client::call_as::<McpListReply>(&socket, &Call::McpList {});
            answered(reply, json, print_list)
        }
        McpCommand::Call {
            server,
            tool,
            args,
            json,
        } => {
            let arguments: Value = serde_json::from_str(&args)
                .with_context(|| format!("--args is not JSON: {args}"))?;
            anyhow::ensure!(
                arguments.is_object(),
                "--args must be a JSON object, e.g. '{{\"a\": 1}}'"
            );
            // The server's own timeout (the daemon enforces it), and some
            // time for the socket.
            let timeout = located
                .config
                .as_ref()
                .ok()
                .and_then(|c| c.mcp.servers.get(&server))
                .map_or(FALLBACK_TIMEOUT, |s| s.timeout)
                + Duration::from_secs(5);
            let call = Call::McpCall {
                server,
                tool,
                arguments,
            };
            let reply = client::call_as_with_timeout::<McpCallReply>(&socket, &call, timeout);
            answered(reply, json, |r| println!("{}", r.content))
        }
    }
}

/// Print a reply (JSON or text); the exit code: 0, 1 for an error or a
/// tool error, 3 when the daemon is not running.
fn answered<T: serde::Serialize + ErrorFlag>(
    reply: Result<T, ClientError>,
    json_out: bool,
    print: impl Fn(&T),
) -> anyhow::Result<u8> {
    match reply {
        Ok(r) => {
            if json_out {
                println!("{}", serde_json::to_string_pretty(&r)?);
            } else {
                print(&r);
            }
            Ok(if r.failed() { 1 } else { 0 })
        }
        Err(ClientError::NotRunning(p)) => {
            eprintln!("zeroclaw is not running (no control socket at {p})");
            Ok(3)
        }
        Err(ClientError::Remote(e)) => {
            if json_out {
                println!("{}", json!({"ok": false, "error": e}));
            } else {
                eprintln!("error: {}", e.message);
            }
            Ok(1)
        }
        Err(e) => Err(e.into()),
    }
}

/// Whether a reply reports a failure (a tool's `isError`).
trait ErrorFlag {
    fn failed(&self) -> bool;
}

impl ErrorFlag for McpListReply {
    fn failed(&self) -> bool {
        false
    }
}

impl ErrorFlag for McpCallReply {
    fn failed(&self) -> bool {
        self.is_error
    }
}

fn print_list(reply: &McpListReply) {
    if reply.servers.is_empty() {
        println!("no MCP servers configured (add [mcp.servers.<name>])");
        return;
    }
    for s in &reply.servers {
        let state = s.state.map_or("not started", state_name);
        let restarts = s.restarts.map_or("-".to_string(), |n| n.to_string());
        println!(
            "{} ({}): {state}, {restarts} restarts{}",
            s.name,
            s.transport,
            s.detail
                .as_deref()
                .map(|d| format!(" - {d}"))
                .unwrap_or_default()
        );
        for t in &s.tools {
            println!("  {:<40} {}", t.exposed, t.description);
        }
    }
}
