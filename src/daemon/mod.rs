//! The daemon process: start the tree, pid file, signals, init-system handshake.

pub mod cli;
pub mod context;

pub use context::{Ctx, DaemonCtx};
