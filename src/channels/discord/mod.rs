//! Discord: gateway websocket for incoming messages, REST for replies.

pub mod actor;
pub mod api;
pub mod gateway;
pub mod handler;
pub mod probe;
pub mod protocol;

pub use actor::{CHILD_NAME, DiscordActor, DiscordArgs};
pub use gateway::SessionSlot;
pub use probe::probe;
