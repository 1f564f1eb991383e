//! Wire types of the control protocol.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Bumped when a request or reply changes incompatibly.
pub const PROTOCOL_VERSION: u32 = 1;

/// One request line: `{"id":1,"method":"status","params":{}}`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Request {
    pub id: Value,
    pub method: String,
    #[serde(default)]
    pub params: Value,
}

/// A failed request: a stable machine-readable `code` and a sentence for people.
#[derive(Debug, Clone, Serialize, Deserialize, thiserror::Error)]
#[error("{message}")]
pub struct ControlError {
    pub code: String,
    pub message: String,
}

impl ControlError {
    pub fn new(code: &str, message: impl Into<String>) -> Self {
        Self {
            code: code.into(),
            message: message.into(),
        }
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new("not_found", message)
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new("bad_request", message)
    }

    pub fn internal(message: impl Into<String>) -> Self {
        Self::new("internal", message)
    }
}

/// The result of `reload`: which children it restarted, added and removed,
/// and which config sections only a daemon restart applies.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReloadReport {
    pub changed: Vec<String>,
    pub added: Vec<String>,
    pub removed: Vec<String>,
    pub requires_restart: Vec<String>,
}

impl std::fmt::Display for ReloadReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Through a `Value`, so the keys print in the wire's (sorted) order.
        match serde_json::to_value(self) {
            Ok(v) => write!(f, "{v}"),
            Err(_) => Err(std::fmt::Error),
        }
    }
}

/// `status`: the process and every child of the tree.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatusReply {
    pub pid: u32,
    pub version: String,
    pub uptime_secs: u64,
    /// The config file (`None` = built-in defaults).
    pub config: Option<String>,
    pub children: Vec<ChildStatus>,
    /// The role and the lease, in a `[cluster]` only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster: Option<crate::cluster::ClusterView>,
}

/// One child in `status`: the supervisor's view and the child's own line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChildStatus {
    #[serde(flatten)]
    pub snapshot: zeroclaw_actors::ChildSnapshot,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// When the child last completed work (a channel's poll or event), RFC 3339.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_activity: Option<String>,
    /// Seconds since `last_activity`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idle_secs: Option<u64>,
}

/// `restart`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RestartReply {
    pub restarted: String,
}

/// `shutdown`: sent before the tree stops.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShutdownReply {
    pub stopping: bool,
    pub pid: u32,
}

/// `channel.list`: every configured channel with its child's state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChannelListReply {
    pub channels: Vec<ChannelStatus>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChannelStatus {
    pub name: String,
    pub enabled: bool,
    pub mode: String,
    pub state: Option<zeroclaw_actors::ChildState>,
    pub restarts: Option<u64>,
    pub detail: Option<String>,
}

/// `channel.doctor`.
#[derive(Debug, Clone, Serialize)]
pub struct DoctorReply {
    pub checks: Vec<crate::channels::doctor::Check>,
}

/// What a request answers, as the `result` of an `ok` reply. Untagged: the
/// request says which one it is.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum Reply {
    Status(StatusReply),
    Restart(RestartReply),
    Reload(ReloadReport),
    Shutdown(ShutdownReply),
    Channels(ChannelListReply),
    Doctor(DoctorReply),
    Cron(Box<crate::cron::control::CronReply>),
    McpList(crate::mcp::control::McpListReply),
    McpCall(crate::mcp::control::McpCallReply),
    Memory(crate::agent::memory_control::MemoryReply),
}

impl Reply {
    /// The `result` object of the reply line.
    pub fn into_value(self) -> Result<Value, ControlError> {
        serde_json::to_value(self).map_err(|e| ControlError::internal(e.to_string()))
    }
}

/// A child state as the wire spells it (`running`, `backoff`, ...).
pub fn state_name(state: zeroclaw_actors::ChildState) -> &'static str {
    use zeroclaw_actors::ChildState;
    match state {
        ChildState::Starting => "starting",
        ChildState::Running => "running",
        ChildState::Backoff => "backoff",
        ChildState::Failed => "failed",
        ChildState::Stopped => "stopped",
    }
}
