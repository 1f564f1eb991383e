//! The one way to hand a text to a running channel: cron's `deliver_to` and
//! anything else that sends on its own initiative come through here.

use super::msg::ChannelMsg;
use super::target::DeliverTarget;
use crate::component::Registry;
use ractor::ActorRef;
use ractor::rpc::CallResult;
use std::time::Duration;

/// Why a delivery did not reach the service.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeliverError {
    #[error(
        "channel `{child}` is not running (is [channel.{kind}] configured and enabled? see `zeroclaw status`)"
    )]
    NotRunning { child: String, kind: String },
    /// The channel tried and the service refused or failed.
    #[error("{0}")]
    Failed(String),
    #[error("`{child}` did not answer within {secs}s")]
    Timeout { child: String, secs: u64 },
    #[error("`{child}` stopped before answering")]
    Stopped { child: String },
    #[error("`{child}`: {reason}")]
    Unreachable { child: String, reason: String },
}

/// Send `text` to `target` through its channel child in the tree of
/// `registry`; waits up to `timeout` for the service to accept it.
pub async fn deliver(
    registry: &Registry,
    target: &DeliverTarget,
    text: &str,
    timeout: Duration,
) -> Result<(), DeliverError> {
    deliver_at(&registry.name_of(&target.child()), target, text, timeout).await
}

/// [`deliver`] to the channel actor registered as `registered` (tests stand
/// in a fake channel under any name).
pub async fn deliver_at(
    registered: &str,
    target: &DeliverTarget,
    text: &str,
    timeout: Duration,
) -> Result<(), DeliverError> {
    let child = target.child().to_string();
    let Some(cell) = ractor::registry::where_is(registered) else {
        return Err(DeliverError::NotRunning {
            child,
            kind: target.kind.to_string(),
        });
    };
    let actor: ActorRef<ChannelMsg> = cell.into();
    let (id, text) = (target.id.trim().to_string(), text.to_string());
    let reply = actor
        .call(
            move |reply| ChannelMsg::Deliver {
                target: id,
                text,
                reply: Some(reply),
            },
            Some(timeout),
        )
        .await;
    match reply {
        Ok(CallResult::Success(Ok(()))) => Ok(()),
        Ok(CallResult::Success(Err(e))) => Err(DeliverError::Failed(e)),
        Ok(CallResult::Timeout) => Err(DeliverError::Timeout {
            child,
            secs: timeout.as_secs(),
        }),
        Ok(CallResult::SenderError) => Err(DeliverError::Stopped { child }),
        Err(e) => Err(DeliverError::Unreachable {
            child,
            reason: e.to_string(),
        }),
    }
}
