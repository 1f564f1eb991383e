//! What every channel actor does with a delivery request and with the two
//! ways its connection can end, kept in one place so Telegram, Discord and
//! Slack fail, give up and deliver identically.

use super::deps::ChannelDeps;
use super::{ChannelError, REJECTED_PREFIX};
use crate::channels::msg::ChannelMsg;
use ractor::{ActorProcessingErr, ActorRef, RpcReplyPort};
use std::fmt::Display;
use std::future::Future;
use tokio::task::JoinSet;

/// A lost connection fails the actor, so the supervisor restarts it with backoff.
pub fn connection_lost(deps: &ChannelDeps, reason: String) -> ActorProcessingErr {
    deps.set_detail(format!("connection lost: {reason}"));
    ChannelError::ConnectionLost(reason).into()
}

/// A rejected credential stops the actor with a fatal reason: the supervisor
/// marks it `failed` and does not restart it (a revoked token stays revoked).
pub fn credential_rejected(
    myself: &ActorRef<ChannelMsg>,
    deps: &ChannelDeps,
    child: &str,
    reason: &str,
) {
    tracing::error!(
        channel = child,
        "{reason}; channel stopped until the config is fixed"
    );
    deps.set_detail(format!("failed: {reason}"));
    myself.stop(Some(format!("{REJECTED_PREFIX}{reason}")));
}

/// Run a delivery (cron's `deliver_to`) in the background so the actor stays
/// responsive, and answer the caller's reply port with the outcome. Finished
/// deliveries are reaped here, where the set grows, so it stays as small as
/// the deliveries in flight.
pub fn spawn_delivery<S, F, E>(
    deliveries: &mut JoinSet<()>,
    child: &'static str,
    target: String,
    reply: Option<RpcReplyPort<Result<(), String>>>,
    send: S,
) where
    S: FnOnce(String) -> F,
    F: Future<Output = Result<(), E>> + Send + 'static,
    E: Display,
{
    while deliveries.try_join_next().is_some() {}
    let sending = send(target.clone());
    deliveries.spawn(async move {
        let result = sending
            .await
            .map_err(|e| format!("{child}: delivery to {target} failed: {e}"));
        if let Err(e) = &result {
            tracing::warn!("{e}");
        }
        if let Some(port) = reply {
            let _ = port.send(result);
        }
    });
}
