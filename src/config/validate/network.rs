//! Rules of the daemon's own surfaces: the control socket, the gateway's
//! listener and who it answers (see docs/security.md, "Gateway").

use super::{Findings, is_set, p};
use crate::config::schema::Config;
use std::net::IpAddr;

pub(super) fn is_loopback(host: &str) -> bool {
    if host.eq_ignore_ascii_case("localhost") {
        return true;
    }
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    bare.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// A host name as RFC 1123 allows: labels of letters, digits and hyphens.
pub(super) fn is_hostname(host: &str) -> bool {
    !host.is_empty()
        && host.len() <= 253
        && host.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
}

pub(super) fn gateway(config: &Config, f: &mut Findings) {
    let g = &config.gateway;
    let bare = g.host.trim_start_matches('[').trim_end_matches(']');
    if bare.parse::<IpAddr>().is_err() && !is_hostname(&g.host) {
        f.error(
            p(&["gateway", "host"]),
            format!(
                "`{}` is not an IP address or host name (e.g. \"127.0.0.1\", \"0.0.0.0\", \"::1\")",
                g.host
            ),
        );
    } else if g.enabled && !is_loopback(&g.host) && !is_set(&g.auth_token) && !g.allow_insecure {
        f.error(
            p(&["gateway", "host"]),
            format!(
                "host `{}` accepts connections from other machines but no auth_token is set; \
                 set auth_token (e.g. `openssl rand -hex 32`), bind to 127.0.0.1 behind a \
                 reverse proxy, or set allow_insecure = true if the network is trusted",
                g.host
            ),
        );
    }
    match (&g.tls_cert, &g.tls_key) {
        (Some(_), None) => f.error(
            p(&["gateway", "tls_cert"]),
            "tls_cert is set without tls_key; set both for HTTPS, or neither",
        ),
        (None, Some(_)) => f.error(
            p(&["gateway", "tls_key"]),
            "tls_key is set without tls_cert; set both for HTTPS, or neither",
        ),
        _ => {}
    }
    if g.max_connections == 0 {
        f.error(
            p(&["gateway", "max_connections"]),
            "max_connections must be at least 1",
        );
    }
    gateway_exposure(config, f);
    for (key, value) in [
        ("connection_timeout", g.connection_timeout.0),
        ("read_timeout", g.read_timeout.0),
        ("write_timeout", g.write_timeout.0),
        ("header_timeout", g.header_timeout.0),
    ] {
        if value.is_zero() {
            f.error(
                p(&["gateway", key]),
                format!("{key} must be greater than zero"),
            );
        }
    }
    for (key, value) in [
        ("max_body_size", g.max_body_size.as_u64()),
        (
            "max_unauthenticated_body_size",
            g.max_unauthenticated_body_size.as_u64(),
        ),
    ] {
        if value == 0 {
            f.error(
                p(&["gateway", key]),
                format!("{key} must be greater than zero"),
            );
        }
    }
}

/// Who may reach the gateway and how it knows them: unauthenticated
/// webhooks, proxies, public names (docs/security.md).
pub(super) fn gateway_exposure(config: &Config, f: &mut Findings) {
    let g = &config.gateway;
    if g.enabled && g.allow_unauthenticated && !is_set(&g.auth_token) {
        f.warn(
            p(&["gateway", "allow_unauthenticated"]),
            format!(
                "POST /webhook answers anyone who can reach {}:{} without credentials, and the \
                 agent may run tools for them; set auth_token unless every client is trusted",
                g.host, g.port
            ),
        );
    }
    for entry in &g.trusted_proxies {
        let e = entry.trim();
        if e.parse::<ipnet::IpNet>().is_err() && e.parse::<IpAddr>().is_err() {
            f.error(
                p(&["gateway", "trusted_proxies"]),
                format!(
                    "`{entry}` is not an IP address or CIDR range (e.g. \"127.0.0.1\", \
                     \"10.0.0.0/8\", \"::1\")"
                ),
            );
        }
    }
    for host in &g.public_hosts {
        let valid = host
            .parse::<axum::http::uri::Authority>()
            .is_ok_and(|a| !a.as_str().contains('@') && !a.host().is_empty());
        if !valid {
            f.error(
                p(&["gateway", "public_hosts"]),
                format!(
                    "`{host}` is not a host name (e.g. \"bot.example.com\" or \
                     \"bot.example.com:8443\"; no scheme, no path)"
                ),
            );
        }
    }
}

pub(super) fn daemon(config: &Config, f: &mut Findings) {
    let d = &config.daemon;
    if d.control_max_connections == 0 {
        f.error(
            p(&["daemon", "control_max_connections"]),
            "control_max_connections must be at least 1",
        );
    }
    if d.control_idle_timeout.is_zero() {
        f.error(
            p(&["daemon", "control_idle_timeout"]),
            "control_idle_timeout must be greater than zero",
        );
    }
}
