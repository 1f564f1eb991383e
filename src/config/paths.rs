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
