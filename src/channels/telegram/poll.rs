//! The long-polling loop: runs in a task owned by the actor and reports only
//! its end (lost connection or rejected token) back to the actor.

use super::api::TelegramError;
use super::handler::TelegramChannel;
use super::offset::OffsetStore;
use crate::channels::msg::ChannelMsg;
use ractor::ActorRef;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

const CONFLICT_BACKOFF_MAX: Duration = Duration::from_secs(60);

/// Poll until something fatal happens, then tell the actor.
pub async fn run(
    channel: Arc<TelegramChannel>,
    store: OffsetStore,
    poll_timeout: Duration,
    status: impl Fn(String) + Send,
    actor: ActorRef<ChannelMsg>,
) {
    let Err(e) = poll(&channel, &store, poll_timeout, &status).await;
    let msg = match e {
        TelegramError::Rejected { .. } => ChannelMsg::CredentialRejected(e.to_string()),
        e => ChannelMsg::ConnectionLost(e.to_string()),
    };
    // The actor may be gone already; then there is no one left to tell.
    let _ = actor.send_message(msg);
}

async fn poll(
    channel: &TelegramChannel,
    store: &OffsetStore,
    poll_timeout: Duration,
    status: &(impl Fn(String) + Send),
) -> Result<Infallible, TelegramError> {
    // Polling and a webhook exclude each other; switching back to polling must remove it.
    channel.api.delete_webhook().await?;
    status("polling".into());
    let mut offset = store.load().await;
    let mut conflict_wait = Duration::from_secs(1);
    loop {
        match channel.api.get_updates(offset, poll_timeout).await {
            Ok(updates) => {
                if conflict_wait > Duration::from_secs(1) {
                    status("polling".into());
                }
                conflict_wait = Duration::from_secs(1);
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
                    channel.handle_update(update).await?;
                    offset = Some(next);
                    store.save(next).await;
                }
            }
            Err(e @ TelegramError::Conflict(_)) => {
                tracing::warn!("telegram: {e}; retrying in {conflict_wait:?}");
                status(format!("polling, retrying: {e}"));
                tokio::time::sleep(conflict_wait).await;
                conflict_wait = (conflict_wait * 2).min(CONFLICT_BACKOFF_MAX);
            }
            Err(TelegramError::RateLimited(wait)) => {
                tracing::warn!("telegram: getUpdates rate limited, waiting {wait:?}");
                tokio::time::sleep(wait).await;
            }
            Err(e) => return Err(e),
        }
    }
}
