//! Per-client rate limiting (`[gateway] rate_limit`, requests per minute).
//!
//! Built on `governor` directly rather than through tower_governor's layer:
//! the gateway needs its own client-IP rule (`trust_forwarded_for`, taking the
//! proxy-appended address rather than a spoofable leftmost one), its own JSON
//! 429 body, and a periodic clean-up it can drive from the accept loop. The
//! GCRA maths, the keyed store and the clock are governor's.

use super::error::ApiError;
use axum::http::{HeaderMap, StatusCode};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;

/// One keyed limiter: a client may send `per_minute` requests at once (the
/// burst) and then one every `60 s / per_minute`.
pub struct ClientLimiter {
    limiter: DefaultKeyedRateLimiter<IpAddr>,
    per_minute: NonZeroU32,
}

impl ClientLimiter {
    /// `None` when `per_minute` is 0 (unlimited).
    pub fn per_minute(per_minute: u32) -> Option<Self> {
        let per_minute = NonZeroU32::new(per_minute)?;
        Some(Self {
            limiter: RateLimiter::keyed(Quota::per_minute(per_minute)),
            per_minute,
        })
    }

    /// Admit one request from `client` or say, in whole seconds, when to retry.
    pub fn check(&self, client: IpAddr) -> Result<(), ApiError> {
        match self.limiter.check_key(&client) {
            Ok(()) => Ok(()),
            Err(not_until) => {
                let wait = not_until.wait_time_from(DefaultClock::default().now());
                let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
                Err(ApiError::new(
                    StatusCode::TOO_MANY_REQUESTS,
                    "rate_limited",
                    format!(
                        "more than {} requests per minute from {client} ([gateway] rate_limit); \
                         retry after {} s",
                        self.per_minute,
                        secs.max(1)
                    ),
                )
                .retry_after(secs.max(1)))
            }
        }
    }

    /// Forget clients whose allowance is full again, so memory follows the
    /// number of recently active clients only.
    pub fn cleanup(&self) {
        self.limiter.retain_recent();
        self.limiter.shrink_to_fit();
    }

    pub fn tracked_clients(&self) -> usize {
        self.limiter.len()
    }
}

/// The client's address: the TCP peer, or — when the gateway sits behind a
/// reverse proxy and `trust_forwarded_for` is on — the address the proxy
/// reports (the accept loop removes these headers on connections from peers
/// outside `trusted_proxies`, so only a proxy's copies get here): `X-Real-IP` (the seed guide's nginx example sets it), else the
/// rightmost `X-Forwarded-For` entry, the one the proxy itself appended
/// (entries to its left come from the client and can be forged).
pub fn client_ip(peer: SocketAddr, headers: &HeaderMap, trust_forwarded_for: bool) -> IpAddr {
    if !trust_forwarded_for {
        return peer.ip();
    }
    let parse = |v: &str| v.trim().parse::<IpAddr>().ok();
    if let Some(ip) = headers
        .get("x-real-ip")
        .and_then(|v| v.to_str().ok())
        .and_then(parse)
    {
        return ip;
    }
    headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(parse)
        .next_back()
        .unwrap_or(peer.ip())
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn burst_then_429_with_retry_after() {
        let lim = ClientLimiter::per_minute(3).unwrap();
        let ip: IpAddr = [10, 0, 0, 1].into();
        for _ in 0..3 {
            assert!(lim.check(ip).is_ok());
        }
        let err = lim.check(ip).unwrap_err();
        assert_eq!(err.status, StatusCode::TOO_MANY_REQUESTS);
        let after = err.retry_after.unwrap();
        assert!((1..=20).contains(&after), "{after}");
        // Another client is not affected.
        assert!(lim.check([10, 0, 0, 2].into()).is_ok());
        assert!(ClientLimiter::per_minute(0).is_none());
    }

    #[test]
    fn forwarded_for_only_when_trusted() {
        let peer: SocketAddr = "127.0.0.1:5000".parse().unwrap();
        let mut h = HeaderMap::new();
        h.insert(
            "x-forwarded-for",
            HeaderValue::from_static("6.6.6.6, 203.0.113.7"),
        );
        assert_eq!(client_ip(peer, &h, false), peer.ip());
        assert_eq!(
            client_ip(peer, &h, true),
            "203.0.113.7".parse::<IpAddr>().unwrap()
        );
        h.insert("x-real-ip", HeaderValue::from_static("198.51.100.2"));
        assert_eq!(
            client_ip(peer, &h, true),
            "198.51.100.2".parse::<IpAddr>().unwrap()
        );
        let mut junk = HeaderMap::new();
        junk.insert("x-forwarded-for", HeaderValue::from_static("nonsense"));
        assert_eq!(client_ip(peer, &junk, true), peer.ip());
    }
}
