//! Telegram: Bot API long polling or webhook.

pub mod actor;
pub mod api;
pub mod handler;
pub mod offset;
pub mod poll;

pub use actor::{CHILD_NAME, TelegramActor, TelegramArgs};
