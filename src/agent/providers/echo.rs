//! The `echo` provider: no network, no key. It answers with the prompt it got
//! and names the tools it was offered, so the whole path (channel → agent →
//! reply) can be tried before any key is configured.

use crate::agent::message::{Completion, Message, Reply, StopReason};

pub fn complete(c: &Completion<'_>) -> Reply {
    let prompt = c.messages.last().map(Message::text).unwrap_or_default();
    let mut text = format!("echo: {prompt}");
    if !c.tools.is_empty() {
        let names: Vec<&str> = c.tools.iter().map(|t| t.name.as_str()).collect();
        text.push_str(&format!("\n(tools offered: {})", names.join(", ")));
    }
    Reply {
        message: Message::assistant(text),
        stop: StopReason::EndTurn,
        request_id: None,
        usage: Default::default(),
    }
}
