//! A serialisable picture of the tree for `status`, `/health` and metrics.

use crate::policy::ExitKind;
use serde::{Deserialize, Serialize};

/// Lifecycle state of one child, named as systemd names a unit's so that
/// `status` reads the same; `docs/architecture.md` says how a child moves
/// between them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ChildState {
    /// Its spawn function is running; messages sent to its name wait in its
    /// mailbox until it is up.
    Starting,
    /// Started and not exited: the only state in which it does work.
    Running,
    /// It exited and will be restarted when its delay is over; its name is
    /// not registered meanwhile.
    Backoff,
    /// Down after a failure, not restarted (its policy, a fatal reason or the
    /// start limit); only `restart_child` or `replace_child` starts it again.
    Failed,
    /// Down after a clean stop (or not started yet, or stopped with the tree).
    Stopped,
}

/// How and why a child last ended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LastExit {
    /// Which restart settings apply to it.
    pub kind: ExitKind,
    /// The stop reason or error, for the operator to see why without the logs.
    pub message: String,
    /// Seconds since the exit.
    pub secs_ago: u64,
}

/// One child as seen by the supervisor right now.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChildSnapshot {
    /// The child's name in its spec (not the namespaced registry name).
    pub name: String,
    /// Where it is in its lifecycle.
    pub state: ChildState,
    /// Restarts since the tree started (never reset).
    pub restarts: u64,
    /// Restarts an operator asked for (`restart_child`, `replace_child`),
    /// counted apart from `restarts` (automatic ones, systemd's `NRestarts`).
    #[serde(default)]
    pub restarts_requested: u64,
    /// Its last exit, kept while it runs again so a flapping child shows why.
    pub last_exit: Option<LastExit>,
    /// Seconds in `running` state, when running.
    pub uptime_secs: Option<u64>,
    /// Milliseconds until the next restart, when in backoff.
    pub next_restart_ms: Option<u64>,
}

/// Every child, in start order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TreeSnapshot {
    /// In start order, which is the order a reader expects (the stop order reversed).
    pub children: Vec<ChildSnapshot>,
}
