//! Slack: Socket Mode websocket or the Events API through the gateway.

pub mod actor;
pub mod api;
pub mod handler;
pub mod probe;
pub mod socket;

pub use actor::{CHILD_NAME, SlackActor, SlackArgs};
pub use handler::SeenEvents;
pub use probe::probe;
