//! How a client finds the daemon's control socket. The config file on disk
//! may have been edited into an invalid state while the daemon runs on the
//! config it loaded before; a client must still reach it (to see its state,
//! stop it, or hear about a failed reload), and say what is wrong with the
//! file instead of claiming that nothing runs.

use crate::config::{Config, ConfigError};
use std::path::{Path, PathBuf};

/// The socket to call, and the config when the file is valid.
pub struct Located {
    pub socket: PathBuf,
    /// `Ok` when the file loads; its errors otherwise.
    pub config: Result<Config, ConfigError>,
}

impl Located {
    /// The file's errors as the warning a client prints on stderr before
    /// answering; `None` when the file is valid.
    pub fn warning(&self) -> Option<String> {
        let e = self.config.as_ref().err()?;
        Some(format!(
            "warning: the config file has errors (a running daemon keeps the config it \
             loaded; fix the file, then `zeroclaw config check`):\n{e}\n\
             using control socket {}",
            self.socket.display()
        ))
    }

    /// Print [`Located::warning`], if any.
    pub fn warn(&self) {
        if let Some(w) = self.warning() {
            eprintln!("{w}");
        }
    }

    /// The errors one per line (`--json` replies carry them).
    pub fn errors(&self) -> Vec<String> {
        match &self.config {
            Ok(_) => Vec::new(),
            Err(e) => e.errors.iter().map(ToString::to_string).collect(),
        }
    }
}

/// Load the config at `path` (or the default) and find its socket; when the
/// file has errors, read `[daemon]` leniently (see
/// [`crate::config::paths::control_socket_lenient`]). Relative paths are
/// taken from the current directory, as the daemon does.
pub fn locate(path: Option<&Path>) -> Located {
    let (socket, config) = match crate::config::load(path) {
        Ok(loaded) => (loaded.config.control_socket(), Ok(loaded.config)),
        Err(e) => (crate::config::paths::control_socket_lenient(path), Err(e)),
    };
    let socket = std::env::current_dir()
        .map(|cwd| cwd.join(&socket))
        .unwrap_or(socket);
    Located { socket, config }
}
