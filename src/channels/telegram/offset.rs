//! The `getUpdates` offset kept in the state store, so that neither a restart
//! of the channel nor of the daemon answers an update twice.
//!
//! Telegram confirms updates only when the next `getUpdates` carries a higher
//! offset; an update answered just before a crash would otherwise come back.
//! The offset lives in the store every other piece of state lives in (the
//! state database, or a cluster's shared database, see
//! `docs/architecture.md`). Releases before it kept the offset in
//! `<state_dir>/telegram.offset`; that file is still read when the store has
//! no offset yet, so an upgrade does not answer old updates again, and it is
//! the fallback when no store could be opened.

use crate::store::Store;
use sha2::{Digest, Sha256};
use std::path::PathBuf;
use std::sync::Arc;

/// Where the offset of one bot is kept, keyed by a fingerprint of its token
/// so that a new bot token does not inherit another bot's offset.
pub struct OffsetStore {
    /// `<state_dir>/telegram.offset` (`<token fingerprint> <next offset>`):
    /// read when the store has none yet, written only when there is no store.
    path: PathBuf,
    fingerprint: String,
    /// The state store; in a cluster the shared one, so the instance that
    /// takes over polls on from where the last one stopped.
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
            match store.channel_offset(self.key()).await {
                Ok(Some(offset)) => return Some(offset),
                Ok(None) => {}
                Err(e) => {
                    tracing::warn!(error = %e, "telegram: cannot read the saved offset");
                }
            }
        }
        self.load_file().await
    }

    /// The offset in the file of earlier releases (or of a daemon without a store).
    async fn load_file(&self) -> Option<i64> {
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
                tracing::warn!(error = %e, "telegram: cannot save the offset");
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
    async fn the_offset_lives_in_the_store_and_the_old_file_is_read_once_empty() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("telegram.offset");
        OffsetStore::new(path.clone(), "token-a").save(41).await;
        let store = crate::store::sqlite::in_dir(dir.path());
        let offsets = OffsetStore::new(path.clone(), "token-a").with_shared(Some(store.clone()));
        assert_eq!(
            offsets.load().await,
            Some(41),
            "an upgrade keeps the file's offset"
        );
        offsets.save(42).await;
        assert_eq!(offsets.load().await, Some(42));
        let file = std::fs::read_to_string(&path).unwrap();
        assert!(
            file.ends_with(" 41\n"),
            "with a store the file is not written: {file}"
        );
        let other = OffsetStore::new(path, "token-b").with_shared(Some(store));
        assert_eq!(other.load().await, None, "another bot starts afresh");
    }

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
