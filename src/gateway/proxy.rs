//! Which peers may speak for their clients (`[gateway] trusted_proxies`).
//!
//! `X-Forwarded-For` and `X-Real-IP` are plain request headers: any client
//! can send them. They are believed only on connections from a configured
//! proxy; on every other connection they are removed before routing, so
//! nothing downstream (the rate limiter, logs) can be handed a forged
//! address. See docs/security.md.

use axum::http::HeaderMap;
use ipnet::IpNet;
use std::net::IpAddr;

/// The parsed `trusted_proxies`: IP addresses and CIDR ranges.
#[derive(Debug, Clone, Default)]
pub struct TrustedProxies {
    nets: Vec<IpNet>,
}

impl TrustedProxies {
    /// Parse, skipping entries that do not parse (config validation has
    /// already refused them, naming the key; serving must not fail).
    pub fn parse<'a>(entries: impl IntoIterator<Item = &'a String>) -> Self {
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
        let p = TrustedProxies::parse(&list(&["127.0.0.0/8", "::1", "10.1.2.3"]));
        assert!(p.contains("127.0.0.2".parse().unwrap()));
        assert!(p.contains("::1".parse().unwrap()));
        assert!(p.contains("::ffff:127.0.0.1".parse().unwrap()));
        assert!(p.contains("10.1.2.3".parse().unwrap()));
        assert!(!p.contains("10.1.2.4".parse().unwrap()));
        assert!(!TrustedProxies::default().contains("127.0.0.1".parse().unwrap()));
        let junk = TrustedProxies::parse(&list(&["nonsense", "10.0.0.0/33", "::1"]));
        assert!(junk.contains("::1".parse().unwrap()));
        assert!(!junk.contains("10.0.0.1".parse().unwrap()));
    }
}
