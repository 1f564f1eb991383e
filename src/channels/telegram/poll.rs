//! The long-polling loop: runs in a task owned by the actor and reports only
//! its end (lost connection or rejected token) back to the actor.

use super::api::TelegramError;
use super::handler::TelegramChannel;
use super::offset::OffsetStore;
use crate::channels::msg::ChannelMsg;
use ractor::ActorRef;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

const CONFLICT_BACKOFF_MAX: Duration = Duration::from_secs(60);

/// Poll until `stop` is set (then return after finishing the update in hand,
/// so its answer and its saved offset go together) or something fatal
/// happens (then tell the actor).
pub async fn run(
    channel: Arc<TelegramChannel>,
    store: OffsetStore,
    poll_timeout: Duration,
    status: impl Fn(String) + Send,
    actor: ActorRef<ChannelMsg>,
    stop: watch::Receiver<bool>,
) {
    let Err(e) = poll(&channel, &store, poll_timeout, &status, stop).await else {
        return;
    };
    let msg = match e {
        TelegramError::Rejected { .. } => ChannelMsg::CredentialRejected(e.to_string()),
        e => ChannelMsg::ConnectionLost(e.to_string()),
    };
    // The actor may be gone already; then there is no one left to tell.
    let _ = actor.send_message(msg);
}

/// `Ok` only when told to stop.
async fn poll(
    channel: &TelegramChannel,
    store: &OffsetStore,
    poll_timeout: Duration,
    status: &(impl Fn(String) + Send),
    mut stop: watch::Receiver<bool>,
) -> Result<(), TelegramError> {
    // Polling and a webhook exclude each other; switching back to polling must remove it.
    channel.api.delete_webhook().await?;
    status("polling".into());
    let mut offset = store.load().await;
    let mut conflict_wait = Duration::from_secs(1);
    loop {
        // Nothing is handled while waiting: a stop here loses nothing.
        let polled = tokio::select! {
            r = channel.api.get_updates(offset, poll_timeout) => r,
            _ = stop.wait_for(|s| *s) => return Ok(()),
        };
        match polled {
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
                    if *stop.borrow() {
                        return Ok(());
                    }
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
