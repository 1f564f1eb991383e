//! A systemd-style supervisor for ractor actors.
//!
//! ractor links actors and catches panics but ships no restart policy; this
//! crate adds one that mirrors systemd's `Restart=`, `RestartSec=`,
//! `RestartSteps=`/`RestartMaxDelaySec=` and `StartLimitBurst=`/`StartLimitIntervalSec=`
//! so that an operator who knows systemd already knows how a crashed child
//! behaves. It knows nothing about the daemon's domain.
//!
//! What a tree guarantees (start and stop order, the restart decision, the
//! start limit, backoff, what a caller sees while a child restarts, runtime
//! operations) is written down in `docs/architecture.md`.
//!
//! # How an exit is classified
//! - the child stopped cleanly (`SupervisionEvent::ActorTerminated`): success;
//! - `Err` from a handler, `post_start`, `pre_start`, or a spawn function that
//!   returned `SpawnErr`: failure (systemd's *unclean exit code*);
//! - a panic in any of those: abort (*unclean signal*). ractor reports a panic
//!   exactly like an `Err` (the panic message becomes the error), so the crate
//!   installs a process-wide panic hook, chained to the hook present at the
//!   first [`SupervisorHandle::start`], that remembers recent panic messages;
//!   see `panics.rs` for the approach and its limits. A program that sets its
//!   own panic hook should do it *before* starting a tree, or chain to the
//!   previous hook, or panics will count as failures;
//! - a start that does not finish within `start_timeout`: timeout.
//!
//! A child is expected to be linked to the supervisor (`ChildSpec::actor` does
//! it); a spawn function that returns an unlinked actor is a failed start.
//!
//! # Names
//! ractor's registry is global to the process. A tree started as `ns` is
//! registered as `ns`, and its child `c` is expected under `ns/c`
//! ([`SupervisorHandle::registered_name`]), so trees coexist (parallel tests).

#![warn(missing_docs)]

mod changes;
mod panics;
pub mod policy;
pub mod reader;
pub mod snapshot;
pub mod spec;
pub mod supervisor;
mod tree;

pub use changes::Changes;
pub use policy::{ExitKind, OnGiveUp, Restart, RestartPolicy};
pub use reader::TreeReader;
pub use snapshot::{ChildSnapshot, ChildState, LastExit, TreeSnapshot};
pub use spec::{ChildSpec, SpawnContext, SpawnFuture};
pub use supervisor::{SupervisorError, SupervisorExit, SupervisorHandle, SupervisorOptions};
pub use tree::registered_name;

/// A child that stops (or fails) with a reason starting with this is marked
/// `failed` and not restarted, whatever its `restart` setting: the equivalent
/// of systemd's `RestartPreventExitStatus=`, for causes a restart cannot cure
/// (a revoked credential). `restart_child` still starts it on request
/// (`docs/architecture.md`, "How an exit is classified").
pub const FATAL_PREFIX: &str = "fatal: ";
