//! A serialisable picture of the tree for `status`, `/health` and metrics.

use crate::policy::ExitKind;
use serde::{Deserialize, Serialize};

/// Lifecycle state of one child.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ChildState {
    Starting,
    Running,
    Backoff,
    Failed,
    Stopped,
}

/// How and why a child last ended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LastExit {
    pub kind: ExitKind,
    pub message: String,
    /// Seconds since the exit.
    pub secs_ago: u64,
}

/// One child as seen by the supervisor right now.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChildSnapshot {
    pub name: String,
    pub state: ChildState,
    /// Restarts since the tree started (never reset).
    pub restarts: u64,
    pub last_exit: Option<LastExit>,
    /// Seconds in `running` state, when running.
    pub uptime_secs: Option<u64>,
    /// Milliseconds until the next restart, when in backoff.
    pub next_restart_ms: Option<u64>,
}

/// Every child, in start order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TreeSnapshot {
    pub children: Vec<ChildSnapshot>,
}
