//! The events a channel accepted and has not finished with, kept by the
//! child spec so they outlive one start of the channel.
//!
//! A Discord dispatch, an acknowledged Slack envelope or a Telegram webhook
//! update is never sent again; a channel restarted (`zeroclaw restart`, a
//! lost connection, a crash) while its worker was still answering — say,
//! waiting out an outage of the service — would otherwise lose every event
//! still queued. The next start's worker takes up where the last one
//! stopped, oldest first. An event stays at the front until the worker
//! finished with it, so one cut off mid-answer is answered by the next
//! start; one that crashed the worker [`MAX_STRIKES`] times is dropped with
//! a log line, so a poisonous event cannot fail the channel for good. See
//! "What a component keeps across restarts" in `docs/architecture.md`.

use std::collections::VecDeque;
use std::sync::Arc;
use tokio::sync::watch;

/// Crashes of the worker on one event before the event is dropped.
pub const MAX_STRIKES: u32 = 2;

struct Entry<E> {
    event: Arc<E>,
    strikes: u32,
}

/// A bounded FIFO of accepted events, shared by every start of a channel.
pub struct Backlog<E> {
    queue: Arc<watch::Sender<VecDeque<Entry<E>>>>,
    capacity: usize,
}

impl<E> Clone for Backlog<E> {
    fn clone(&self) -> Self {
        Self {
            queue: self.queue.clone(),
            capacity: self.capacity,
        }
    }
}

impl<E: Send + Sync + 'static> Default for Backlog<E> {
    /// Room for the channel's usual queue (256 events).
    fn default() -> Self {
        Self::new(super::actor::QUEUE)
    }
}

impl<E: Send + Sync + 'static> Backlog<E> {
    /// An empty backlog that holds at most `capacity` events.
    pub fn new(capacity: usize) -> Self {
        Self {
            queue: Arc::new(watch::Sender::new(VecDeque::new())),
            capacity: capacity.max(1),
        }
    }

    /// Queue `event` without waiting; `false` (and nothing queued) when full.
    pub fn offer(&self, event: E) -> bool {
        self.try_push(event).is_ok()
    }

    /// Queue `event`, waiting for room.
    pub async fn push(&self, event: E) {
        let mut event = event;
        let mut rx = self.queue.subscribe();
        loop {
            // The sender lives in `self`, so the wait cannot fail.
            let _ = rx.wait_for(|q| q.len() < self.capacity).await;
            match self.try_push(event) {
                Ok(()) => return,
                Err(back) => event = back,
            }
        }
    }

    fn try_push(&self, event: E) -> Result<(), E> {
        let mut event = Some(event);
        self.queue.send_if_modified(|q| {
            if q.len() >= self.capacity {
                return false;
            }
            if let Some(event) = event.take() {
                q.push_back(Entry {
                    event: Arc::new(event),
                    strikes: 0,
                });
            }
            true
        });
        event.map_or(Ok(()), Err)
    }

    /// The oldest event not finished with, waiting for one. It stays queued
    /// until [`Backlog::done`].
    pub async fn next(&self) -> Arc<E> {
        let mut rx = self.queue.subscribe();
        loop {
            let front = rx
                .wait_for(|q| !q.is_empty())
                .await
                .ok()
                .and_then(|q| q.front().map(|e| e.event.clone()));
            if let Some(event) = front {
                return event;
            }
        }
    }

    /// The worker finished with `event` (answered, refused, or given up on):
    /// it leaves the queue.
    pub fn done(&self, event: &Arc<E>) {
        self.queue.send_if_modified(|q| {
            let front = q.front().is_some_and(|e| Arc::ptr_eq(&e.event, event));
            if front {
                q.pop_front();
            }
            front
        });
    }

    /// The worker crashed while the front event was being answered; after
    /// [`MAX_STRIKES`] such crashes the event is dropped. `true` when it was.
    pub fn strike(&self) -> bool {
        let mut dropped = false;
        self.queue.send_if_modified(|q| {
            let Some(front) = q.front_mut() else {
                return false;
            };
            front.strikes += 1;
            if front.strikes < MAX_STRIKES {
                return false;
            }
            q.pop_front();
            dropped = true;
            true
        });
        dropped
    }

    /// Every event finished with (returns at once when none is queued).
    pub async fn drained(&self) {
        let mut rx = self.queue.subscribe();
        let _ = rx.wait_for(VecDeque::is_empty).await;
    }

    /// The events queued now, oldest first.
    pub fn pending(&self) -> Vec<Arc<E>> {
        self.queue
            .borrow()
            .iter()
            .map(|e| e.event.clone())
            .collect()
    }

    /// How many events are queued.
    pub fn len(&self) -> usize {
        self.queue.borrow().len()
    }

    /// Whether no event is queued.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;
    use tokio::time::timeout;

    const SOON: Duration = Duration::from_secs(5);

    #[tokio::test]
    async fn an_event_stays_at_the_front_until_done_so_a_new_worker_gets_it_again() {
        let b = Backlog::new(4);
        assert!(b.offer("a"));
        assert!(b.offer("b"));
        let first = timeout(SOON, b.next()).await.unwrap();
        assert_eq!(*first, "a");
        // The worker is cut off here: the next start sees the same event.
        let again = timeout(SOON, b.clone().next()).await.unwrap();
        assert!(Arc::ptr_eq(&first, &again));
        b.done(&again);
        assert_eq!(*timeout(SOON, b.next()).await.unwrap(), "b");
        assert_eq!(b.len(), 1);
    }

    #[tokio::test]
    async fn a_full_backlog_refuses_offers_and_push_waits_for_room() {
        let b = Backlog::new(1);
        assert!(b.offer(1));
        assert!(!b.offer(2));
        let pusher = {
            let b = b.clone();
            tokio::spawn(async move { b.push(3).await })
        };
        let one = b.next().await;
        assert!(!pusher.is_finished());
        b.done(&one);
        timeout(SOON, pusher).await.unwrap().unwrap();
        assert_eq!(*b.next().await, 3);
    }

    #[tokio::test]
    async fn done_with_an_event_no_longer_at_the_front_removes_nothing() {
        let b = Backlog::new(4);
        b.offer("a");
        let a = b.next().await;
        b.done(&a);
        b.offer("b");
        b.done(&a);
        assert_eq!(b.len(), 1);
    }

    #[tokio::test]
    async fn an_event_that_crashes_the_worker_twice_is_dropped() {
        let b = Backlog::new(4);
        b.offer("poison");
        b.offer("next");
        assert!(!b.strike());
        assert_eq!(*b.next().await, "poison");
        assert!(b.strike());
        assert_eq!(*b.next().await, "next");
    }

    #[tokio::test]
    async fn drained_waits_until_every_event_is_done() {
        let b = Backlog::new(4);
        timeout(SOON, b.drained()).await.unwrap();
        b.offer("a");
        let waiter = {
            let b = b.clone();
            tokio::spawn(async move { b.drained().await })
        };
        let a = b.next().await;
        assert!(!waiter.is_finished());
        b.done(&a);
        timeout(SOON, waiter).await.unwrap().unwrap();
        assert!(b.is_empty());
    }
}
