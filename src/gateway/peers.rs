//! Connections per client address (`[gateway] max_connections_per_client`),
//! so that one address holding idle sockets cannot take every slot of
//! `max_connections`. See docs/security.md.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, MutexGuard};

/// Open connections by client address.
#[derive(Debug)]
pub struct PeerCounts {
    cap: Option<usize>,
    open: Mutex<HashMap<IpAddr, usize>>,
}

/// One connection counted against its address; released on drop.
#[derive(Debug)]
pub struct PeerSlot {
    counts: Arc<PeerCounts>,
    ip: IpAddr,
}

impl PeerCounts {
    /// `cap = None`: count, never refuse.
    pub fn new(cap: Option<usize>) -> Arc<Self> {
        Arc::new(Self {
            cap,
            open: Mutex::new(HashMap::new()),
        })
    }

    /// Count one more connection from `ip`, or `None` when it already holds
    /// the cap. `exempt` (a trusted proxy speaking for many clients) is
    /// counted but never refused.
    pub fn take(self: &Arc<Self>, ip: IpAddr, exempt: bool) -> Option<PeerSlot> {
        let ip = ip.to_canonical();
        let mut open = self.lock();
        let n = open.entry(ip).or_insert(0);
        if let Some(cap) = self.cap
            && !exempt
            && *n >= cap
        {
            return None;
        }
        *n += 1;
        Some(PeerSlot {
            counts: self.clone(),
            ip,
        })
    }

    /// The cap in force (`None` = no cap).
    pub fn cap(&self) -> Option<usize> {
        self.cap
    }

    /// Connections open from `ip` now.
    pub fn open_from(&self, ip: IpAddr) -> usize {
        self.lock().get(&ip.to_canonical()).copied().unwrap_or(0)
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<IpAddr, usize>> {
        self.open.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Drop for PeerSlot {
    fn drop(&mut self) {
        let mut open = self.counts.lock();
        if let Some(n) = open.get_mut(&self.ip) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                open.remove(&self.ip);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cap_per_address_released_on_drop() {
        let c = PeerCounts::new(Some(2));
        let a: IpAddr = [127, 0, 0, 2].into();
        let b: IpAddr = [127, 0, 0, 1].into();
        let s1 = c.take(a, false).unwrap();
        let _s2 = c.take(a, false).unwrap();
        assert!(c.take(a, false).is_none());
        assert!(c.take(a, true).is_some(), "exempt peers are not refused");
        assert!(
            c.take(b, false).is_some(),
            "another address is not affected"
        );
        drop(s1);
        assert!(c.take(a, false).is_some());
        let unlimited = PeerCounts::new(None);
        let held: Vec<_> = (0..100).map(|_| unlimited.take(a, false)).collect();
        assert!(held.iter().all(Option::is_some));
        drop(held);
        assert_eq!(unlimited.open_from(a), 0);
    }
}
