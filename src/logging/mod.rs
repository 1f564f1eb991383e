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
//! [`LogHandle::reopen`] on SIGUSR1, and logs [`LogHandle::startup_line`]:
//!
//! ```ignore
//! let log = logging::install(LogSettings {
//!     cli_level: args.log_level.clone(),
//!     cli_file: args.log_file.clone(),
//!     config: config.logging.clone(),
//!     foreground_tty: args.foreground && std::io::stderr().is_terminal(),
//!     ..LogSettings::default()
//! })?;
//! // root supervisor, first child:
//! children.push(logging::child_spec(log.clone(), policy_for("logger")));
//! tracing::info!("{}", log.startup_line(Some(&config_path)));
//! // on SIGUSR1: log.reopen();
//! ```
//!
//! Without a file, lines go to stderr directly until the logger starts; with
//! a file they wait in the queue, so the startup lines land in the file. A
//! process that exits before its logger started calls
//! [`LogHandle::flush_to_stderr`] so queued lines are not lost.

mod actor;
mod caps;
mod error;
mod file;
pub(crate) mod filter;
mod handle;
mod layer;
mod notice;
mod output;
mod pipe;
mod rotate;
mod sink;

pub use actor::{CHILD_NAME, Logger, LoggerActor, LoggerMsg, child_spec};
pub use error::{LevelOrigin, LoggingError};
pub use file::{BatchFailure, RotatingFile, Rotation};
pub use filter::{LevelChoice, build_filter, choose_level};
pub use handle::{DEFAULT_QUEUE_BYTES, LogHandle, LogSettings, build, install};
pub use pipe::{LogStats, SinkState};
pub use rotate::rotated_path;
