//! What the Slack channel does with one message event, however it arrived
//! (Socket Mode or the Events API through the gateway).

use super::api::{SlackApi, SlackError};
use crate::channels::answer::answer;
use crate::channels::deps::ChannelDeps;
use crate::channels::send::{RateLimited, send_parts};
use crate::channels::split::split_message;
use serde_json::Value;
use std::collections::{HashSet, VecDeque};
use std::sync::Mutex;

/// Slack truncates messages past 40k characters and recommends staying under 4k.
const MAX_MESSAGE: usize = 4000;
/// Event ids remembered for deduplication (Slack retries deliveries).
const DEDUPE: usize = 1024;

/// Event ids already answered. Kept by the child spec across restarts of the
/// channel: Slack redelivers an envelope whose ack was lost with the
/// connection, and a fresh set would answer it a second time (found by
/// `benches/soak.sh`).
pub type SeenEvents = std::sync::Arc<Mutex<VecDeque<String>>>;

pub struct SlackChannel {
    pub api: SlackApi,
    ctx: ChannelDeps,
    allowed_channels: HashSet<String>,
    tools: Vec<String>,
    /// Our own user id (from `auth.test`), to ignore our own messages.
    pub own_user: Mutex<Option<String>>,
    seen: SeenEvents,
    warned: Mutex<HashSet<String>>,
}

impl SlackChannel {
    pub fn new(
        api: SlackApi,
        ctx: ChannelDeps,
        config: &crate::config::SlackConfig,
        seen: SeenEvents,
    ) -> Self {
        Self {
            api,
            ctx,
            allowed_channels: config
                .allowed_channels
                .iter()
                .map(|c| c.trim().to_string())
                .collect(),
            tools: config.tools.clone(),
            own_user: Mutex::new(None),
            seen,
            warned: Mutex::new(HashSet::new()),
        }
    }

    /// `true` the first time an event id is seen (and remembers it).
    pub fn first_sight(&self, event_id: &str) -> bool {
        let Ok(mut seen) = self.seen.lock() else {
            return true;
        };
        if seen.iter().any(|s| s == event_id) {
            return false;
        }
        if seen.len() == DEDUPE {
            seen.pop_front();
        }
        seen.push_back(event_id.to_string());
        true
    }

    pub async fn send_text(
        &self,
        channel: &str,
        text: &str,
        thread_ts: Option<&str>,
    ) -> Result<(), SlackError> {
        send_parts(
            "slack",
            channel,
            split_message(text, MAX_MESSAGE),
            |part| async move { self.api.post_message(channel, &part, thread_ts).await },
            || self.ctx.metrics().channel_message("slack", "out"),
        )
        .await
    }

    /// Answer one `event` (the inner `event` object). `Err` only for errors
    /// that mean the service is unreachable or the token is gone.
    pub async fn handle_event(&self, event: &Value) -> Result<(), SlackError> {
        let Some(Incoming {
            channel,
            user,
            text,
            thread_ts,
        }) = incoming(event)
        else {
            return Ok(());
        };
        let own = self.own_user.lock().ok().and_then(|o| o.clone());
        if own.as_deref() == Some(user) {
            return Ok(());
        }
        self.ctx.metrics().channel_message("slack", "in");
        // As documented for [channel.slack]: empty = every channel the bot is in.
        if !self.allowed_channels.is_empty() && !self.allowed_channels.contains(channel) {
            let first = self
                .warned
                .lock()
                .map(|mut w| w.insert(channel.to_string()))
                .unwrap_or(false);
            if first {
                tracing::warn!(
                    "slack: message in channel {channel} ignored: not in [channel.slack] allowed_channels"
                );
            }
            return Ok(());
        }
        let reply = answer(&self.ctx, "slack", channel, text.to_string(), &self.tools).await;
        match self.send_text(channel, &reply, thread_ts).await {
            Err(e) if e.is_connection() || matches!(e, SlackError::Rejected { .. }) => Err(e),
            Err(e) => {
                tracing::warn!(channel, "slack: could not answer: {e}");
                Ok(())
            }
            Ok(()) => Ok(()),
        }
    }
}

impl RateLimited for SlackError {
    fn retry_after(&self) -> Option<std::time::Duration> {
        match self {
            SlackError::RateLimited(wait) => Some(*wait),
            _ => None,
        }
    }

    fn is_server_error(&self) -> bool {
        matches!(self, SlackError::Server { .. })
    }
}

/// The parts of a message event the channel answers.
#[derive(Debug, PartialEq)]
pub struct Incoming<'a> {
    pub channel: &'a str,
    pub user: &'a str,
    pub text: &'a str,
    pub thread_ts: Option<&'a str>,
}

/// A person's message in `event`, or `None` for everything the channel
/// ignores. Pure, so every event shape can be fuzzed and tested.
pub fn incoming(event: &Value) -> Option<Incoming<'_>> {
    // Only `message` events: a mention also arrives as `app_mention`, and
    // answering both would answer twice.
    if event["type"] != "message" {
        return None;
    }
    // Bots (us included) and edits/joins/... carry bot_id or a subtype.
    if event.get("bot_id").is_some_and(|b| !b.is_null()) || event.get("subtype").is_some() {
        return None;
    }
    Some(Incoming {
        channel: event["channel"].as_str()?,
        user: event["user"].as_str()?,
        text: event["text"].as_str()?,
        thread_ts: event["thread_ts"].as_str(),
    })
}

#[cfg(test)]
mod tests {
    use super::incoming;
    use serde_json::json;

    #[test]
    fn only_people_s_plain_messages_are_answered() {
        let event =
            json!({"type":"message","channel":"C1","user":"U1","text":"hi","thread_ts":"1.2"});
        let m = incoming(&event).unwrap();
        assert_eq!(
            (m.channel, m.user, m.text, m.thread_ts),
            ("C1", "U1", "hi", Some("1.2"))
        );
        let mut bot = event.clone();
        bot["bot_id"] = json!("B1");
        assert!(incoming(&bot).is_none());
        let mut edit = event.clone();
        edit["subtype"] = json!("message_changed");
        assert!(incoming(&edit).is_none());
        assert!(incoming(&json!({"type":"message","channel":"C1","user":"U1"})).is_none());
        assert!(incoming(&json!("message")).is_none());
    }
}
