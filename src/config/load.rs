//! Finding and reading the config file.

use super::schema::Config;
use std::path::{Path, PathBuf};

/// A config and where it came from.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub config: Config,
    /// `None` when no file exists at the default location and built-in defaults are used.
    pub path: Option<PathBuf>,
}

/// Every problem found in one file, reported together.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ConfigError(pub String);

/// `~/.zeroclaw/config.toml`.
pub fn default_path() -> PathBuf {
    dirs::home_dir()
        .unwrap_or_else(|| PathBuf::from("."))
        .join(".zeroclaw")
        .join("config.toml")
}

/// Load `explicit` (must exist), or the default path (built-in defaults if absent).
pub fn load(explicit: Option<&Path>) -> Result<Loaded, ConfigError> {
    let path = explicit.map(Path::to_path_buf).unwrap_or_else(default_path);
    if explicit.is_none() && !path.exists() {
        return Ok(Loaded {
            config: Config::default(),
            path: None,
        });
    }
    let text = std::fs::read_to_string(&path)
        .map_err(|e| ConfigError(format!("cannot read {}: {e}", path.display())))?;
    let config = parse_str(&text, &path.display().to_string())?;
    Ok(Loaded {
        config,
        path: Some(path),
    })
}

/// Parse and validate a whole file; `origin` names it in errors.
pub fn parse_str(text: &str, origin: &str) -> Result<Config, ConfigError> {
    toml::from_str(text).map_err(|e| ConfigError(format!("{origin}: {e}")))
}
