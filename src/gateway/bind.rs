//! Binding the listening socket, and explaining why it failed.

use super::error::GatewayError;
use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;
use tokio::net::{TcpListener, TcpSocket};

/// Queue of connections the kernel holds for us while all
/// `max_connections` slots are taken (excess clients wait here).
const MIN_BACKLOG: u32 = 1024;

/// `true` for `127.0.0.0/8`, `::1` and `localhost`: addresses other machines
/// cannot reach, where the gateway may run without an auth token.
pub fn is_loopback_host(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost")
        || host
            .trim_matches(['[', ']'])
            .parse::<IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// Resolve `[gateway] host`.
pub async fn resolve(host: &str, port: u16) -> Result<SocketAddr, GatewayError> {
    let bare = host.trim_matches(['[', ']']);
    if let Ok(ip) = bare.parse::<IpAddr>() {
        return Ok(SocketAddr::new(ip, port));
    }
    if host.eq_ignore_ascii_case("localhost") {
        return Ok(SocketAddr::new(Ipv4Addr::LOCALHOST.into(), port));
    }
    let mut addrs =
        tokio::net::lookup_host((host, port))
            .await
            .map_err(|e| GatewayError::BadHost {
                host: host.into(),
                reason: e.to_string(),
            })?;
    addrs.next().ok_or_else(|| GatewayError::BadHost {
        host: host.into(),
        reason: "the name resolves to no address".into(),
    })
}

/// Bind and listen. An address in use is a failed start with a diagnosis,
/// never a retry loop (the supervisor's start limit decides what follows).
pub async fn bind(
    addr: SocketAddr,
    max_connections: usize,
    tls: bool,
) -> Result<TcpListener, GatewayError> {
    match try_bind(addr, max_connections) {
        Ok(l) => Ok(l),
        Err(e) if e.kind() == io::ErrorKind::AddrInUse => Err(GatewayError::AddrInUse {
            addr,
            port: addr.port(),
            occupant: probe(addr, tls).await,
        }),
        Err(source) => Err(GatewayError::Bind {
            addr: addr.to_string(),
            source,
        }),
    }
}

fn try_bind(addr: SocketAddr, max_connections: usize) -> io::Result<TcpListener> {
    let socket = if addr.is_ipv4() {
        TcpSocket::new_v4()?
    } else {
        TcpSocket::new_v6()?
    };
    // SO_REUSEADDR lets a restarted gateway rebind while its old
    // connections sit in TIME_WAIT; it does not allow two live listeners.
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    let backlog = u32::try_from(max_connections)
        .unwrap_or(u32::MAX)
        .max(MIN_BACKLOG);
    socket.listen(backlog)
}

/// Say what occupies `addr`: ask `/health` there, as an operator would.
pub async fn probe(addr: SocketAddr, tls: bool) -> String {
    let host = match addr.ip() {
        ip if ip.is_unspecified() && ip.is_ipv4() => IpAddr::from(Ipv4Addr::LOCALHOST),
        ip if ip.is_unspecified() => IpAddr::from(std::net::Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    let target = SocketAddr::new(host, addr.port());
    let client = match crate::http::unverified_builder()
        .timeout(Duration::from_secs(2))
        .no_proxy()
        .tls_danger_accept_invalid_certs(true)
        .build()
    {
        Ok(c) => c,
        Err(e) => return format!("could not probe it ({e})"),
    };
    let schemes: &[&str] = if tls {
        &["https", "http"]
    } else {
        &["http", "https"]
    };
    for scheme in schemes {
        let url = format!("{scheme}://{target}/health");
        let Ok(resp) = client.get(&url).send().await else {
            continue;
        };
        let status = resp.status();
        let body: Option<serde_json::Value> = resp.json().await.ok();
        if let Some(version) = body
            .as_ref()
            .filter(|b| b.get("components").is_some())
            .and_then(|b| b.get("version"))
            .and_then(|v| v.as_str())
        {
            return format!(
                "a zeroclaw gateway (version {version}) already answers {url} — another \
                 zeroclaw daemon or `zeroclaw gateway` is running (see `zeroclaw status`)"
            );
        }
        return format!(
            "another HTTP server answers there (GET {url} gave {status}), not a zeroclaw"
        );
    }
    "the program holding it does not answer HTTP on /health, so it is not a zeroclaw gateway".into()
}

/// Check at daemon start that the configured address can be bound, so a
/// taken port fails the start (and `--background`'s parent reports it)
/// instead of sending the gateway child into a backoff loop.
pub async fn preflight(config: &crate::config::GatewayConfig) -> Result<(), GatewayError> {
    if config.port == 0 {
        return Ok(());
    }
    let addr = resolve(&config.host, config.port).await?;
    bind(addr, 1, config.tls_cert.is_some()).await.map(drop)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_hosts() {
        assert!(is_loopback_host("127.0.0.1"));
        assert!(is_loopback_host("localhost"));
        assert!(is_loopback_host("::1"));
        assert!(is_loopback_host("[::1]"));
        assert!(!is_loopback_host("0.0.0.0"));
        assert!(!is_loopback_host("192.168.1.100"));
    }
}
