//! How a child is described: a name, a spawn function and a policy.

use crate::policy::RestartPolicy;
use ractor::{Actor, ActorCell, SpawnErr};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

/// What a spawn function is given.
#[derive(Clone)]
pub struct SpawnContext {
    /// The supervisor to link the child to (`spawn_linked(.., ctx.supervisor)`).
    pub supervisor: ActorCell,
    /// The namespaced registry name to register the child under.
    pub registered_name: String,
}

/// What a spawn function returns: boxed so that children with different
/// actor types fit in one tree.
pub type SpawnFuture = Pin<Box<dyn Future<Output = Result<ActorCell, SpawnErr>> + Send>>;

/// Shared, because the same function starts every restart of the child.
pub(crate) type SpawnFn = Arc<dyn Fn(SpawnContext) -> SpawnFuture + Send + Sync>;

/// Everything the supervisor needs to (re)start one child.
#[derive(Clone)]
pub struct ChildSpec {
    /// Unique in the tree; the child is registered as `<namespace>/<name>`
    /// and operated on (`restart_child`, `status`) under this name.
    pub name: String,
    /// When it is restarted and how it is stopped.
    pub policy: RestartPolicy,
    /// Called for the first start and again for every restart, so each
    /// instance starts from fresh state.
    pub spawn: SpawnFn,
    /// Consecutive children of the initial sequence in the same group start
    /// side by side instead of one after the other (children that do not
    /// depend on each other, such as many cron jobs); `None` = alone.
    pub start_group: Option<Arc<str>>,
}

impl ChildSpec {
    /// A child from any spawn function; the function must link the actor to
    /// `ctx.supervisor` and should register it under `ctx.registered_name`.
    pub fn new<F, Fut>(name: impl Into<String>, policy: RestartPolicy, spawn: F) -> Self
    where
        F: Fn(SpawnContext) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<ActorCell, SpawnErr>> + Send + 'static,
    {
        let spawn: SpawnFn = Arc::new(move |ctx| Box::pin(spawn(ctx)));
        Self {
            name: name.into(),
            policy,
            spawn,
            start_group: None,
        }
    }

    /// This child may start side by side with its neighbours of the same
    /// `group` in the initial sequence (`docs/architecture.md`, "Start order").
    pub fn start_group(mut self, group: &str) -> Self {
        self.start_group = Some(Arc::from(group));
        self
    }

    /// A child that is one ractor actor: `make` builds a fresh handler and its
    /// startup arguments for every (re)start; the actor is spawned linked to
    /// the supervisor and registered under the tree's namespaced name.
    pub fn actor<A, F>(name: impl Into<String>, policy: RestartPolicy, make: F) -> Self
    where
        A: Actor,
        F: Fn() -> (A, A::Arguments) + Send + Sync + 'static,
    {
        let make = Arc::new(make);
        Self::new(name, policy, move |ctx: SpawnContext| {
            let make = Arc::clone(&make);
            async move {
                let (handler, args) = make();
                let (actor, _join) =
                    A::spawn_linked(Some(ctx.registered_name), handler, args, ctx.supervisor)
                        .await?;
                Ok(actor.get_cell())
            }
        })
    }
}

impl std::fmt::Debug for ChildSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChildSpec")
            .field("name", &self.name)
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}
