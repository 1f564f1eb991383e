//! `X-Idempotency-Key`: a retried `/webhook` request gets the first answer
//! instead of asking the agent twice.
//!
//! A key is claimed by the first request; retries that arrive while it is
//! still being answered wait for that answer rather than racing it. Only
//! successful answers are remembered (a failure leaves the key free, so a
//! retry tries again). Keys live for a bounded time in a bounded map.

use super::ttl::TtlMap;
use sha2::{Digest, Sha256};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tokio::sync::watch;

/// How long an answer is replayed, and how many keys are kept at most.
pub const DEFAULT_TTL: Duration = Duration::from_secs(24 * 60 * 60);
pub const DEFAULT_CAPACITY: usize = 10_000;

/// Longest key accepted, so the store's memory stays bounded.
pub const MAX_KEY_LEN: usize = 256;

type Answer = Option<Arc<str>>;

struct Slot {
    body_hash: [u8; 32],
    answer: watch::Receiver<Answer>,
}

/// Shared by every request of one gateway.
#[derive(Clone)]
pub struct IdempotencyStore {
    map: Arc<Mutex<TtlMap<String, Slot>>>,
}

/// What a request carrying a key should do.
pub enum Claim {
    /// First with this key: answer, then [`Pending::complete`].
    First(Pending),
    /// Answered before: send this body again.
    Replay(Arc<str>),
    /// The key was used with a different body.
    Conflict,
}

/// The right to answer a key; dropped without completing (an error, a
/// client gone), it frees the key for the next retry.
pub struct Pending {
    map: Arc<Mutex<TtlMap<String, Slot>>>,
    key: String,
    tx: watch::Sender<Answer>,
    done: bool,
}

impl IdempotencyStore {
    pub fn new(ttl: Duration, capacity: usize) -> Self {
        Self {
            map: Arc::new(Mutex::new(TtlMap::new(ttl, capacity))),
        }
    }

    /// Claim `key` for a request with this `body`, waiting if another request
    /// with the same key is being answered now.
    pub async fn claim(&self, key: &str, body: &[u8]) -> Claim {
        let body_hash: [u8; 32] = Sha256::digest(body).into();
        loop {
            let mut rx = {
                let mut map = lock(&self.map);
                match map.get(&key.to_string()) {
                    Some(slot) if slot.body_hash != body_hash => return Claim::Conflict,
                    Some(slot) => {
                        if let Some(answer) = slot.answer.borrow().clone() {
                            return Claim::Replay(answer);
                        }
                        slot.answer.clone()
                    }
                    None => {
                        let (tx, answer) = watch::channel(None);
                        map.insert(key.to_string(), Slot { body_hash, answer });
                        return Claim::First(Pending {
                            map: self.map.clone(),
                            key: key.to_string(),
                            tx,
                            done: false,
                        });
                    }
                }
            };
            // Wait for the first request to finish; if it gives up (its
            // sender is dropped), try to claim the key again.
            while rx.changed().await.is_ok() {
                if let Some(answer) = rx.borrow().clone() {
                    return Claim::Replay(answer);
                }
            }
        }
    }

    pub fn len(&self) -> usize {
        lock(&self.map).len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Pending {
    /// Remember `answer` for the key and hand it to waiting retries.
    pub fn complete(mut self, answer: Arc<str>) {
        self.done = true;
        self.tx.send_replace(Some(answer));
    }
}

impl Drop for Pending {
    fn drop(&mut self) {
        if self.done {
            return;
        }
        let mut map = lock(&self.map);
        let ours = map
            .get(&self.key)
            .is_some_and(|slot| slot.answer.same_channel(&self.tx.subscribe()));
        if ours {
            map.remove(&self.key);
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fresh store in which `key` with `body` has just been claimed first.
    async fn claimed(key: &str, body: &[u8]) -> (IdempotencyStore, Pending) {
        let store = IdempotencyStore::new(DEFAULT_TTL, 10);
        let Claim::First(p) = store.claim(key, body).await else {
            panic!("expected first")
        };
        (store, p)
    }

    /// Claims `k` with body `b` again in a task and maps the outcome with `f`.
    fn claim_again<T: Send + 'static>(
        store: &IdempotencyStore,
        f: impl FnOnce(Claim) -> T + Send + 'static,
    ) -> tokio::task::JoinHandle<T> {
        let store = store.clone();
        tokio::spawn(async move { f(store.claim("k", b"b").await) })
    }

    #[tokio::test]
    async fn first_answer_is_replayed() {
        let (store, p) = claimed("k", b"body").await;
        p.complete("answer".into());
        match store.claim("k", b"body").await {
            Claim::Replay(a) => assert_eq!(&*a, "answer"),
            _ => panic!("expected replay"),
        }
        assert!(matches!(store.claim("k", b"other").await, Claim::Conflict));
    }

    #[tokio::test]
    async fn abandoned_claim_frees_the_key_and_waiters_retry() {
        let (store, p) = claimed("k", b"b").await;
        let waiter = claim_again(&store, |claim| match claim {
            Claim::First(p2) => {
                p2.complete("second".into());
                "took over"
            }
            _ => "other",
        });
        drop(p);
        assert_eq!(waiter.await.unwrap(), "took over");
        assert!(matches!(store.claim("k", b"b").await, Claim::Replay(a) if &*a == "second"));
    }

    #[tokio::test]
    async fn concurrent_retry_waits_for_the_first_answer() {
        let (store, p) = claimed("k", b"b").await;
        let waiter = claim_again(&store, |claim| match claim {
            Claim::Replay(a) => a.to_string(),
            _ => "not a replay".into(),
        });
        tokio::task::yield_now().await;
        p.complete("one".into());
        assert_eq!(waiter.await.unwrap(), "one");
    }
}
