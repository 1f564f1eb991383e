//! The daemon process: start the tree, pid file, signals, init-system handshake.

pub mod background;
pub mod cli;
pub mod doctor;
pub mod harden;
pub mod notify;
pub mod pidfile;
pub mod reload;
pub mod run;
pub mod state;
pub mod tree;
pub mod wiring;
