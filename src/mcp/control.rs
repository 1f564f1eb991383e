//! `mcp.list` and `mcp.call` on the control socket: every configured server
//! with its child's state and the tools it offers now, and a direct call of
//! one of its tools for the operator (docs/control-protocol.md).

use super::hub::McpHub;
use crate::component::{ChildName, StatusBoard};
use crate::config::Config;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use zeroclaw_actors::{ChildState, TreeSnapshot};

/// `mcp.list`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct McpListReply {
    pub servers: Vec<McpServerView>,
}

/// One configured server.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct McpServerView {
    pub name: String,
    /// `stdio` or `http`.
    pub transport: String,
    /// The child's state (`None`: not in the tree).
    pub state: Option<ChildState>,
    pub restarts: Option<u64>,
    /// The child's status line, or why its last start failed.
    pub detail: Option<String>,
    /// The tools it offers now (exposed name, the server's name, description).
    pub tools: Vec<McpToolView>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct McpToolView {
    pub name: String,
    pub exposed: String,
    pub description: String,
}

/// `mcp.call`: what the tool returned.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct McpCallReply {
    pub content: String,
    pub is_error: bool,
}

/// Every configured server, as the tree and the hub see it now.
pub fn list(
    config: &Config,
    hub: &McpHub,
    tree: &TreeSnapshot,
    status: &StatusBoard,
) -> McpListReply {
    let servers = config
        .mcp
        .servers
        .iter()
        .map(|(name, server)| {
            let child = ChildName::mcp(name).to_string();
            let snapshot = tree.children.iter().find(|c| c.name == child);
            let tools = hub
                .tools(name)
                .unwrap_or_default()
                .into_iter()
                .map(|t| McpToolView {
                    name: t.name,
                    exposed: t.exposed,
                    description: t.description,
                })
                .collect();
            McpServerView {
                name: name.clone(),
                transport: if server.url.is_some() {
                    "http"
                } else {
                    "stdio"
                }
                .to_string(),
                state: snapshot.map(|s| s.state),
                restarts: snapshot.map(|s| s.restarts),
                detail: snapshot
                    .and_then(|s| {
                        s.last_exit
                            .as_ref()
                            .filter(|_| s.state != ChildState::Running)
                    })
                    .map(|e| e.message.clone())
                    .or_else(|| status.get_named(&child)),
                tools,
            }
        })
        .collect();
    McpListReply { servers }
}

/// Call `tool` (the server's own name) of `server` with `arguments`.
pub async fn call(
    config: &Config,
    hub: &McpHub,
    server: &str,
    tool: &str,
    arguments: &Value,
) -> Result<McpCallReply, String> {
    if !config.mcp.servers.contains_key(server) {
        let names: Vec<&str> = config.mcp.servers.keys().map(String::as_str).collect();
        return Err(format!(
            "no MCP server `{server}` is configured (configured: {})",
            if names.is_empty() {
                "none".to_string()
            } else {
                names.join(", ")
            }
        ));
    }
    let out = hub.call_direct(server, tool, arguments).await?;
    Ok(McpCallReply {
        content: crate::secrets::redact_string(out.content),
        is_error: out.is_error,
    })
}
