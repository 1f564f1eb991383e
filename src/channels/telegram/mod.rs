//! Telegram: Bot API long polling or webhook.

pub mod actor;
pub mod api;
pub mod bind;
pub mod handler;
pub mod offset;
pub mod poll;
pub mod probe;

pub use actor::{CHILD_NAME, TelegramActor, TelegramArgs};
