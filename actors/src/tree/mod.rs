//! The supervisor actor: children's lifecycles, restarts, start limits, stop order.
//!
//! What the tree guarantees (start and stop order, the restart decision, the
//! start limit, what a caller sees while a child restarts) is written down in
//! `docs/architecture.md`; this module is its implementation.
//!
//! Everything slow happens outside the actor's mailbox: a spawn runs in its own
//! task and reports back with [`Msg::SpawnDone`], a graceful stop runs in its own
//! task and reports back with [`Msg::StopDone`], a backoff is a timer that sends
//! [`Msg::RestartDue`]. The actor itself only does bookkeeping, so `snapshot()`
//! answers while a child is starting or stopping.
//!
//! Every asynchronous report carries the child name and a generation number that
//! is unique in the tree; a report whose generation no longer matches the
//! child's phase is stale (the child was restarted, removed or replaced since)
//! and is ignored.
//!
//! One concern per file: `actor.rs` routes messages, `restart.rs` is the
//! restart decision as plain code, `start.rs`, `exits.rs`, `ops.rs` and
//! `stop.rs` drive a child through its phases (`state.rs`), and `waiters.rs`
//! is the one place callers waiting on a child are answered.

mod actor;
mod exits;
mod ops;
mod restart;
mod start;
mod state;
mod stop;
mod waiters;

use crate::snapshot::TreeSnapshot;
use crate::spec::ChildSpec;
use crate::supervisor::{SupervisorError, SupervisorExit};
use ractor::{ActorCell, RpcReplyPort, SpawnErr};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{oneshot, watch};

pub(crate) use state::State;

/// How a caller of add/remove/restart/replace is answered.
pub(crate) type Reply = RpcReplyPort<Result<(), SupervisorError>>;

/// The callback run from the supervisor's loop, and how often.
pub(crate) type Tick = (Duration, Arc<dyn Fn() + Send + Sync>);

/// The supervisor's mailbox.
pub(crate) enum Msg {
    Snapshot(RpcReplyPort<TreeSnapshot>),
    Add(ChildSpec, Reply),
    Remove(String, Reply),
    Restart(String, Reply),
    Replace(ChildSpec, Reply),
    Shutdown,
    SpawnDone {
        name: String,
        generation: u64,
        outcome: SpawnOutcome,
    },
    RestartDue {
        name: String,
        generation: u64,
    },
    StopDone {
        name: String,
        generation: u64,
    },
    Tick,
}

/// How a spawn attempt ended, as reported by its task.
pub(crate) enum SpawnOutcome {
    Started(ActorCell),
    Failed(SpawnErr),
    /// The spawn function itself panicked (outside ractor's `pre_start` guard).
    Panicked(String),
    TimedOut(Duration),
}

/// What [`crate::SupervisorHandle::start`] hands the supervisor actor.
pub(crate) struct Args {
    pub namespace: Arc<str>,
    pub children: Vec<ChildSpec>,
    pub tick: Option<Tick>,
    pub booted: oneshot::Sender<()>,
    pub exit: watch::Sender<Option<SupervisorExit>>,
}

/// The supervisor actor; all its state is in [`State`].
pub(crate) struct Supervisor;

/// The registry name of `child` in the tree `namespace`: names are global to
/// the process, so each tree prefixes its children's.
pub fn registered_name(namespace: &str, child: &str) -> String {
    format!("{namespace}/{child}")
}
