//! Setting logging up once at startup, and the handle the daemon keeps.

use super::error::{LevelOrigin, LoggingError};
use super::file::Rotation;
use super::filter::{self, LevelChoice};
use super::layer;
use super::output::{self, SinkTarget};
use super::pipe::{LogStats, Pipe};
use super::sink;
use crate::config::schema::LoggingConfig;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tracing::Dispatch;
use tracing_subscriber::Registry;
use tracing_subscriber::filter::Targets;
use tracing_subscriber::layer::{Layer, Layered, SubscriberExt};
use tracing_subscriber::util::SubscriberInitExt;

/// Queue size when nothing else is asked for: a few seconds of a busy daemon,
/// small enough not to matter for memory.
pub const DEFAULT_QUEUE_BYTES: usize = 8 * 1024 * 1024;

/// Rotation renames every kept file, so their number is bounded.
const MAX_FILES_LIMIT: u32 = 1000;

/// Everything `install` needs, gathered by the daemon from its command line,
/// config file and terminal.
#[derive(Debug, Clone)]
pub struct LogSettings {
    /// `--log-level`.
    pub cli_level: Option<String>,
    /// `--log-file`.
    pub cli_file: Option<PathBuf>,
    pub config: LoggingConfig,
    /// Running in the foreground with stderr on a terminal.
    pub foreground_tty: bool,
    /// Bound of the queue between the daemon and the logger, in bytes.
    pub queue_bytes: usize,
}

impl Default for LogSettings {
    fn default() -> Self {
        Self {
            cli_level: None,
            cli_file: None,
            config: LoggingConfig::default(),
            foreground_tty: false,
            queue_bytes: DEFAULT_QUEUE_BYTES,
        }
    }
}

/// The daemon's grip on logging: cheap to clone, shared with the logger actor,
/// and it owns the queue so lines survive a restart of the logger.
#[derive(Clone)]
pub struct LogHandle {
    pub(crate) pipe: Arc<Pipe>,
    pub(crate) target: Arc<SinkTarget>,
    level: Arc<LevelChoice>,
}

impl std::fmt::Debug for LogHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LogHandle")
            .field("target", &self.target)
            .field("level", &self.level)
            .finish_non_exhaustive()
    }
}

impl LogHandle {
    /// Reopen the log file before the next line (SIGUSR1, after an external
    /// logrotate moved it away). A no-op without a file.
    pub fn reopen(&self) {
        self.pipe.request_reopen();
    }

    /// The filter directives in force, as written (`info`, `zeroclaw=debug,hyper=warn`).
    pub fn effective_level(&self) -> String {
        self.level.directives.clone()
    }

    /// Which setting the effective level came from.
    pub fn level_origin(&self) -> LevelOrigin {
        self.level.origin
    }

    /// The log file, if lines go to one rather than stderr.
    pub fn file(&self) -> Option<PathBuf> {
        match &*self.target {
            SinkTarget::File { path, .. } => Some(path.clone()),
            SinkTarget::Stderr => None,
        }
    }

    /// The line the daemon logs at startup, so an operator reading any log
    /// knows which config produced it and where the rest of the log is.
    pub fn startup_line(&self, config_path: Option<&Path>) -> String {
        let config = config_path
            .map(|p| p.display().to_string())
            .unwrap_or_else(|| "none (built-in defaults)".into());
        format!(
            "zeroclaw {} starting: config {config}, log {}, level {} (from {})",
            crate::VERSION,
            sink::describe(&self.target),
            self.level.directives,
            self.level.origin
        )
    }

    /// Write `message` as an INFO line whatever the filter says: the startup
    /// line must reach the log even at `level = "warn"`.
    pub fn announce(&self, message: &str) {
        let line = self.pipe.notice(tracing::Level::INFO, message);
        self.pipe.submit(line);
    }

    /// Queue and sink counters, for `status` and tests.
    pub fn stats(&self) -> LogStats {
        self.pipe.stats()
    }

    /// Writes whatever the logger has not written to stderr and sends later
    /// lines there: for a daemon exiting without (or after) its logger.
    pub fn flush_to_stderr(&self) {
        self.pipe.go_down(Vec::new(), None);
    }
}

type Base = Layered<Targets, Registry>;

/// Builds the subscriber and its handle without installing it globally
/// (tests, embedding). `rust_log` is `RUST_LOG`; `journal` says stderr is the
/// systemd journal.
pub fn build(
    settings: LogSettings,
    rust_log: Option<&str>,
    journal: bool,
) -> Result<(Dispatch, LogHandle), LoggingError> {
    let cfg = &settings.config;
    if cfg.rotate && cfg.max_size.as_u64() == 0 {
        return Err(LoggingError::Config {
            key: "max_size",
            reason: "0 bytes with rotate = true would rotate on every line; set a size \
                     such as \"100MB\" or rotate = false"
                .into(),
        });
    }
    if cfg.max_files > MAX_FILES_LIMIT {
        return Err(LoggingError::Config {
            key: "max_files",
            reason: format!(
                "{} is more than {MAX_FILES_LIMIT}; every rotation renames each kept file, \
                 so keep fewer and larger files (raise max_size)",
                cfg.max_files
            ),
        });
    }
    let level = filter::choose_level(
        settings.cli_level.as_deref(),
        rust_log,
        cfg.level.as_deref(),
    );
    let env_filter = filter::build_filter(&level)?;
    let rotation = Rotation {
        enabled: cfg.rotate,
        max_size: cfg.max_size.as_u64(),
        max_files: cfg.max_files,
    };
    let file = settings.cli_file.clone().or_else(|| cfg.file.clone());
    let plan = output::plan(file, rotation, cfg.format, settings.foreground_tty, journal);
    let to_file = matches!(plan.sink, SinkTarget::File { .. });
    let pipe = Arc::new(Pipe::new(
        settings.queue_bytes,
        plan.style,
        plan.echo_stderr,
        to_file,
    ));
    let mut layers: Vec<Box<dyn Layer<Base> + Send + Sync>> =
        vec![layer::queue_layer(pipe.clone(), plan.style)];
    if plan.echo_stderr {
        layers.push(layer::echo_layer());
    }
    let subscriber = Registry::default()
        .with(env_filter)
        .with(layers)
        .with(super::caps::dependency_caps());
    let handle = LogHandle {
        pipe,
        target: Arc::new(plan.sink),
        level: Arc::new(level),
    };
    Ok((Dispatch::new(subscriber), handle))
}

/// Installs the global subscriber: call once, before anything else logs.
/// Reads `RUST_LOG` and `JOURNAL_STREAM` from the environment. With a log
/// file, lines wait in the queue until the logger actor (`child_spec`) starts;
/// a process that exits before that calls `LogHandle::flush_to_stderr`.
pub fn install(settings: LogSettings) -> Result<LogHandle, LoggingError> {
    // A RUST_LOG that is not UTF-8 cannot hold valid directives; treat it as unset.
    let rust_log = std::env::var("RUST_LOG").ok();
    let journal = output::is_journal_stream(
        std::env::var("JOURNAL_STREAM").ok().as_deref(),
        output::stderr_dev_ino(),
    );
    let (dispatch, handle) = build(settings, rust_log.as_deref(), journal)?;
    dispatch
        .try_init()
        .map_err(|_| LoggingError::AlreadyInstalled)?;
    Ok(handle)
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytesize::ByteSize;

    fn settings(cfg: LoggingConfig) -> LogSettings {
        LogSettings {
            config: cfg,
            ..LogSettings::default()
        }
    }

    #[test]
    fn file_from_cli_beats_config() -> Result<(), LoggingError> {
        let s = LogSettings {
            cli_file: Some("/cli.log".into()),
            config: LoggingConfig {
                file: Some("/cfg.log".into()),
                ..LoggingConfig::default()
            },
            ..LogSettings::default()
        };
        let (_, h) = build(s, None, false)?;
        assert_eq!(h.file(), Some(PathBuf::from("/cli.log")));
        Ok(())
    }

    #[test]
    fn level_precedence_reaches_the_handle() -> Result<(), LoggingError> {
        let cfg = LoggingConfig {
            level: Some("error".into()),
            ..LoggingConfig::default()
        };
        let (_, h) = build(
            settings(cfg.clone()),
            Some("zeroclaw=debug,hyper=warn"),
            false,
        )?;
        assert_eq!(h.effective_level(), "zeroclaw=debug,hyper=warn");
        assert_eq!(h.level_origin(), LevelOrigin::RustLog);
        let s = LogSettings {
            cli_level: Some("trace".into()),
            ..settings(cfg)
        };
        let (_, h) = build(s, Some("warn"), false)?;
        assert_eq!(h.effective_level(), "trace");
        Ok(())
    }

    #[test]
    fn startup_line_names_config_file_and_level() -> Result<(), LoggingError> {
        let cfg = LoggingConfig {
            file: Some("/var/log/zeroclaw/daemon.log".into()),
            ..LoggingConfig::default()
        };
        let (_, h) = build(settings(cfg), None, false)?;
        let line = h.startup_line(Some(Path::new("/etc/zeroclaw/config.toml")));
        assert!(line.contains("config /etc/zeroclaw/config.toml"), "{line}");
        assert!(line.contains("log /var/log/zeroclaw/daemon.log"), "{line}");
        assert!(line.contains("level info (from default)"), "{line}");
        Ok(())
    }

    #[test]
    fn zero_max_size_is_refused() {
        let cfg = LoggingConfig {
            max_size: ByteSize::b(0),
            ..LoggingConfig::default()
        };
        match build(settings(cfg), None, false) {
            Ok(_) => panic!("max_size 0 must be refused"),
            Err(e) => assert!(e.to_string().contains("max_size"), "{e}"),
        }
    }

    #[test]
    fn absurd_max_files_is_refused() {
        let cfg = LoggingConfig {
            max_files: 1_000_000,
            ..LoggingConfig::default()
        };
        match build(settings(cfg), None, false) {
            Ok(_) => panic!("must be refused"),
            Err(e) => assert!(e.to_string().contains("max_files"), "{e}"),
        }
    }

    #[test]
    fn bad_level_is_refused_with_its_origin() {
        match build(
            settings(LoggingConfig::default()),
            Some("zeroclaw=loud"),
            false,
        ) {
            Ok(_) => panic!("must be refused"),
            Err(e) => assert!(e.to_string().contains("RUST_LOG"), "{e}"),
        }
    }

    #[test]
    fn events_reach_the_queue_through_the_filter() -> Result<(), LoggingError> {
        // With a file and no logger yet, lines wait in the queue.
        let cfg = LoggingConfig {
            file: Some("/nonexistent/daemon.log".into()),
            ..LoggingConfig::default()
        };
        let (dispatch, h) = build(settings(cfg), Some("zeroclaw=debug,hyper=warn"), false)?;
        tracing::dispatcher::with_default(&dispatch, || {
            tracing::debug!(target: "zeroclaw::cron", "kept");
            tracing::info!(target: "hyper::proto", "filtered");
            tracing::warn!(target: "hyper::proto", "kept too");
        });
        assert_eq!(h.stats().queued, 2);
        Ok(())
    }
}
