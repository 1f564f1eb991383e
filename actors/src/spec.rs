//! How a child is described: a name, a spawn function and a policy.

use crate::policy::RestartPolicy;
use ractor::{ActorCell, SpawnErr};
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

pub type SpawnFuture = Pin<Box<dyn Future<Output = Result<ActorCell, SpawnErr>> + Send>>;

type SpawnFn = Arc<dyn Fn(SpawnContext) -> SpawnFuture + Send + Sync>;

/// Everything the supervisor needs to (re)start one child.
#[derive(Clone)]
pub struct ChildSpec {
    pub name: String,
    pub policy: RestartPolicy,
    pub spawn: SpawnFn,
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
        }
    }
}
