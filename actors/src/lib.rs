//! A systemd-style supervisor for ractor actors.
//!
//! ractor links actors and catches panics but ships no restart policy; this
//! crate adds one that mirrors systemd's `Restart=`, `RestartSec=`,
//! `RestartSteps=`/`RestartMaxDelaySec=` and `StartLimitBurst=`/`StartLimitIntervalSec=`
//! so that an operator who knows systemd already knows how a crashed child
//! behaves. It knows nothing about the daemon's domain.

mod panics;
pub mod policy;
pub mod snapshot;
pub mod spec;
pub mod supervisor;
mod tree;

pub use policy::{ExitKind, OnGiveUp, Restart, RestartPolicy};
pub use snapshot::{ChildSnapshot, ChildState, LastExit, TreeSnapshot};
pub use spec::{ChildSpec, SpawnContext, SpawnFuture};
pub use supervisor::{SupervisorError, SupervisorExit, SupervisorHandle, SupervisorOptions};
