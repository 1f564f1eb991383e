//! Reading a tree's state by its name, for a child that reports on its own
//! tree (a status endpoint). A child's spec is built before its tree exists,
//! so it cannot be handed the tree's [`SupervisorHandle`](crate::SupervisorHandle);
//! it is handed the namespace instead, which is known up front, and each read
//! looks the supervisor up in the registry (see docs/architecture.md,
//! "Names"). Nothing is filled in after the tree starts. The same lookup
//! serves a part of the program that adds and removes children of its own
//! tree at run time (jobs made while the daemon runs).

use crate::snapshot::TreeSnapshot;
use crate::spec::ChildSpec;
use crate::supervisor::SupervisorError;
use crate::tree::Msg;
use ractor::rpc::CallResult;
use ractor::{ActorRef, registry};
use std::sync::Arc;

/// Reads the snapshot of the tree started under a namespace; cheap to clone.
#[derive(Clone, Debug)]
pub struct TreeReader {
    namespace: Arc<str>,
}

impl TreeReader {
    /// A reader of the tree that is (or will be) started as `namespace`.
    pub fn new(namespace: &str) -> Self {
        Self {
            namespace: Arc::from(namespace),
        }
    }

    /// The tree's namespace.
    pub fn namespace(&self) -> &str {
        &self.namespace
    }

    /// The tree's snapshot, as [`SupervisorHandle::snapshot`](crate::SupervisorHandle::snapshot)
    /// answers it. [`SupervisorError::NotRunning`] before the tree has
    /// started, after it ended, or when the name is held by something that
    /// is not a supervisor.
    pub async fn snapshot(&self) -> Result<TreeSnapshot, SupervisorError> {
        let cell = registry::where_is(&self.namespace).ok_or(SupervisorError::NotRunning)?;
        let actor: ActorRef<Msg> = cell.into();
        match actor.call(Msg::Snapshot, None).await {
            Ok(CallResult::Success(snapshot)) => Ok(snapshot),
            _ => Err(SupervisorError::NotRunning),
        }
    }

    /// A receiver whose value moves whenever the tree's snapshot may have
    /// changed (a child started, exited, entered backoff, was added or
    /// removed), also for a tree that has not started yet: wait on it
    /// instead of asking for snapshots on a timer. A move may come without a
    /// visible change; no change comes without a move.
    pub fn changes(&self) -> tokio::sync::watch::Receiver<u64> {
        crate::changes::of_tree(&self.namespace).subscribe()
    }

    /// [`SupervisorHandle::add_child`](crate::SupervisorHandle::add_child)
    /// on the tree of this namespace.
    pub async fn add_child(&self, spec: ChildSpec) -> Result<(), SupervisorError> {
        self.request(|reply| Msg::Add(spec, reply)).await
    }

    /// [`SupervisorHandle::remove_child`](crate::SupervisorHandle::remove_child)
    /// on the tree of this namespace.
    pub async fn remove_child(&self, name: &str) -> Result<(), SupervisorError> {
        let name = name.to_string();
        self.request(|reply| Msg::Remove(name, reply)).await
    }

    async fn request(
        &self,
        build: impl FnOnce(crate::tree::Reply) -> Msg,
    ) -> Result<(), SupervisorError> {
        let cell = registry::where_is(&self.namespace).ok_or(SupervisorError::NotRunning)?;
        let actor: ActorRef<Msg> = cell.into();
        match actor.call(build, None).await {
            Ok(CallResult::Success(result)) => result,
            _ => Err(SupervisorError::NotRunning),
        }
    }
}
