//! Slack: Socket Mode websocket or the Events API through the gateway.

pub mod api;
pub mod channel;
pub mod events;
pub mod probe;
pub mod socket;

pub use channel::{CHILD_NAME, SeenEvents, Slack, SlackActor};
pub use probe::probe;

/// What every start of `channel:slack` reads.
pub type SlackArgs = crate::channels::ChannelArgs<Slack>;
