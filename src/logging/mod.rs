//! Logging: a tracing layer feeding the logger actor that owns the file.

/// Interim subscriber until the logger actor lands: stderr, with the level
/// precedence of the issue (`[logging] level` already carries `--log-level`).
pub fn install_for_daemon(config: &crate::config::Config, config_path: Option<&std::path::Path>) {
    let level = config
        .logging
        .level
        .clone()
        .or_else(|| std::env::var("RUST_LOG").ok())
        .unwrap_or_else(|| "info".into());
    let filter = tracing_subscriber::EnvFilter::try_new(&level)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
    tracing::info!(
        config = %config_path.map(|p| p.display().to_string()).unwrap_or_else(|| "(built-in defaults)".into()),
        level = %level,
        "zeroclaw starting"
    );
}

/// SIGUSR1: reopen the log file.
pub fn reopen() {}
