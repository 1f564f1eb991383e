//! Where `web_fetch` may connect: the egress policy (docs/security.md, "Web tools").
//!
//! A page the model reads may ask it to fetch `http://169.254.169.254/` or an
//! admin page on the LAN. The policy is judged on the addresses a name
//! resolves to, inside the client's DNS resolver ([`PolicyResolver`]): the
//! resolver drops every forbidden address and the connection can only go to
//! what is left, so a name that resolves to a public address when checked and
//! a private one when connecting (DNS rebinding) gets nowhere. Literal IP
//! hosts never reach a resolver and are judged by [`Egress::check_url`].

use ipnet::{Ipv4Net, Ipv6Net};
use reqwest::Url;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;

/// Loopback, private, link-local (and with it cloud metadata), CGNAT and
/// other addresses that are not the public internet.
const BLOCKED_V4: &[Ipv4Net] = &[
    Ipv4Net::new_assert(Ipv4Addr::new(0, 0, 0, 0), 8),
    Ipv4Net::new_assert(Ipv4Addr::new(10, 0, 0, 0), 8),
    Ipv4Net::new_assert(Ipv4Addr::new(100, 64, 0, 0), 10),
    Ipv4Net::new_assert(Ipv4Addr::new(127, 0, 0, 0), 8),
    Ipv4Net::new_assert(Ipv4Addr::new(169, 254, 0, 0), 16),
    Ipv4Net::new_assert(Ipv4Addr::new(172, 16, 0, 0), 12),
    Ipv4Net::new_assert(Ipv4Addr::new(192, 0, 0, 0), 24),
    Ipv4Net::new_assert(Ipv4Addr::new(192, 168, 0, 0), 16),
    Ipv4Net::new_assert(Ipv4Addr::new(198, 18, 0, 0), 15),
    Ipv4Net::new_assert(Ipv4Addr::new(224, 0, 0, 0), 4),
    Ipv4Net::new_assert(Ipv4Addr::new(240, 0, 0, 0), 4),
];

const BLOCKED_V6: &[Ipv6Net] = &[
    Ipv6Net::new_assert(Ipv6Addr::UNSPECIFIED, 128),
    Ipv6Net::new_assert(Ipv6Addr::LOCALHOST, 128),
    Ipv6Net::new_assert(Ipv6Addr::new(0xfc00, 0, 0, 0, 0, 0, 0, 0), 7),
    Ipv6Net::new_assert(Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 0), 10),
    Ipv6Net::new_assert(Ipv6Addr::new(0xfec0, 0, 0, 0, 0, 0, 0, 0), 10),
    Ipv6Net::new_assert(Ipv6Addr::new(0xff00, 0, 0, 0, 0, 0, 0, 0), 8),
];

/// An IPv4 address carried inside an IPv6 one (mapped `::ffff:a.b.c.d`,
/// compatible `::a.b.c.d`, NAT64 `64:ff9b::a.b.c.d`, 6to4 `2002:abcd:...`):
/// judged as the IPv4 address it reaches.
fn embedded_v4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return Some(v4);
    }
    let s = ip.segments();
    let o = ip.octets();
    if s[..6] == [0, 0, 0, 0, 0, 0] && !(s[6] == 0 && s[7] <= 1) {
        return Some(Ipv4Addr::new(o[12], o[13], o[14], o[15]));
    }
    if s[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        return Some(Ipv4Addr::new(o[12], o[13], o[14], o[15]));
    }
    if s[0] == 0x2002 {
        return Some(Ipv4Addr::new(o[2], o[3], o[4], o[5]));
    }
    None
}

/// True for an address the policy forbids unless the host is allowed.
pub fn is_forbidden(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => BLOCKED_V4.iter().any(|n| n.contains(&v4)),
        IpAddr::V6(v6) => match embedded_v4(v6) {
            Some(v4) => is_forbidden(IpAddr::V4(v4)),
            None => BLOCKED_V6.iter().any(|n| n.contains(&v6)),
        },
    }
}

/// One `allowed_hosts` / `denied_hosts` entry: a host (and its subdomains),
/// optionally with a port.
#[derive(Debug, Clone, PartialEq, Eq)]
struct HostRule {
    host: String,
    port: Option<u16>,
}

impl HostRule {
    fn parse(entry: &str) -> Self {
        let entry = entry.trim().trim_end_matches('.').to_ascii_lowercase();
        if let Ok(sa) = entry.parse::<SocketAddr>() {
            return Self {
                host: sa.ip().to_string(),
                port: Some(sa.port()),
            };
        }
        if let Some((host, port)) = entry.rsplit_once(':')
            && !host.contains(':')
            && let Ok(port) = port.parse::<u16>()
        {
            return Self {
                host: host.to_string(),
                port: Some(port),
            };
        }
        let host = entry.trim_start_matches('[').trim_end_matches(']');
        Self {
            host: host.to_string(),
            port: None,
        }
    }

    fn matches_host(&self, host: &str) -> bool {
        host == self.host
            || (self.host.parse::<IpAddr>().is_err()
                && host
                    .strip_suffix(self.host.as_str())
                    .is_some_and(|rest| rest.ends_with('.')))
    }

    fn matches(&self, host: &str, port: u16) -> bool {
        self.matches_host(host) && self.port.is_none_or(|p| p == port)
    }
}

/// Why a URL may not be fetched; said to the model as the tool's error.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("only http and https URLs can be fetched, not `{0}:`")]
    Scheme(String),
    #[error("the URL has no host")]
    NoHost,
    #[error("`{0}` is in [tools.web_fetch] denied_hosts")]
    Denied(String),
    #[error(
        "`{host}` is {ip}, a loopback, private, link-local or otherwise non-public address; \
         web_fetch reaches only the public internet (an operator can list the host in \
         [tools.web_fetch] allowed_hosts)"
    )]
    Private { host: String, ip: IpAddr },
    #[error("`{host}` is in [tools.web_fetch] allowed_hosts for other ports than {port}")]
    OtherPort { host: String, port: u16 },
    #[error("`{0}` did not resolve to any address")]
    Unresolved(String),
}

/// `[tools.web_fetch]` allowed and denied hosts, shared with the resolver.
#[derive(Debug, Default)]
pub struct Egress {
    allowed: Vec<HostRule>,
    denied: Vec<HostRule>,
}

/// The host of a URL as the rules compare it: lowercase, no brackets, no final dot.
fn bare_host(url: &Url) -> Option<String> {
    let host = url.host_str()?;
    let host = host.trim_start_matches('[').trim_end_matches(']');
    Some(host.trim_end_matches('.').to_ascii_lowercase())
}

impl Egress {
    pub fn new(allowed: &[String], denied: &[String]) -> Self {
        Self {
            allowed: allowed.iter().map(|e| HostRule::parse(e)).collect(),
            denied: denied.iter().map(|e| HostRule::parse(e)).collect(),
        }
    }

    /// A host the operator listed in `allowed_hosts`, on any port.
    fn host_allowed(&self, host: &str) -> bool {
        self.allowed.iter().any(|r| r.matches_host(host))
    }

    /// Everything that can be judged before connecting: the scheme, the
    /// operator's lists, and a literal IP host. Called for every redirect.
    pub fn check_url(&self, url: &Url) -> Result<(), Refusal> {
        if !matches!(url.scheme(), "http" | "https") {
            return Err(Refusal::Scheme(url.scheme().to_string()));
        }
        let host = bare_host(url).ok_or(Refusal::NoHost)?;
        let port = url.port_or_known_default().unwrap_or(0);
        if self.denied.iter().any(|r| r.matches(&host, port)) {
            return Err(Refusal::Denied(host));
        }
        if self.allowed.iter().any(|r| r.matches(&host, port)) {
            return Ok(());
        }
        if let Ok(ip) = host.parse::<IpAddr>()
            && is_forbidden(ip)
        {
            return Err(Refusal::Private { host, ip });
        }
        // The resolver lets a listed host reach private addresses on any
        // port, so a host listed only with other ports is refused here.
        if self.host_allowed(&host) {
            return Err(Refusal::OtherPort { host, port });
        }
        Ok(())
    }

    /// Keep the addresses `host` may be reached at; an error when none is left.
    pub fn filter(&self, host: &str, addrs: Vec<SocketAddr>) -> Result<Vec<SocketAddr>, Refusal> {
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        if addrs.is_empty() {
            return Err(Refusal::Unresolved(host));
        }
        if self.host_allowed(&host) {
            return Ok(addrs);
        }
        let first = addrs[0].ip();
        let kept: Vec<SocketAddr> = addrs
            .into_iter()
            .filter(|a| !is_forbidden(a.ip()))
            .collect();
        if kept.is_empty() {
            return Err(Refusal::Private { host, ip: first });
        }
        Ok(kept)
    }
}

/// The client's DNS resolver: the system's lookup, then [`Egress::filter`].
#[derive(Debug, Clone)]
pub struct PolicyResolver(pub Arc<Egress>);

impl Resolve for PolicyResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let egress = self.0.clone();
        let host = name.as_str().to_string();
        Box::pin(async move {
            let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0))
                .await
                .map_err(|e| Box::new(e) as Box<dyn std::error::Error + Send + Sync>)?
                .collect();
            let kept = egress.filter(&host, addrs)?;
            Ok(Box::new(kept.into_iter()) as Addrs)
        })
    }
}

/// The policy's refusal inside a client error, if that is what failed.
pub fn refusal_in(error: &(dyn std::error::Error + 'static)) -> Option<Refusal> {
    let mut source = Some(error);
    while let Some(e) = source {
        if let Some(r) = e.downcast_ref::<Refusal>() {
            return Some(r.clone());
        }
        source = e.source();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    #[test]
    fn private_and_special_addresses_are_forbidden() {
        for ip in [
            "127.0.0.1",
            "127.8.9.10",
            "10.1.2.3",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "100.64.0.1",
            "100.127.255.254",
            "169.254.169.254",
            "0.0.0.0",
            "::1",
            "::",
            "fc00::1",
            "fd12:3456::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "::ffff:10.0.0.1",
            "::127.0.0.1",
            "64:ff9b::10.0.0.1",
            "2002:7f00:1::",
        ] {
            assert!(
                is_forbidden(ip.parse().unwrap()),
                "{ip} should be forbidden"
            );
        }
        for ip in [
            "93.184.216.34",
            "1.1.1.1",
            "172.32.0.1",
            "100.128.0.1",
            "2606:4700::1111",
            "::ffff:8.8.8.8",
        ] {
            assert!(!is_forbidden(ip.parse().unwrap()), "{ip} should be allowed");
        }
    }

    #[test]
    fn literal_hosts_schemes_and_lists() {
        let e = Egress::new(
            &["127.0.0.1:8080".into(), "intranet.lan".into()],
            &["evil.example".into()],
        );
        assert!(
            matches!(e.check_url(&url("file:///etc/passwd")), Err(Refusal::Scheme(s)) if s == "file")
        );
        assert!(matches!(
            e.check_url(&url("ftp://example.com/")),
            Err(Refusal::Scheme(_))
        ));
        assert!(matches!(
            e.check_url(&url("gopher://example.com/")),
            Err(Refusal::Scheme(_))
        ));
        assert!(matches!(
            e.check_url(&url("http://127.0.0.1:9000/")),
            Err(Refusal::Private { .. })
        ));
        assert!(matches!(
            e.check_url(&url("http://[::ffff:7f00:1]/")),
            Err(Refusal::Private { .. })
        ));
        // The WHATWG parser reads a bare number as an IPv4 address.
        assert!(matches!(
            e.check_url(&url("http://2130706433/")),
            Err(Refusal::Private { .. })
        ));
        assert!(matches!(
            e.check_url(&url("http://0x7f.1/")),
            Err(Refusal::Private { .. })
        ));
        assert_eq!(e.check_url(&url("http://127.0.0.1:8080/x")), Ok(()));
        assert_eq!(e.check_url(&url("https://example.com/")), Ok(()));
        assert!(matches!(
            e.check_url(&url("https://news.evil.example/")),
            Err(Refusal::Denied(_))
        ));
        assert!(matches!(
            e.check_url(&url("https://EVIL.example./")),
            Err(Refusal::Denied(_))
        ));
        assert_eq!(e.check_url(&url("https://notevil.example/")), Ok(()));
        let e = Egress::new(&["intranet.lan:8080".into()], &[]);
        assert_eq!(e.check_url(&url("http://intranet.lan:8080/")), Ok(()));
        assert!(matches!(
            e.check_url(&url("http://intranet.lan:22/")),
            Err(Refusal::OtherPort { .. })
        ));
    }

    #[test]
    fn resolved_addresses_are_filtered() {
        let e = Egress::new(&["intranet.lan".into()], &[]);
        let private: SocketAddr = "10.0.0.5:0".parse().unwrap();
        let public: SocketAddr = "93.184.216.34:0".parse().unwrap();
        assert!(matches!(
            e.filter("rebind.example", vec![private]),
            Err(Refusal::Private { .. })
        ));
        assert_eq!(
            e.filter("mixed.example", vec![private, public]),
            Ok(vec![public])
        );
        assert_eq!(e.filter("intranet.lan", vec![private]), Ok(vec![private]));
        assert!(matches!(
            e.filter("nothing.example", vec![]),
            Err(Refusal::Unresolved(_))
        ));
    }
}
