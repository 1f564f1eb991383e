//! What the control socket is handed: the running tree, the main loop's
//! inbox, the status board it reads, the config in force, cron's job store
//! (none when the daemon runs without cron: `zeroclaw gateway`).

use super::lifecycle::LifecycleSender;
use crate::component::{Live, StatusBoard};
use crate::config::Config;
use crate::cron::control::CronControl;
use std::path::PathBuf;
use std::sync::Arc;
use tokio::time::Instant;
use zeroclaw_actors::SupervisorHandle;

/// Cheap to clone; one per connection.
#[derive(Clone)]
pub struct ControlDeps {
    pub tree: SupervisorHandle,
    pub lifecycle: LifecycleSender,
    pub status: StatusBoard,
    pub config: Live<Config>,
    pub cron: Option<CronControl>,
    /// The MCP servers' sessions (`mcp.list`, `mcp.call`).
    pub mcp: crate::mcp::McpHub,
    /// Conversation memory (none without a store: `zeroclaw gateway`).
    pub memory: Option<crate::agent::memory_control::MemoryControl>,
    /// When the daemon started (`status`'s `uptime_secs`).
    pub started: Instant,
    /// The file the config came from (`None` = built-in defaults).
    pub config_path: Option<PathBuf>,
    /// This instance's role in a cluster (`status`'s `cluster`).
    pub leadership: crate::cluster::Leadership,
}

impl ControlDeps {
    pub fn config(&self) -> Arc<Config> {
        self.config.get()
    }
}
