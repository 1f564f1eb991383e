//! The DNS-rebinding defence: answer only requests addressed to a name this
//! gateway is known by.
//!
//! A web page the operator opens can make their browser send requests to a
//! host name the attacker controls and then re-point at 127.0.0.1; the
//! browser still sends `Host: <attacker's name>`. Refusing every Host name
//! other than the bound one, `localhost` and `[gateway] public_hosts` stops
//! that page from reaching the gateway. A Host that is an IP address is
//! always accepted: rebinding needs a name, and an address is what load
//! balancers, NAT'd ports and health checks send. See
//! docs/security.md.

use super::error::ApiError;
use axum::http::uri::Authority;
use axum::http::{HeaderMap, StatusCode, Uri, header};
use std::net::IpAddr;

/// The names a request may be addressed to.
#[derive(Debug, Clone)]
pub struct HostPolicy {
    /// Lower-case names without a port (any port matches), IPv6 in brackets.
    names: Vec<String>,
    /// Lower-case `name:port` entries (that port only).
    with_port: Vec<(String, u16)>,
}

impl HostPolicy {
    /// `bound_host` is `[gateway] host`; `public` are `public_hosts` and
    /// any other configured public names (a Telegram `webhook_url`'s host).
    pub fn new<'a>(bound_host: &'a str, public: impl IntoIterator<Item = &'a str>) -> Self {
        let mut names = vec!["localhost".to_string()];
        let mut with_port = Vec::new();
        for entry in std::iter::once(bound_host).chain(public) {
            let entry = entry.trim().trim_end_matches('.').to_ascii_lowercase();
            if entry.is_empty() {
                continue;
            }
            match split(&entry) {
                Some((name, Some(port))) => with_port.push((name, port)),
                Some((name, None)) => names.push(name),
                None => names.push(entry),
            }
        }
        Self { names, with_port }
    }

    /// `true` when the request's Host (or absolute-form URI authority) is
    /// an IP address or one of our names. A request without a Host is
    /// accepted: browsers always send one.
    pub fn allows(&self, uri: &Uri, headers: &HeaderMap) -> bool {
        let presented = uri.authority().map(|a| a.as_str().to_string()).or_else(|| {
            headers
                .get(header::HOST)
                .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
        });
        let Some(presented) = presented else {
            return true;
        };
        let lower = presented.trim().trim_end_matches('.').to_ascii_lowercase();
        let Some((name, port)) = split(&lower) else {
            return false;
        };
        if name.trim_matches(['[', ']']).parse::<IpAddr>().is_ok() {
            return true;
        }
        self.names.contains(&name)
            || port.is_some_and(|p| self.with_port.iter().any(|(n, wp)| *n == name && *wp == p))
    }

    /// The answer to a request for another host.
    pub fn refusal(uri: &Uri, headers: &HeaderMap) -> ApiError {
        let shown = uri
            .authority()
            .map(|a| a.as_str().to_string())
            .or_else(|| {
                headers
                    .get(header::HOST)
                    .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
            })
            .unwrap_or_default();
        let shown: String = shown.chars().take(100).collect();
        ApiError::new(
            StatusCode::FORBIDDEN,
            "host_not_allowed",
            format!(
                "this gateway does not answer for Host `{shown}`: if clients reach it under \
                 that name, add it to [gateway] public_hosts (refused so that a web page \
                 cannot reach the gateway through DNS rebinding)"
            ),
        )
    }
}

/// `name` and optional port of a Host value; `None` when it is not a valid
/// authority (or carries user info).
fn split(value: &str) -> Option<(String, Option<u16>)> {
    let a: Authority = value.parse().ok()?;
    if a.as_str().contains('@') {
        return None;
    }
    Some((a.host().trim_end_matches('.').to_string(), a.port_u16()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn allows(p: &HostPolicy, host: &str) -> bool {
        let mut h = HeaderMap::new();
        h.insert(header::HOST, HeaderValue::from_str(host).unwrap());
        p.allows(&Uri::from_static("/webhook"), &h)
    }

    #[test]
    fn addresses_bound_and_public_names_only() {
        let p = HostPolicy::new("0.0.0.0", ["Bot.Example.com", "hooks.example.org:8443"]);
        for ok in [
            "localhost",
            "LOCALHOST:3000",
            "127.0.0.1:3000",
            "[::1]:3000",
            "192.0.2.7",
            "192.0.2.7:3000",
            "bot.example.com",
            "bot.example.com.:443",
            "hooks.example.org:8443",
        ] {
            assert!(allows(&p, ok), "{ok}");
        }
        for bad in [
            "evil.example",
            "evil.example:3000",
            "hooks.example.org",
            "hooks.example.org:443",
            "user@localhost",
            "bot.example.com.evil.example",
            "",
        ] {
            assert!(!allows(&p, bad), "{bad}");
        }
        assert!(p.allows(&Uri::from_static("/"), &HeaderMap::new()));
        assert!(!p.allows(
            &Uri::from_static("http://evil.example/webhook"),
            &HeaderMap::new()
        ));
        let named = HostPolicy::new("gw.internal", []);
        assert!(allows(&named, "gw.internal:3000"));
    }
}
