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
/// failed reload. TOML syntax errors too: the parser recovers and keeps every
/// key it could read, so a broken line elsewhere (or a repeated table) does
/// not hide `[daemon]`. Falls back to the default location.
pub fn control_socket_lenient(path: Option<&std::path::Path>) -> PathBuf {
    let text = path
        .map(std::path::Path::to_path_buf)
        .or_else(|| Some(super::load::default_path()))
        .and_then(|p| std::fs::read_to_string(p).ok())
        .unwrap_or_default();
    let (root, _errors) = toml::de::DeTable::parse_recoverable(&text);
    let daemon = root
        .get_ref()
        .get("daemon")
        .and_then(|d| d.get_ref().as_table());
    let get = |k: &str| match daemon.and_then(|d| d.get(k)).map(|v| v.get_ref()) {
        Some(toml::de::DeValue::String(s)) if !s.trim().is_empty() => Some(PathBuf::from(&**s)),
        _ => None,
    };
    let mut config = Config::default();
    config.daemon.state_dir = get("state_dir");
    config.daemon.control_socket = get("control_socket");
    config.control_socket()
}

#[cfg(test)]
mod tests {
    use super::control_socket_lenient;

    #[test]
    fn lenient_socket_survives_syntax_and_type_errors() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("c.toml");
        let text = "[daemon]\nstate_dir = \"/srv/z\"\nworkdir = 5\n[gateway]\nport = \"x\"\n\
                    this is not toml\n[gateway]\nhost = \"h\"\n";
        std::fs::write(&file, text).unwrap();
        assert_eq!(
            control_socket_lenient(Some(&file)),
            std::path::Path::new("/srv/z/zeroclaw.sock")
        );
        std::fs::write(&file, "x = [\n[daemon]\ncontrol_socket = \"/run/z.sock\"\n").unwrap();
        let found = control_socket_lenient(Some(&file));
        // Whatever the parser salvages, the answer is a path, never a panic.
        assert!(
            found.ends_with("z.sock") || found.ends_with("zeroclaw.sock"),
            "{found:?}"
        );
    }
}
