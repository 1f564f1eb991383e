//! `zeroclaw service install|uninstall|status`: systemd units and OpenRC scripts.
//!
//! `template` renders the shipped files with real paths, `layout` knows where
//! they go on the target system, `files` writes, checks and removes them,
//! `advice` says what to run next; `cli` only parses and prints.

pub mod advice;
pub mod cli;
pub mod files;
pub mod layout;
pub mod template;

pub use files::{InstallOutcome, ServiceError, State, UninstallOutcome};
pub use layout::{Plan, default_config, detect_init};
pub use template::{InitSystem, Ownership, Scope, render};
