//! The long-polling loop, the channel's receiver in polling mode. Updates go
//! to the worker; a batch is confirmed to Telegram (by the next poll's
//! offset) only once the worker has answered it and saved its offset, so
//! neither a restart of the channel nor of the daemon answers an update
//! twice, and stopping the loop at any point loses nothing. In a cluster
//! each update is claimed in the leader's term before the worker gets it
//! ([`super::claims`]), so a leader that lost its lease confirms nothing.

use super::api::TelegramError;
use super::channel::{Incoming, Telegram};
use crate::channels::platform::Link;
use std::time::Duration;

const CONFLICT_BACKOFF_MAX: Duration = Duration::from_secs(60);

/// Poll until something fatal happens.
pub async fn run(tg: &Telegram, link: &Link<Incoming>) -> Result<(), TelegramError> {
    // Polling and a webhook exclude each other; switching back to polling must remove it.
    tg.api.delete_webhook().await?;
    link.contact();
    link.status("polling");
    let mut offset = tg.store.load().await;
    // Updates an earlier start took and did not finish are still in the
    // backlog: the worker answers them first, and they are confirmed to
    // Telegram (by the next offset) only once it has, as for a batch below.
    if let Some(last) = link.pending().iter().filter_map(|e| e.next_offset).max() {
        let mut saved = tg.saved.subscribe();
        let _ = saved.wait_for(|s| s.is_some_and(|s| s >= last)).await;
        offset = offset.max(Some(last));
    }
    // Another poller holds the bot: give it at least one poll to finish.
    let first_wait = tg.poll_timeout.max(Duration::from_secs(1));
    let mut conflict_wait = first_wait;
    loop {
        match tg.api.get_updates(offset, tg.poll_timeout).await {
            Ok(updates) => {
                link.touch();
                if conflict_wait > first_wait {
                    link.status("polling");
                }
                conflict_wait = first_wait;
                let mut last = None;
                for update in updates {
                    // A server sending i64::MAX must not overflow us: skip it.
                    let Some(next) = update.update_id.checked_add(1) else {
                        tracing::warn!(
                            update_id = update.update_id,
                            "telegram: update id out of range; skipped"
                        );
                        continue;
                    };
                    if offset.is_some_and(|o| next <= o) {
                        continue; // already handled
                    }
                    let next_offset = Some(next);
                    // In a cluster: another term answered it (skip it), or
                    // this instance no longer leads (wait here, confirming
                    // nothing, until it leads again or is stopped).
                    if !tg.claims.wait_for(update.update_id).await {
                        offset = next_offset;
                        continue;
                    }
                    link.send(Incoming {
                        update,
                        next_offset,
                    })
                    .await;
                    (offset, last) = (next_offset, next_offset);
                }
                if let Some(last) = last {
                    // The worker ends (and the channel with it) rather than
                    // skip an update, so this waits for the batch to be done.
                    let mut saved = tg.saved.subscribe();
                    let _ = saved.wait_for(|s| s.is_some_and(|s| s >= last)).await;
                }
            }
            Err(e @ TelegramError::Conflict(_)) => {
                tracing::warn!("telegram: {e}; retrying in {conflict_wait:?}");
                link.status(format!("polling, retrying: {e}"));
                tokio::time::sleep(conflict_wait).await;
                conflict_wait = (conflict_wait * 2).min(CONFLICT_BACKOFF_MAX.max(first_wait));
            }
            Err(TelegramError::RateLimited(wait)) => {
                tracing::warn!("telegram: getUpdates rate limited, waiting {wait:?}");
                tokio::time::sleep(wait).await;
            }
            Err(e) => return Err(e),
        }
    }
}
