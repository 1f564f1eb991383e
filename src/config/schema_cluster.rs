//! `[cluster]`: several instances sharing one PostgreSQL database, one of
//! them the leader (docs/configuration.md, docs/operations.md). Without the
//! table the daemon is a single instance on SQLite.

use super::types::Secret;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// The database the instances share.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ClusterBackend {
    #[default]
    Postgres,
}

/// `[cluster]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ClusterConfig {
    pub backend: ClusterBackend,
    /// `postgres://user:password@host:port/db?sslmode=...`; a secret.
    pub url: Option<Secret>,
    /// This instance's name, unique in the cluster; default the host name.
    pub instance: Option<String>,
    /// How long a leader's lease lasts without renewal (renewed every third).
    #[serde(with = "humantime_serde")]
    pub lease_ttl: Duration,
}

impl Default for ClusterConfig {
    fn default() -> Self {
        Self {
            backend: ClusterBackend::Postgres,
            url: None,
            instance: None,
            lease_ttl: Duration::from_secs(15),
        }
    }
}

impl ClusterConfig {
    /// The instance name in force: the configured one, else the host name.
    pub fn instance_name(&self) -> String {
        if let Some(name) = self
            .instance
            .as_deref()
            .map(str::trim)
            .filter(|n| !n.is_empty())
        {
            return name.to_string();
        }
        nix::unistd::gethostname()
            .ok()
            .and_then(|h| h.into_string().ok())
            .filter(|h| !h.is_empty())
            .unwrap_or_else(|| "zeroclaw".to_string())
    }
}
