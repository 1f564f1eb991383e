//! The servers' tools as the agent sees them. Each `mcp:<name>` child
//! publishes its session and allowed tools here once its server has
//! answered, and withdraws them when it stops; the agent offers and calls
//! whatever is published now, so a server in backoff offers nothing and a
//! call to it is a tool error, never a failed request.

use super::content;
use super::names::{self, Reference};
use crate::agent::message::ToolSpec;
use crate::agent::tools::ToolOutput;
use crate::metrics::Metrics;
use rmcp::model::CallToolRequestParams;
use rmcp::service::{Peer, RoleClient};
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};
use std::time::Duration;

/// One of a server's tools that may be offered.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct McpTool {
    /// `<server>__<tool>`, what the model calls.
    pub exposed: String,
    /// The server's own name for it.
    pub name: String,
    pub description: String,
    /// The server's JSON schema of the arguments.
    pub schema: Value,
}

/// Told when a call to the server failed below the tool (transport error,
/// timeout): its child then checks whether the session still answers.
pub type OnTrouble = Arc<dyn Fn() + Send + Sync>;

/// A server's session, while its child runs.
#[derive(Clone)]
struct Session {
    peer: Peer<RoleClient>,
    tools: Vec<McpTool>,
    timeout: Duration,
    trouble: OnTrouble,
}

/// Cheap to clone; every clone sees the same servers.
#[derive(Clone, Default)]
pub struct McpHub {
    sessions: Arc<RwLock<BTreeMap<String, Session>>>,
    metrics: Option<Arc<Metrics>>,
}

impl std::fmt::Debug for McpHub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("McpHub")
            .field("servers", &self.servers())
            .finish()
    }
}

impl McpHub {
    pub fn new(metrics: Option<Arc<Metrics>>) -> Self {
        Self {
            sessions: Arc::default(),
            metrics,
        }
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, BTreeMap<String, Session>> {
        self.sessions.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, BTreeMap<String, Session>> {
        self.sessions.write().unwrap_or_else(|e| e.into_inner())
    }

    /// `server` answered: offer `tools` through `peer`.
    pub fn publish(
        &self,
        server: &str,
        peer: Peer<RoleClient>,
        tools: Vec<McpTool>,
        timeout: Duration,
        trouble: OnTrouble,
    ) {
        self.write().insert(
            server.to_string(),
            Session {
                peer,
                tools,
                timeout,
                trouble,
            },
        );
    }

    /// The server's tool list changed (`notifications/tools/list_changed`).
    pub fn replace_tools(&self, server: &str, tools: Vec<McpTool>) {
        if let Some(s) = self.write().get_mut(server) {
            s.tools = tools;
        }
    }

    /// `server` stopped: nothing of it is offered until it answers again.
    pub fn withdraw(&self, server: &str) {
        self.write().remove(server);
    }

    /// Servers with a session now.
    pub fn servers(&self) -> Vec<String> {
        self.read().keys().cloned().collect()
    }

    /// The tools `server` offers now (`None`: no session).
    pub fn tools(&self, server: &str) -> Option<Vec<McpTool>> {
        self.read().get(server).map(|s| s.tools.clone())
    }

    /// The specs a `tools` entry stands for now: every tool of a running
    /// server for `mcp:<server>`, the one tool for `<server>__<tool>`, none
    /// while the server is down. `None`: the entry names no MCP tool.
    pub fn specs(&self, entry: &str) -> Option<Vec<ToolSpec>> {
        let reference = names::reference(entry)?;
        let sessions = self.read();
        let server = match reference {
            Reference::Server(s) | Reference::Tool(s, _) => s,
        };
        let Some(session) = sessions.get(server) else {
            return Some(Vec::new());
        };
        Some(
            session
                .tools
                .iter()
                .filter(|t| matches!(reference, Reference::Server(_)) || t.exposed == entry)
                .map(spec)
                .collect(),
        )
    }

    /// Call the tool the model knows as `exposed`, within the server's timeout.
    pub async fn call(&self, exposed: &str, input: &Value) -> ToolOutput {
        let Some(Reference::Tool(server, _)) = names::reference(exposed) else {
            return ToolOutput::error(format!("tool `{exposed}` is not available here"));
        };
        let found = self.read().get(server).and_then(|s| {
            let tool = s.tools.iter().find(|t| t.exposed == exposed)?;
            Some((s.clone(), tool.name.clone()))
        });
        let Some((session, tool)) = found else {
            return ToolOutput::error(format!(
                "MCP server `{server}` is not running or has no tool `{exposed}` now; try again later"
            ));
        };
        let out = call_peer(&session, server, &tool, input).await;
        self.count(server, &tool, out.is_error);
        out
    }

    /// Call `tool` (the server's own name) of `server` directly: the
    /// operator's `zeroclaw mcp call`, allowed or not.
    pub async fn call_direct(
        &self,
        server: &str,
        tool: &str,
        input: &Value,
    ) -> Result<ToolOutput, String> {
        let found = self.read().get(server).cloned();
        let Some(session) = found else {
            return Err(format!(
                "MCP server `{server}` is not running; `zeroclaw mcp list` shows its state"
            ));
        };
        let out = call_peer(&session, server, tool, input).await;
        self.count(server, tool, out.is_error);
        Ok(out)
    }

    fn count(&self, server: &str, tool: &str, is_error: bool) {
        if let Some(m) = &self.metrics {
            m.mcp_call(server, tool, is_error);
        }
    }
}

fn spec(tool: &McpTool) -> ToolSpec {
    ToolSpec {
        name: tool.exposed.clone(),
        description: tool.description.clone(),
        schema: tool.schema.clone(),
    }
}

async fn call_peer(session: &Session, server: &str, tool: &str, input: &Value) -> ToolOutput {
    let timeout = session.timeout;
    let arguments = match input {
        Value::Object(map) => Some(map.clone()),
        Value::Null => None,
        _ => {
            return ToolOutput::error("invalid input: the tool's arguments must be a JSON object");
        }
    };
    let mut params = CallToolRequestParams::new(tool.to_string());
    params.arguments = arguments;
    let out = match tokio::time::timeout(timeout, session.peer.call_tool(params)).await {
        Ok(Ok(result)) => return content::output(&result),
        // The server answered with a JSON-RPC error (unknown tool, bad
        // arguments): the session is fine.
        Ok(Err(rmcp::ServiceError::McpError(e))) => {
            return ToolOutput::error(format!(
                "MCP server `{server}` refused the call to `{tool}`: {}",
                e.message
            ));
        }
        Ok(Err(e)) => ToolOutput::error(format!(
            "MCP server `{server}` failed the call to `{tool}`: {e}"
        )),
        Err(_) => ToolOutput::error(format!(
            "MCP server `{server}` did not answer the call to `{tool}` within {}",
            humantime::format_duration(timeout)
        )),
    };
    (session.trouble)();
    out
}
