//! The supervisor actor and the handle the rest of the program uses.

use crate::panics;
use crate::snapshot::TreeSnapshot;
use crate::spec::ChildSpec;
use crate::tree::{Args, Msg, Reply, Supervisor, registered_name};
use ractor::rpc::CallResult;
use ractor::{Actor, ActorRef};
use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{oneshot, watch};

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
    /// A child with `on_give_up = exit` hit its start limit, so the program
    /// can exit non-zero and let its init system restart it whole.
    GaveUp {
        /// The child that gave up.
        child: String,
        /// The start limit it hit and its last exit, for the operator.
        reason: String,
    },
}

/// Why an operation on a tree was refused; the operation had no effect.
#[derive(Debug, thiserror::Error)]
pub enum SupervisorError {
    /// The tree has no child by this name (or it is being removed).
    #[error("no child named `{0}`")]
    UnknownChild(String),
    /// Names are unique in a tree: they are what registry names and
    /// operations refer to.
    #[error("a child named `{0}` already exists")]
    DuplicateChild(String),
    /// The tree is stopping or has ended: nothing starts any more.
    #[error("the supervisor is not running")]
    NotRunning,
    /// The supervisor actor itself could not start, most often because its
    /// registry name is taken.
    #[error(
        "could not start the supervision tree `{namespace}`: {reason} (is a tree with this name already running in this process?)"
    )]
    StartFailed {
        /// The namespace the tree was to be registered under.
        namespace: String,
        /// ractor's reason.
        reason: String,
    },
}

/// A running tree, as the rest of the program sees it. Cheap to clone; it
/// talks to the supervisor actor by messages, so any task may hold one. What
/// each operation guarantees is in `docs/architecture.md`, "Runtime operations".
#[derive(Clone)]
pub struct SupervisorHandle {
    namespace: Arc<str>,
    actor: ActorRef<Msg>,
    exit: watch::Receiver<Option<SupervisorExit>>,
}

impl std::fmt::Debug for SupervisorHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SupervisorHandle")
            .field("namespace", &self.namespace)
            .finish_non_exhaustive()
    }
}

impl SupervisorHandle {
    /// Start a tree named `namespace` (registry names become `namespace/child`)
    /// with children started in order. Returns once every child's first start
    /// was attempted; a child whose start fails is handled by its policy.
    ///
    /// The supervisor itself is registered as `namespace`, so a second tree with
    /// the same namespace in one process is refused instead of colliding child
    /// by child.
    pub async fn start(
        namespace: &str,
        children: Vec<ChildSpec>,
        options: SupervisorOptions,
    ) -> Result<Self, SupervisorError> {
        panics::install_hook();
        let mut seen = HashSet::with_capacity(children.len());
        for child in &children {
            if !seen.insert(child.name.as_str()) {
                return Err(SupervisorError::DuplicateChild(child.name.clone()));
            }
        }
        let namespace: Arc<str> = Arc::from(namespace);
        let (exit_tx, exit_rx) = watch::channel(None);
        let (booted_tx, booted_rx) = oneshot::channel();
        let args = Args {
            namespace: Arc::clone(&namespace),
            children,
            tick: options.tick,
            booted: booted_tx,
            exit: exit_tx,
        };
        let (actor, _join) = Actor::spawn(Some(namespace.to_string()), Supervisor, args)
            .await
            .map_err(|err| SupervisorError::StartFailed {
                namespace: namespace.to_string(),
                reason: err.to_string(),
            })?;
        // An error here means the supervisor ended during the start sequence
        // (e.g. a child gave up with `on_give_up = exit`); `wait()` says why.
        let _ = booted_rx.await;
        Ok(Self {
            namespace,
            actor,
            exit: exit_rx,
        })
    }

    /// The registry name a child of this tree is registered under.
    pub fn registered_name(&self, child: &str) -> String {
        registered_name(&self.namespace, child)
    }

    /// The tree's namespace, as given to [`SupervisorHandle::start`].
    pub fn namespace(&self) -> &str {
        &self.namespace
    }

    /// See [`crate::TreeReader::changes`].
    pub fn changes(&self) -> watch::Receiver<u64> {
        crate::changes::of_tree(&self.namespace).subscribe()
    }

    /// Every child's state, restarts and last exit, in start order; answered
    /// between two bookkeeping steps, never blocked by a slow start or stop.
    pub async fn snapshot(&self) -> Result<TreeSnapshot, SupervisorError> {
        match self.actor.call(Msg::Snapshot, None).await {
            Ok(CallResult::Success(snapshot)) => Ok(snapshot),
            _ => Err(SupervisorError::NotRunning),
        }
    }

    /// Append a child and start it. Returns once its first start was attempted.
    pub async fn add_child(&self, spec: ChildSpec) -> Result<(), SupervisorError> {
        self.request(|reply| Msg::Add(spec, reply)).await
    }

    /// Stop a child (with its stop timeout) and forget it.
    pub async fn remove_child(&self, name: &str) -> Result<(), SupervisorError> {
        let name = name.to_string();
        self.request(|reply| Msg::Remove(name, reply)).await
    }

    /// Stop and start a child now, also from `backoff` or `failed` (resets its start limit).
    /// Returns once the new start was attempted.
    pub async fn restart_child(&self, name: &str) -> Result<(), SupervisorError> {
        let name = name.to_string();
        self.request(|reply| Msg::Restart(name, reply)).await
    }

    /// Replace a child's spec (new config) and restart it with the new one.
    pub async fn replace_child(&self, spec: ChildSpec) -> Result<(), SupervisorError> {
        self.request(|reply| Msg::Replace(spec, reply)).await
    }

    /// Stop every child in reverse start order, each within its stop timeout, then the
    /// supervisor (`docs/architecture.md`, "Stop order").
    /// Returns when the tree has ended; calling it on a tree that already ended is not an error.
    pub async fn shutdown(&self) -> Result<(), SupervisorError> {
        let _ = self.actor.cast(Msg::Shutdown);
        self.wait().await;
        Ok(())
    }

    /// Resolves when the tree has ended, with the reason.
    pub async fn wait(&self) -> SupervisorExit {
        let mut rx = self.exit.clone();
        if let Ok(exit) = rx.wait_for(Option::is_some).await
            && let Some(exit) = exit.as_ref()
        {
            return exit.clone();
        }
        // The sender always publishes before it is dropped; this is a fallback.
        let last = rx.borrow().clone();
        last.unwrap_or_else(|| SupervisorExit::GaveUp {
            child: self.namespace.to_string(),
            reason: "the supervisor ended without a reason".to_string(),
        })
    }

    async fn request(&self, build: impl FnOnce(Reply) -> Msg) -> Result<(), SupervisorError> {
        match self.actor.call(build, None).await {
            Ok(CallResult::Success(result)) => result,
            _ => Err(SupervisorError::NotRunning),
        }
    }
}
