//! Paths derived from the config: state dir, control socket, databases.

use super::schema::Config;
use std::path::PathBuf;

impl Config {
    /// `[daemon] state_dir`, default `~/.zeroclaw/state`.
    pub fn state_dir(&self) -> PathBuf {
        self.daemon.state_dir.clone().unwrap_or_else(|| {
            dirs::home_dir()
                .unwrap_or_else(|| PathBuf::from("."))
                .join(".zeroclaw")
                .join("state")
        })
    }

    /// `[daemon] control_socket`, default `<state_dir>/zeroclaw.sock`.
    pub fn control_socket(&self) -> PathBuf {
        self.daemon
            .control_socket
            .clone()
            .unwrap_or_else(|| self.state_dir().join("zeroclaw.sock"))
    }

    /// The cron run-history database.
    pub fn cron_db(&self) -> PathBuf {
        self.state_dir().join("cron.sqlite3")
    }
}

/// The control socket named by the file at `path`, even when the file has
/// errors elsewhere: a client must still reach the daemon to hear about a
/// failed reload. Falls back to the default location.
pub fn control_socket_lenient(path: Option<&std::path::Path>) -> PathBuf {
    let text = path
        .map(std::path::Path::to_path_buf)
        .or_else(|| Some(super::load::default_path()))
        .and_then(|p| std::fs::read_to_string(p).ok())
        .unwrap_or_default();
    let mut config = Config::default();
    if let Ok(value) = toml::from_str::<toml::Table>(&text) {
        let daemon = value.get("daemon").and_then(|d| d.as_table());
        let get = |k: &str| {
            daemon
                .and_then(|d| d.get(k))
                .and_then(|v| v.as_str())
                .map(PathBuf::from)
        };
        config.daemon.state_dir = get("state_dir");
        config.daemon.control_socket = get("control_socket");
    }
    config.control_socket()
}
