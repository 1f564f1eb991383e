//! A short per-URL memory of fetched pages: a job that reads the same page
//! twice in a run (or two sessions reading one article) costs one request.
//! Bounded in entries and bytes; entries expire after `cache_ttl`.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::Duration;
use tokio::time::Instant;

/// Pages kept at most.
const MAX_ENTRIES: usize = 32;
/// Bytes of text kept at most, all entries together.
const MAX_BYTES: usize = 2 * 1024 * 1024;

#[derive(Debug)]
struct Entry {
    url: String,
    text: String,
    stored: Instant,
}

/// Oldest first; small enough that a linear scan is cheaper than a map.
#[derive(Debug)]
pub struct Cache {
    ttl: Duration,
    entries: Mutex<VecDeque<Entry>>,
}

impl Cache {
    pub fn new(ttl: Duration) -> Self {
        Self {
            ttl,
            entries: Mutex::new(VecDeque::new()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, VecDeque<Entry>> {
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn get(&self, url: &str) -> Option<String> {
        if self.ttl.is_zero() {
            return None;
        }
        let mut entries = self.lock();
        let now = Instant::now();
        entries.retain(|e| now.duration_since(e.stored) < self.ttl);
        entries
            .iter()
            .find(|e| e.url == url)
            .map(|e| e.text.clone())
    }

    pub fn put(&self, url: &str, text: &str) {
        if self.ttl.is_zero() || text.len() > MAX_BYTES {
            return;
        }
        let mut entries = self.lock();
        entries.retain(|e| e.url != url);
        entries.push_back(Entry {
            url: url.to_string(),
            text: text.to_string(),
            stored: Instant::now(),
        });
        let mut total: usize = entries.iter().map(|e| e.text.len() + e.url.len()).sum();
        while entries.len() > MAX_ENTRIES || total > MAX_BYTES {
            match entries.pop_front() {
                Some(old) => total -= old.text.len() + old.url.len(),
                None => break,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn entries_expire_and_are_bounded() {
        let cache = Cache::new(Duration::from_secs(60));
        cache.put("https://a/", "A");
        assert_eq!(cache.get("https://a/").as_deref(), Some("A"));
        tokio::time::advance(Duration::from_secs(61)).await;
        assert_eq!(cache.get("https://a/"), None);
        for i in 0..100 {
            cache.put(&format!("https://p/{i}"), "x");
        }
        assert_eq!(cache.lock().len(), MAX_ENTRIES);
        assert_eq!(cache.get("https://p/0"), None);
        assert!(cache.get("https://p/99").is_some());
        let big = "y".repeat(MAX_BYTES / 2);
        cache.put("https://big/1", &big);
        cache.put("https://big/2", &big);
        let total: usize = cache
            .lock()
            .iter()
            .map(|e| e.text.len() + e.url.len())
            .sum();
        assert!(total <= MAX_BYTES);
        assert!(Cache::new(Duration::ZERO).get("https://a/").is_none());
    }
}
