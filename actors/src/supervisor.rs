//! The supervisor actor and the handle the rest of the program uses.

use crate::snapshot::TreeSnapshot;
use crate::spec::ChildSpec;
use std::sync::Arc;
use std::time::Duration;

/// Options for a whole tree.
#[derive(Clone, Default)]
pub struct SupervisorOptions {
    /// Called from the supervisor's own message loop every `tick_interval`
    /// (e.g. to send `WATCHDOG=1`: it proves the supervisor still processes messages).
    pub tick: Option<(Duration, Arc<dyn Fn() + Send + Sync>)>,
}

/// Why a tree ended.
#[derive(Debug, Clone, PartialEq)]
pub enum SupervisorExit {
    /// `shutdown` was called and every child stopped.
    Shutdown,
    /// A child with `on_give_up = exit` hit its start limit.
    GaveUp { child: String, reason: String },
}

#[derive(Debug, thiserror::Error)]
pub enum SupervisorError {
    #[error("no child named `{0}`")]
    UnknownChild(String),
    #[error("a child named `{0}` already exists")]
    DuplicateChild(String),
    #[error("the supervisor is not running")]
    NotRunning,
}

/// Cheap to clone; talks to the supervisor actor by messages.
#[derive(Clone)]
pub struct SupervisorHandle {}

impl SupervisorHandle {
    /// Start a tree named `namespace` (registry names become `namespace/child`)
    /// with children started in order. Returns once every child's first start
    /// was attempted; a child whose start fails is handled by its policy.
    pub async fn start(
        namespace: &str,
        children: Vec<ChildSpec>,
        options: SupervisorOptions,
    ) -> Result<Self, SupervisorError> {
        todo!("{namespace} {} {}", children.len(), options.tick.is_some())
    }

    /// The registry name a child of this tree is registered under.
    pub fn registered_name(&self, child: &str) -> String {
        todo!("{child}")
    }

    pub async fn snapshot(&self) -> Result<TreeSnapshot, SupervisorError> {
        todo!()
    }

    /// Append a child and start it.
    pub async fn add_child(&self, spec: ChildSpec) -> Result<(), SupervisorError> {
        todo!("{}", spec.name)
    }

    /// Stop a child (with its stop timeout) and forget it.
    pub async fn remove_child(&self, name: &str) -> Result<(), SupervisorError> {
        todo!("{name}")
    }

    /// Stop and start a child now, also from `backoff` or `failed` (resets its start limit).
    pub async fn restart_child(&self, name: &str) -> Result<(), SupervisorError> {
        todo!("{name}")
    }

    /// Replace a child's spec (new config) and restart it with the new one.
    pub async fn replace_child(&self, spec: ChildSpec) -> Result<(), SupervisorError> {
        todo!("{}", spec.name)
    }

    /// Stop every child in reverse start order, each within its stop timeout, then the supervisor.
    pub async fn shutdown(&self) -> Result<(), SupervisorError> {
        todo!()
    }

    /// Resolves when the tree has ended, with the reason.
    pub async fn wait(&self) -> SupervisorExit {
        todo!()
    }
}
