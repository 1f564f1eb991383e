//! zeroclaw: an AI-assistant daemon built as an actor supervision tree.
//!
//! One folder per component; each holds the actor that owns the component
//! next to the plain code the actor drives.

pub mod agent;
pub mod channels;
pub mod cli;
pub mod cluster;
pub mod component;
pub mod config;
pub mod control;
pub mod cron;
pub mod daemon;
pub mod file_mode;
pub mod gateway;
pub mod http;
pub mod logging;
pub mod mcp;
pub mod metrics;
pub mod secrets;
pub mod service;
pub mod store;
pub mod task;
pub mod tls;

/// The version string shown by `status`, `/health` and the control handshake.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
