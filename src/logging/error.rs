//! What can go wrong while setting up logging or writing the log file.

use std::fmt;
use std::path::PathBuf;

/// Where the effective log filter came from; shown in errors and the startup line
/// so an operator knows which knob to turn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LevelOrigin {
    /// `--log-level` on the command line.
    CommandLine,
    /// The `RUST_LOG` environment variable.
    RustLog,
    /// `[logging] level` in the config file.
    Config,
    /// Nothing was set: `info`.
    Default,
}

impl fmt::Display for LevelOrigin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            LevelOrigin::CommandLine => "--log-level",
            LevelOrigin::RustLog => "RUST_LOG",
            LevelOrigin::Config => "[logging] level",
            LevelOrigin::Default => "default",
        })
    }
}

/// Errors of the logging component.
#[derive(Debug, thiserror::Error)]
pub enum LoggingError {
    #[error(
        "invalid log level {value:?} (from {origin}): {reason}; use one of \
         trace, debug, info, warn, error, or tracing directives such as `zeroclaw=debug,hyper=warn`"
    )]
    Filter {
        origin: LevelOrigin,
        value: String,
        reason: String,
    },

    #[error("invalid [logging] {key}: {reason}")]
    Config { key: &'static str, reason: String },

    #[error(
        "a global tracing subscriber is already installed; logging::install must be called \
         once, before anything else logs"
    )]
    AlreadyInstalled,

    #[error(
        "cannot open log file {path}: {source}; check that its directory exists and is \
         writable by the daemon's user, or change [logging] file / --log-file"
    )]
    Open {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error(
        "cannot write log file {path}: {source}; lines go to stderr until the file can be \
         written again (check free space, the directory and its permissions)"
    )]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error(
        "cannot rotate log file {path}: {source}; lines go to stderr until the directory \
         is writable again"
    )]
    Rotate {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error("the log writer thread failed: {0}")]
    Worker(String),
}
