//! Discord: gateway websocket for incoming messages, REST for replies.

pub mod api;
pub mod channel;
pub mod gateway;
pub mod probe;
pub mod protocol;

pub use channel::{CHILD_NAME, Discord, DiscordActor};
pub use gateway::SessionSlot;
pub use probe::probe;

/// What every start of `channel:discord` reads.
pub type DiscordArgs = crate::channels::ChannelArgs<Discord>;
