//! Chat channels: Telegram, Discord and Slack, each a supervised actor.

pub mod cli;
pub mod msg;

pub use msg::ChannelMsg;
