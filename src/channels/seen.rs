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

    /// `true` the first time an event with `id` is seen (and remembers it);
    /// an event without an id cannot be told from another and is always new.
    pub async fn first_sight(&self, id: Option<&str>) -> bool {
        let Some(id) = id else {
            return true;
        };
        if self.in_memory(id) {
            return false;
        }
        let new_to_store = match &self.store {
            None => true,
            Some(store) => match store
                .remember_event(self.channel.into(), id.into(), self.keep)
                .await
            {
                Ok(new) => new,
                Err(e) => {
                    tracing::warn!(
                        error = %e,
                        "{}: cannot record event {id} in the state store; \
                         a redelivery after a restart may be answered again",
                        self.channel
                    );
                    true
                }
            },
        };
        // Remembered either way; a second delivery that raced past the
        // memory check while the store answered finds the first here.
        self.remember(id) && new_to_store
    }

    fn in_memory(&self, id: &str) -> bool {
        self.recent
            .lock()
            .is_ok_and(|recent| recent.iter().any(|s| s == id))
    }

    /// Hold `id` in memory; `false` when it already was.
    fn remember(&self, id: &str) -> bool {
        let Ok(mut recent) = self.recent.lock() else {
            return true;
        };
        if recent.iter().any(|s| s == id) {
            return false;
        }
        if recent.len() >= self.keep {
            recent.pop_front();
        }
        recent.push_back(id.to_string());
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn an_id_is_new_once_in_memory_and_bounded() {
        let seen = Seen::new("slack", 2, Recent::default());
        assert!(seen.first_sight(Some("a")).await);
        assert!(!seen.first_sight(Some("a")).await);
        assert!(seen.first_sight(Some("b")).await);
        assert!(seen.first_sight(Some("c")).await);
        assert!(
            seen.first_sight(Some("a")).await,
            "the oldest id was let go"
        );
    }

    #[tokio::test]
    async fn the_store_knows_ids_a_fresh_memory_does_not() {
        let dir = tempfile::tempdir().unwrap();
        let db = crate::store::sqlite::in_dir(dir.path());
        let before = Seen::new("slack", 8, Recent::default()).with_store(Some(db.clone()));
        assert!(before.first_sight(Some("Ev1")).await);
        let after = Seen::new("slack", 8, Recent::default()).with_store(Some(db.clone()));
        assert!(
            !after.first_sight(Some("Ev1")).await,
            "known after a restart"
        );
        assert!(after.first_sight(Some("Ev2")).await);
        let other = Seen::new("telegram", 8, Recent::default()).with_store(Some(db));
        assert!(other.first_sight(Some("Ev1")).await, "ids are per channel");
    }
}
