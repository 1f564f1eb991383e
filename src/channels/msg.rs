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
}
