//! Rules of `[cluster]`: a database URL that can be connected to, a lease
//! that can be renewed in time, an instance name that fits a status line.

use super::{Findings, p};
use crate::config::schema::Config;
use std::time::Duration;

/// Shorter, and one slow renewal (a third of it) already costs the lease.
const MIN_TTL: Duration = Duration::from_secs(3);
/// Longer, and a dead leader leaves its work undone for that long.
const MAX_TTL: Duration = Duration::from_secs(600);

pub(super) fn cluster(config: &Config, f: &mut Findings) {
    let Some(c) = &config.cluster else {
        return;
    };
    match c.url.as_ref().and_then(|u| u.trimmed()) {
        None => f.error(
            p(&["cluster", "url"]),
            "[cluster] needs url, the PostgreSQL database the instances share; set \
             url = \"${ZEROCLAW_DATABASE_URL}\" with postgres://user:password@host/db",
        ),
        Some(url) => {
            if let Err(why) = check_url(url) {
                f.error(p(&["cluster", "url"]), why);
            }
        }
    }
    if c.lease_ttl < MIN_TTL || c.lease_ttl > MAX_TTL {
        f.error(
            p(&["cluster", "lease_ttl"]),
            format!(
                "lease_ttl is {}; use between 3s and 10m (15s is the default)",
                humantime::format_duration(c.lease_ttl)
            ),
        );
    }
    if let Some(name) = &c.instance
        && !valid_instance(name)
    {
        f.error(
            p(&["cluster", "instance"]),
            format!(
                "instance `{name}` is not a name: use 1 to 63 letters, digits, `.`, `_` or `-` \
                 (or remove the line to use the host name)"
            ),
        );
    }
}

/// The URL as the client reads it; the message never repeats the URL (it
/// holds a password).
fn check_url(url: &str) -> Result<(), String> {
    if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
        return Err("url must start with postgres:// or postgresql:// \
                    (postgres://user:password@host:5432/db?sslmode=require)"
            .into());
    }
    let query = url.split_once('?').map_or("", |(_, q)| q);
    for pair in query.split('&') {
        if let Some(mode) = pair.strip_prefix("sslmode=")
            && !matches!(mode, "disable" | "prefer" | "require")
        {
            return Err(format!(
                "url has sslmode={mode}; use sslmode=disable, prefer or require"
            ));
        }
    }
    url.parse::<tokio_postgres::Config>()
        .map(drop)
        .map_err(|e| format!("url is not a PostgreSQL connection URL: {e}"))
}

fn valid_instance(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 63
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        assert!(check_url("postgres://u:p@127.0.0.1:5432/db").is_ok());
        assert!(check_url("postgresql://u@h/db?sslmode=require").is_ok());
        assert!(check_url("mysql://u@h/db").is_err());
        let bad = check_url("postgres://u:secret@h/db?sslmode=bogus").unwrap_err();
        assert!(!bad.contains("secret"), "{bad}");
    }

    #[test]
    fn instance_names() {
        assert!(valid_instance("primary-1.example"));
        assert!(!valid_instance(""));
        assert!(!valid_instance("a b"));
        assert!(!valid_instance(&"x".repeat(64)));
    }
}
