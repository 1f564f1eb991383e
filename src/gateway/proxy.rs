//! Which peers may speak for their clients (`[gateway] trusted_proxies`).
//!
//! `X-Forwarded-For` and `X-Real-IP` are plain request headers: any client
//! can send them. They are believed only on connections from a configured
//! proxy; on every other connection they are removed before routing, so
//! nothing downstream (the rate limiter, logs) can be handed a forged
//! address. See docs/security-gateway.md.

use axum::http::HeaderMap;
use ipnet::IpNet;
use std::net::IpAddr;

/// The parsed `trusted_proxies`: IP addresses and CIDR ranges.
#[derive(Debug, Clone, Default)]
pub struct TrustedProxies {
    nets: Vec<IpNet>,
}

/// An entry of `trusted_proxies` that is neither an IP address nor a CIDR range.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not an IP address or CIDR range (e.g. \"127.0.0.1\", \"10.0.0.0/8\", \"::1\")")]
pub struct BadProxy(pub String);

impl TrustedProxies {
    /// Parse every entry; the first bad one is the error.
    pub fn parse<'a>(entries: impl IntoIterator<Item = &'a String>) -> Result<Self, BadProxy> {
        let nets = entries
            .into_iter()
            .map(|e| parse_entry(e).ok_or_else(|| BadProxy(e.clone())))
            .collect::<Result<_, _>>()?;
        Ok(Self { nets })
    }

    /// Parse, skipping entries that do not parse (config validation has
    /// already refused them; this is for code that must not fail).
    pub fn parse_lossy<'a>(entries: impl IntoIterator<Item = &'a String>) -> Self {
        Self {
            nets: entries.into_iter().filter_map(|e| parse_entry(e)).collect(),
        }
    }

    /// `true` when `peer` is one of the proxies. An IPv4 peer seen on an
    /// IPv6 socket (`::ffff:a.b.c.d`) is matched as the IPv4 address.
    pub fn contains(&self, peer: IpAddr) -> bool {
        let peer = peer.to_canonical();
        self.nets.iter().any(|n| n.contains(&peer))
    }
}

fn parse_entry(entry: &str) -> Option<IpNet> {
    let e = entry.trim();
    e.parse::<IpNet>()
        .ok()
        .or_else(|| e.parse::<IpAddr>().ok().map(IpNet::from))
}

/// Remove the headers a proxy would set, so an untrusted client's copies
/// are never read.
pub fn strip_forwarded(headers: &mut HeaderMap) {
    headers.remove("x-forwarded-for");
    headers.remove("x-real-ip");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn addresses_and_ranges() {
        let p = TrustedProxies::parse(&list(&["127.0.0.0/8", "::1", "10.1.2.3"])).unwrap();
        assert!(p.contains("127.0.0.2".parse().unwrap()));
        assert!(p.contains("::1".parse().unwrap()));
        assert!(p.contains("::ffff:127.0.0.1".parse().unwrap()));
        assert!(p.contains("10.1.2.3".parse().unwrap()));
        assert!(!p.contains("10.1.2.4".parse().unwrap()));
        assert!(!TrustedProxies::default().contains("127.0.0.1".parse().unwrap()));
        assert_eq!(
            TrustedProxies::parse(&list(&["10.0.0.0/33"])).unwrap_err(),
            BadProxy("10.0.0.0/33".into())
        );
        assert!(
            TrustedProxies::parse_lossy(&list(&["nonsense", "::1"]))
                .contains("::1".parse().unwrap())
        );
    }
}
