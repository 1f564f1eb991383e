//! A bounded map whose entries expire: the memory behind idempotency keys
//! and webhook de-duplication.
//!
//! Hand-written (about 60 lines) rather than pulling in a cache crate such as
//! moka: the gateway needs only insert-if-absent, get, remove and eviction of
//! the oldest entry, under one short lock, and a crate would bring its own
//! background threads.

use std::collections::{HashMap, VecDeque};
use std::hash::Hash;
use std::time::Duration;
use tokio::time::Instant;

/// Entries live at most `ttl`; past `capacity` the oldest is dropped first,
/// so a flood of distinct keys costs bounded memory.
pub struct TtlMap<K, V> {
    ttl: Duration,
    capacity: usize,
    entries: HashMap<K, (Instant, V)>,
    /// Insertion order, for expiry and eviction; may hold keys already removed.
    order: VecDeque<(Instant, K)>,
}

impl<K: Eq + Hash + Clone, V> TtlMap<K, V> {
    pub fn new(ttl: Duration, capacity: usize) -> Self {
        Self {
            ttl,
            capacity: capacity.max(1),
            entries: HashMap::new(),
            order: VecDeque::new(),
        }
    }

    /// The live value under `key`.
    pub fn get(&mut self, key: &K) -> Option<&V> {
        self.expire(Instant::now());
        self.entries.get(key).map(|(_, v)| v)
    }

    /// Insert unless a live entry exists; `true` when inserted.
    pub fn insert_if_absent(&mut self, key: K, value: V) -> bool {
        let now = Instant::now();
        self.expire(now);
        if self.entries.contains_key(&key) {
            return false;
        }
        self.put(now, key, value);
        true
    }

    /// Insert or replace; the entry's lifetime restarts.
    pub fn insert(&mut self, key: K, value: V) {
        let now = Instant::now();
        self.expire(now);
        self.put(now, key, value);
    }

    pub fn remove(&mut self, key: &K) -> Option<V> {
        self.entries.remove(key).map(|(_, v)| v)
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    fn put(&mut self, now: Instant, key: K, value: V) {
        while self.entries.len() >= self.capacity {
            let Some((at, old)) = self.order.pop_front() else {
                break;
            };
            self.remove_if_stamped(&old, at);
        }
        self.order.push_back((now, key.clone()));
        self.entries.insert(key, (now, value));
    }

    /// Drop expired entries from the front of the insertion order.
    fn expire(&mut self, now: Instant) {
        while let Some((at, _)) = self.order.front() {
            if now.saturating_duration_since(*at) < self.ttl {
                break;
            }
            if let Some((at, key)) = self.order.pop_front() {
                self.remove_if_stamped(&key, at);
            }
        }
        // Keys removed or replaced leave stale order entries; keep them bounded.
        if self.order.len() > self.capacity.saturating_mul(2) {
            let entries = &self.entries;
            self.order
                .retain(|(at, k)| entries.get(k).is_some_and(|(stamp, _)| stamp == at));
        }
    }

    /// Remove `key` only if it is the same insertion as the order entry.
    fn remove_if_stamped(&mut self, key: &K, at: Instant) {
        if self.entries.get(key).is_some_and(|(stamp, _)| *stamp == at) {
            self.entries.remove(key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn entries_expire_after_ttl() {
        let mut m = TtlMap::new(Duration::from_secs(10), 100);
        assert!(m.insert_if_absent("a", 1));
        assert!(!m.insert_if_absent("a", 2));
        assert_eq!(m.get(&"a"), Some(&1));
        tokio::time::advance(Duration::from_secs(11)).await;
        assert_eq!(m.get(&"a"), None);
        assert!(m.insert_if_absent("a", 3));
    }

    #[tokio::test(start_paused = true)]
    async fn capacity_evicts_oldest_first() {
        let mut m = TtlMap::new(Duration::from_secs(60), 3);
        for k in 0..5 {
            m.insert(k, k);
            tokio::time::advance(Duration::from_millis(1)).await;
        }
        assert_eq!(m.len(), 3);
        assert_eq!(m.get(&0), None);
        assert_eq!(m.get(&1), None);
        assert_eq!(m.get(&4), Some(&4));
    }

    #[tokio::test(start_paused = true)]
    async fn replaced_entry_is_not_expired_by_its_old_stamp() {
        let mut m = TtlMap::new(Duration::from_secs(10), 100);
        m.insert("k", 1);
        tokio::time::advance(Duration::from_secs(8)).await;
        m.insert("k", 2);
        tokio::time::advance(Duration::from_secs(5)).await;
        assert_eq!(m.get(&"k"), Some(&2));
    }
}
