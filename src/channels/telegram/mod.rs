//! Telegram: Bot API long polling or webhook.

pub mod api;
pub mod bind;
pub mod channel;
pub mod claims;
pub mod offset;
pub mod poll;
pub mod probe;

pub use channel::{CHILD_NAME, Telegram, TelegramActor};

/// What every start of `channel:telegram` reads.
pub type TelegramArgs = crate::channels::ChannelArgs<Telegram>;
