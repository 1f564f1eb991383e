//! What a channel actor is handed: the config and agent in force, the
//! metrics, and its own line on the status board. Nothing else of the daemon.

use crate::agent::Agent;
use crate::component::{ChannelKind, ChildName, Live, StatusBoard, StatusLine};
use crate::config::Config;
use crate::metrics::Metrics;
use std::sync::Arc;

/// Cheap to clone; one per channel child.
#[derive(Clone)]
pub struct ChannelDeps {
    kind: ChannelKind,
    config: Live<Config>,
    agent: Live<Agent>,
    metrics: Arc<Metrics>,
    status: StatusLine,
    /// The state store (in a cluster, the one its instances share); `None`
    /// only when no state database could be opened.
    shared: Option<Arc<dyn crate::store::Store>>,
}

impl ChannelDeps {
    pub fn new(
        kind: ChannelKind,
        config: Live<Config>,
        agent: Live<Agent>,
        metrics: Arc<Metrics>,
        status: &StatusBoard,
    ) -> Self {
        Self {
            kind,
            config,
            agent,
            metrics,
            status: status.line(ChildName::Channel(kind)),
            shared: None,
        }
    }

    /// Keep channel state (Telegram's offset) in the state store.
    pub fn with_shared_store(mut self, store: Option<Arc<dyn crate::store::Store>>) -> Self {
        self.shared = store;
        self
    }

    pub fn shared_store(&self) -> Option<Arc<dyn crate::store::Store>> {
        self.shared.clone()
    }

    pub fn kind(&self) -> ChannelKind {
        self.kind
    }

    /// The config in force now: every (re)start reads it, so a reload
    /// followed by a restart of the child applies a new token or allow-list.
    pub fn config(&self) -> Arc<Config> {
        self.config.get()
    }

    /// The agent in force now (a reload may rebuild it while the channel runs).
    pub fn agent(&self) -> Arc<Agent> {
        self.agent.get()
    }

    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    /// This channel's line in `status` and `channel list`.
    pub fn set_detail(&self, detail: impl Into<String>) {
        self.status.set(detail);
    }

    /// The channel completed work (a poll, an event from the service): the
    /// time shows in `status`, `/ready` and `/metrics`.
    pub fn touch(&self) {
        self.status.touch();
        self.metrics.channel_activity(self.kind.as_str());
    }

    /// This channel's line as it is now.
    pub fn detail(&self) -> Option<String> {
        self.status.get()
    }
}
