//! What a channel needs from the daemon, handed to it in one value: the
//! config in force, the agent, metrics and the status detail board. Every
//! channel reads the daemon only through this, so a restart picks up a
//! reloaded config and nothing else of the daemon leaks into the channels.

use crate::agent::Agent;
use crate::config::Config;
use crate::daemon::context::Ctx;
use crate::metrics::Metrics;
use std::sync::Arc;

/// The dependencies of one channel child; cheap to clone.
#[derive(Clone)]
pub struct ChannelDeps {
    ctx: Ctx,
    /// The child's name, its key on the status board.
    child: &'static str,
}

impl ChannelDeps {
    pub fn new(ctx: Ctx, child: &'static str) -> Self {
        Self { ctx, child }
    }

    /// The config in force now (read at every start of a channel).
    pub fn config(&self) -> Arc<Config> {
        self.ctx.config()
    }

    /// The agent in force now.
    pub fn agent(&self) -> Arc<Agent> {
        self.ctx.agent()
    }

    pub fn metrics(&self) -> &Metrics {
        &self.ctx.metrics
    }

    /// This channel's line in `status` and `channel list`.
    pub fn set_detail(&self, detail: impl Into<String>) {
        self.ctx.set_detail(self.child, detail);
    }
}
