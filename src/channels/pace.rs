//! Per-chat pacing: services throttle bots that post to one chat too fast.

use std::collections::HashMap;
use std::time::Duration;
use tokio::sync::Mutex;
use tokio::time::{Instant, sleep_until};

/// Hands out send slots at most one per `interval` per chat; chats are independent.
pub struct Pacer {
    interval: Duration,
    next: Mutex<HashMap<String, Instant>>,
}

impl Pacer {
    pub fn new(interval: Duration) -> Self {
        Self {
            interval,
            next: Mutex::new(HashMap::new()),
        }
    }

    /// Wait until `chat` may be sent to, and reserve that slot.
    pub async fn wait(&self, chat: &str) {
        let slot = {
            let mut next = self.next.lock().await;
            let now = Instant::now();
            if next.len() > 10_000 {
                next.retain(|_, t| *t > now);
            }
            let slot = next.get(chat).copied().filter(|t| *t > now).unwrap_or(now);
            next.insert(chat.to_string(), slot + self.interval);
            slot
        };
        sleep_until(slot).await;
    }
}

#[cfg(test)]
mod tests {
    use super::Pacer;
    use std::time::Duration;
    use tokio::time::Instant;

    #[tokio::test]
    async fn one_slot_per_interval_per_chat() {
        let gap = Duration::from_millis(50);
        let pacer = Pacer::new(gap);
        let start = Instant::now();
        pacer.wait("a").await;
        pacer.wait("b").await;
        assert!(
            start.elapsed() < gap,
            "different chats do not wait for each other"
        );
        pacer.wait("a").await;
        pacer.wait("a").await;
        assert!(start.elapsed() >= gap * 2);
    }
}
