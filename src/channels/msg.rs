//! The one message type every channel actor accepts, so the gateway and cron
//! can reach a channel by its registry name without knowing its type.

use ractor::RpcReplyPort;

pub enum ChannelMsg {
    /// Send `text` to `target` (a chat/channel id); cron delivery.
    Deliver {
        target: String,
        text: String,
        reply: Option<RpcReplyPort<Result<(), String>>>,
    },
    /// A Telegram update received by the gateway's `/webhook/telegram`.
    TelegramUpdate(serde_json::Value),
    /// A Slack Events API event received by the gateway's `/webhook/slack`.
    SlackEvent(serde_json::Value),
    /// Sent by the channel's own connection task: the connection to the
    /// service is lost. The actor fails (returns `Err`) so the supervisor
    /// restarts it with backoff.
    ConnectionLost(String),
    /// Sent by the channel's own connection task: the service rejected the
    /// credential. The actor stops cleanly (see [`crate::channels::REJECTED_PREFIX`])
    /// so that retrying a bad token does not become a restart storm.
    CredentialRejected(String),
}
