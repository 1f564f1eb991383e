//! The `getUpdates` offset kept on disk, so that neither a restart of the
//! channel nor of the daemon answers an update twice.
//!
//! Telegram confirms updates only when the next `getUpdates` carries a higher
//! offset; an update answered just before a crash would otherwise come back.

use crate::store::Store;
use sha2::{Digest, Sha256};
use std::path::PathBuf;
use std::sync::Arc;

/// `<state_dir>/telegram.offset`: `<token fingerprint> <next offset>`. The
/// fingerprint keeps a new bot token from inheriting another bot's offset.
pub struct OffsetStore {
    path: PathBuf,
    fingerprint: String,
    /// A cluster's shared store: the offset lives there instead, so the
    /// instance that takes over polls on from where the last one stopped.
    shared: Option<Arc<dyn Store>>,
}

impl OffsetStore {
    pub fn new(path: PathBuf, token: &str) -> Self {
        let digest = Sha256::digest(token.as_bytes());
        Self {
            path,
            fingerprint: hex::encode(&digest[..8]),
            shared: None,
        }
    }

    pub fn with_shared(mut self, store: Option<Arc<dyn Store>>) -> Self {
        self.shared = store;
        self
    }

    /// The key in the shared store: per bot token, as the file's fingerprint.
    fn key(&self) -> String {
        format!("telegram:{}", self.fingerprint)
    }

    /// The saved offset, if any for this token (missing or unreadable = none).
    pub async fn load(&self) -> Option<i64> {
        if let Some(store) = &self.shared {
            return match store.channel_offset(self.key()).await {
                Ok(offset) => offset,
                Err(e) => {
                    tracing::warn!(error = %e, "telegram: cannot read the shared offset");
                    None
                }
            };
        }
        let text = tokio::fs::read_to_string(&self.path).await.ok()?;
        let (fp, offset) = text.trim().split_once(' ')?;
        if fp != self.fingerprint {
            return None;
        }
        offset.parse().ok()
    }

    /// Write atomically (temp file + rename). A failure is logged, not fatal:
    /// the offset still lives in memory and Telegram learns it on the next poll.
    pub async fn save(&self, offset: i64) {
        if let Some(store) = &self.shared {
            if let Err(e) = store.set_channel_offset(self.key(), offset).await {
                tracing::warn!(error = %e, "telegram: cannot save the shared offset");
            }
            return;
        }
        let tmp = self.path.with_extension("offset.tmp");
        let body = format!("{} {offset}\n", self.fingerprint);
        let result = async {
            if let Some(dir) = self.path.parent() {
                tokio::fs::create_dir_all(dir).await?;
            }
            tokio::fs::write(&tmp, body).await?;
            tokio::fs::rename(&tmp, &self.path).await
        }
        .await;
        if let Err(e) = result {
            tracing::warn!(
                "telegram: cannot save offset to {}: {e}",
                self.path.display()
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::OffsetStore;

    #[tokio::test]
    async fn round_trip_and_token_fingerprint() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("telegram.offset");
        let store = OffsetStore::new(path.clone(), "token-a");
        assert_eq!(store.load().await, None);
        store.save(42).await;
        assert_eq!(store.load().await, Some(42));
        assert_eq!(OffsetStore::new(path, "token-b").load().await, None);
    }
}
