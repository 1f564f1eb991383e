//! Logging: a tracing layer feeding the logger actor that owns the file.
//!
//! ```text
//! tracing event ─▶ fmt layer (text | json | journal) ─▶ Pipe (bounded queue, in LogHandle)
//!                                                         │ full: count, later "N log lines dropped"
//!                                                         │ sink down: straight to stderr
//!                                                         ▼
//!                               LoggerActor ("logger" child) ─▶ RotatingFile | stderr
//! ```
//!
//! The daemon calls [`install`] first thing, keeps the [`LogHandle`], starts
//! [`child_spec`] as the first child of the root supervisor, calls
//! [`LogHandle::reopen`] on SIGUSR1, and logs [`LogHandle::startup_line`].

mod actor;
mod error;
mod file;
mod filter;
mod handle;
mod layer;
mod notice;
mod output;
mod pipe;
mod rotate;
mod sink;

pub use actor::{CHILD_NAME, LoggerActor, LoggerMsg, child_spec};
pub use error::{LevelOrigin, LoggingError};
pub use file::{BatchFailure, RotatingFile, Rotation};
pub use filter::{LevelChoice, build_filter, choose_level};
pub use handle::{DEFAULT_QUEUE_BYTES, LogHandle, LogSettings, build, install};
pub use pipe::{LogStats, SinkState};
pub use rotate::rotated_path;
