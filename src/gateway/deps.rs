//! What the gateway is handed: the config and agent in force, metrics, its
//! line on the status board, where the channels are registered, and the
//! tree it reports on.

use crate::agent::Agent;
use crate::component::{ChildName, Live, Registry, StatusBoard, StatusLine};
use crate::config::Config;
use crate::cron::control::CronControl;
use crate::metrics::Metrics;
use std::sync::Arc;
use tokio::time::Instant;
use zeroclaw_actors::TreeReader;

/// Cheap to clone.
#[derive(Clone)]
pub struct GatewayDeps {
    config: Live<Config>,
    agent: Live<Agent>,
    pub metrics: Arc<Metrics>,
    status: StatusLine,
    /// The whole board, read for the channels' last activity (`/ready`).
    board: StatusBoard,
    registry: Registry,
    /// The tree this gateway runs in, read by its namespace: a spec is
    /// built before its tree exists (see docs/architecture.md, "The
    /// component contract").
    tree: TreeReader,
    /// When the daemon started (`uptime_secs` of `/health`).
    pub started: Instant,
    /// The cron jobs, for the status page's view and buttons (the same
    /// requests as the control socket's `cron.*`); `None` without cron.
    cron: Option<CronControl>,
    /// This instance's role in a cluster (`/health`, `/metrics`).
    pub leadership: crate::cluster::Leadership,
}

impl GatewayDeps {
    pub fn new(
        config: Live<Config>,
        agent: Live<Agent>,
        metrics: Arc<Metrics>,
        status: &StatusBoard,
        registry: Registry,
        started: Instant,
    ) -> Self {
        let tree = TreeReader::new(registry.namespace());
        Self {
            config,
            agent,
            metrics,
            status: status.line(ChildName::Gateway),
            board: status.clone(),
            registry,
            tree,
            started,
            cron: None,
            leadership: crate::cluster::Leadership::single(),
        }
    }

    /// With the cron jobs the status page shows and drives.
    pub fn with_cron(mut self, cron: CronControl) -> Self {
        self.cron = Some(cron);
        self
    }

    pub fn cron(&self) -> Option<&CronControl> {
        self.cron.as_ref()
    }

    /// Each child's line on the status board (`status`'s detail column).
    pub fn detail(&self, child: &str) -> Option<String> {
        self.board.get_named(child)
    }

    pub fn with_leadership(mut self, leadership: crate::cluster::Leadership) -> Self {
        self.leadership = leadership;
        self
    }

    /// The config in force now: each (re)start of the gateway reads it.
    pub fn config(&self) -> Arc<Config> {
        self.config.get()
    }

    /// The agent in force now (`/webhook`).
    pub fn agent(&self) -> Arc<Agent> {
        self.agent.get()
    }

    /// The gateway's line in `status` (its bound URL).
    pub fn set_detail(&self, detail: impl Into<String>) {
        self.status.set(detail);
    }

    /// Moves when a line or an activity on the status board changes.
    pub fn board_changes(&self) -> tokio::sync::watch::Receiver<u64> {
        self.board.changes().subscribe()
    }

    /// When each child last completed work (see [`crate::component::Activity`]).
    pub fn activities(&self) -> Vec<(String, std::time::SystemTime)> {
        self.board.activities()
    }

    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    pub fn tree(&self) -> &TreeReader {
        &self.tree
    }
}
