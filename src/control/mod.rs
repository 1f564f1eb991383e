//! The control socket: newline-delimited JSON between the CLI and the tree.
//! See docs/control-protocol.md.

pub mod actor;
pub mod call;
pub mod client;
pub mod deps;
pub mod dispatch;
pub mod lifecycle;
pub mod locate;
pub mod protocol;
pub mod server;
