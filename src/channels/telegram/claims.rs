//! Polled updates are claimed in the store before they are answered and
//! marked delivered right before the answer goes out (see
//! [`crate::store::Claim`]): in a cluster, a leader paused past its lease
//! that wakes up with an update in hand neither answers it a second time
//! nor keeps it from the new leader. A single instance's store always says
//! yes without a query.

use crate::store::{Claim, Store};
use std::sync::Arc;
use std::time::Duration;

/// The channel's key in the claims.
const CHANNEL: &str = "telegram";
/// How long to wait before asking again while the store cannot answer.
const RETRY: Duration = Duration::from_millis(500);

/// Cheap to clone.
#[derive(Clone, Default)]
pub struct Claims {
    store: Option<Arc<dyn Store>>,
}

impl Claims {
    pub fn with_store(store: Option<Arc<dyn Store>>) -> Self {
        Self { store }
    }

    /// Whether this instance may answer update `id` now. A store that
    /// cannot be reached counts as not leading: the update is neither
    /// answered nor confirmed until it answers (a leader that cannot reach
    /// the database steps down anyway).
    pub async fn claim(&self, id: i64) -> Claim {
        let Some(store) = &self.store else {
            return Claim::Mine;
        };
        match store.claim_update(CHANNEL.into(), id).await {
            Ok(claim) => claim,
            Err(e) => {
                tracing::warn!(error = %e, update_id = id, "telegram: cannot claim the update; retrying");
                Claim::NotLeading
            }
        }
    }

    /// Right before sending the answer to update `id`: `false` when a newer
    /// term of the lease took it over. Waits out a store that cannot be
    /// reached: sending without the mark could answer twice, skipping
    /// could answer never; the channel is stopped if the lease is lost.
    pub async fn deliver(&self, id: i64) -> bool {
        let Some(store) = &self.store else {
            return true;
        };
        loop {
            match store.deliver_update(CHANNEL.into(), id).await {
                Ok(mine) => return mine,
                Err(e) => {
                    tracing::warn!(error = %e, update_id = id, "telegram: cannot mark the update delivered; retrying");
                    tokio::time::sleep(RETRY).await;
                }
            }
        }
    }

    /// Until this instance may answer update `id` (`true`) or another
    /// answered it (`false`).
    pub async fn wait_for(&self, id: i64) -> bool {
        loop {
            match self.claim(id).await {
                Claim::Mine => return true,
                Claim::Taken => return false,
                Claim::NotLeading => tokio::time::sleep(RETRY).await,
            }
        }
    }
}
