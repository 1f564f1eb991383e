//! Event ids a channel has already accepted, so that a service's redelivery
//! (a Slack retry, an envelope whose ack was lost with the connection, a
//! Telegram webhook update it thinks failed) is not answered twice.
//!
//! The newest ids are held in memory, shared by every start of the channel
//! (the child spec keeps them), and written to the state store's
//! `remember_event`: so a redelivery that arrives after a restart of the
//! daemon, or at another instance of a cluster, is still known (see "What a
//! component keeps across restarts" in docs/architecture.md). A store that
//! cannot be reached costs the persistence, never the event: the memory
//! still answers and the event is taken.

use crate::store::Store;
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

/// The ids held in memory, shared across restarts of one channel.
pub type Recent = Arc<Mutex<VecDeque<String>>>;

/// One channel's record of the event ids it accepted.
pub struct Seen {
    /// The channel's key in the store (`slack`, `telegram`).
    channel: &'static str,
    /// How many ids are kept, in memory and in the store.
    keep: usize,
    recent: Recent,
    store: Option<Arc<dyn Store>>,
}

impl Seen {
    pub fn new(channel: &'static str, keep: usize, recent: Recent) -> Self {
        Self {
            channel,
            keep: keep.max(1),
            recent,
            store: None,
        }
    }

    /// Remember ids in the state store as well as in memory.
    pub fn with_store(mut self, store: Option<Arc<dyn Store>>) -> Self {
        self.store = store;
        self
    }

    /// `true` the first time `id` is seen (and remembers it).
    pub async fn first_sight(&self, id: &str) -> bool {
        if self.in_memory(id) {
            return false;
        }
        if let Some(store) = &self.store {
            let asked = store.remember_event(self.channel.into(), id.into(), self.keep);
            match asked.await {
                Ok(true) => {}
                Ok(false) => {
                    self.remember(id);
                    return false;
                }
                Err(e) => tracing::warn!(
                    error = %e,
                    "{}: cannot record event {id} in the state store; \
                     a redelivery after a restart may be answered again",
                    self.channel
                ),
            }
        }
        // A second delivery that raced past the memory check while the store
        // answered must still see the first.
        !self.in_memory(id) && self.remember(id)
    }

    fn in_memory(&self, id: &str) -> bool {
        self.recent
            .lock()
            .is_ok_and(|recent| recent.iter().any(|s| s == id))
    }

    /// Always `true`, for the tail of [`Seen::first_sight`].
    fn remember(&self, id: &str) -> bool {
        if let Ok(mut recent) = self.recent.lock() {
            if recent.len() >= self.keep {
                recent.pop_front();
            }
            recent.push_back(id.to_string());
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store(dir: &std::path::Path) -> Arc<dyn Store> {
        let db = crate::store::sqlite::Db::open(&dir.join("state.db")).unwrap();
        Arc::new(crate::store::sqlite::SqliteStore::new(db))
    }

    #[tokio::test]
    async fn an_id_is_new_once_in_memory_and_bounded() {
        let seen = Seen::new("slack", 2, Recent::default());
        assert!(seen.first_sight("a").await);
        assert!(!seen.first_sight("a").await);
        assert!(seen.first_sight("b").await);
        assert!(seen.first_sight("c").await);
        assert!(seen.first_sight("a").await, "the oldest id was let go");
    }

    #[tokio::test]
    async fn the_store_knows_ids_a_fresh_memory_does_not() {
        let dir = tempfile::tempdir().unwrap();
        let db = store(dir.path());
        let before = Seen::new("slack", 8, Recent::default()).with_store(Some(db.clone()));
        assert!(before.first_sight("Ev1").await);
        let after = Seen::new("slack", 8, Recent::default()).with_store(Some(db.clone()));
        assert!(!after.first_sight("Ev1").await, "known after a restart");
        assert!(after.first_sight("Ev2").await);
        let other = Seen::new("telegram", 8, Recent::default()).with_store(Some(db));
        assert!(other.first_sight("Ev1").await, "ids are per channel");
    }
}
