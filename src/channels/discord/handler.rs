//! What the Discord channel does with one MESSAGE_CREATE.

use super::api::{DiscordApi, DiscordError};
use crate::channels::answer::answer;
use crate::channels::deps::ChannelDeps;
use crate::channels::send::{RateLimited, send_parts};
use crate::channels::split::split_message;
use serde_json::Value;
use std::collections::HashSet;
use std::sync::Mutex;

/// Discord's message length limit.
const MAX_MESSAGE: usize = 2000;

pub struct DiscordChannel {
    pub api: DiscordApi,
    ctx: ChannelDeps,
    allowed_channels: HashSet<String>,
    allowed_guilds: HashSet<String>,
    prefix: Option<String>,
    tools: Vec<String>,
    /// The bot's own user id (from READY), never answered.
    pub own_id: Mutex<Option<String>>,
    warned: Mutex<HashSet<String>>,
}

impl DiscordChannel {
    pub fn new(api: DiscordApi, ctx: ChannelDeps, config: &crate::config::DiscordConfig) -> Self {
        let set = |v: &[String]| v.iter().map(|s| s.trim().to_string()).collect();
        Self {
            api,
            ctx,
            allowed_channels: set(&config.allowed_channels),
            allowed_guilds: set(&config.allowed_guilds),
            prefix: config.prefix.clone().filter(|p| !p.is_empty()),
            tools: config.tools.clone(),
            own_id: Mutex::new(None),
            warned: Mutex::new(HashSet::new()),
        }
    }

    /// As documented for `[channel.discord]`: an empty list allows all; a
    /// non-empty `allowed_guilds` limits guilds (so it excludes DMs), a
    /// non-empty `allowed_channels` limits channels (DM channels included).
    pub fn allowed(&self, guild: Option<&str>, channel: &str) -> bool {
        is_allowed(&self.allowed_guilds, &self.allowed_channels, guild, channel)
    }

    pub async fn send_text(&self, channel: &str, text: &str) -> Result<(), DiscordError> {
        send_parts(
            "discord",
            channel,
            split_message(text, MAX_MESSAGE),
            |part| async move { self.api.create_message(channel, &part).await },
            || self.ctx.metrics().channel_message("discord", "out"),
        )
        .await
    }

    fn warn_once(&self, key: String, message: impl FnOnce() -> String) {
        let first = self
            .warned
            .lock()
            .map(|mut w| w.insert(key))
            .unwrap_or(false);
        if first {
            tracing::warn!("{}", message());
        }
    }

    /// Answer one MESSAGE_CREATE payload (`d`). `Err` only when the service is unreachable.
    pub async fn handle_message(&self, d: &Value) -> Result<(), DiscordError> {
        let author = &d["author"];
        if author["bot"] == true {
            return Ok(());
        }
        let own = self.own_id.lock().ok().and_then(|o| o.clone());
        if own.is_some() && author["id"].as_str() == own.as_deref() {
            return Ok(());
        }
        let (Some(channel), Some(content)) = (d["channel_id"].as_str(), d["content"].as_str())
        else {
            return Ok(());
        };
        let guild = d["guild_id"].as_str();
        self.ctx.metrics().channel_message("discord", "in");
        if !self.allowed(guild, channel) {
            self.warn_once(format!("c:{channel}"), || {
                format!(
                    "discord: message in channel {channel} (guild {}) ignored: not allowed by [channel.discord] allowed_channels/allowed_guilds",
                    guild.unwrap_or("none, a DM")
                )
            });
            return Ok(());
        }
        let text = match &self.prefix {
            Some(p) => match content.strip_prefix(p.as_str()) {
                Some(rest) => rest.trim(),
                None => return Ok(()),
            },
            None => content.trim(),
        };
        if text.is_empty() {
            if content.is_empty() {
                self.warn_once("empty".into(), || {
                    "discord: got a message with empty content: enable the MESSAGE CONTENT intent in the developer portal".into()
                });
            }
            return Ok(());
        }
        let reply = answer(&self.ctx, "discord", channel, text.to_string(), &self.tools).await;
        match self.send_text(channel, &reply).await {
            Err(e) if e.is_connection() || matches!(e, DiscordError::Rejected(_)) => Err(e),
            Err(e) => {
                tracing::warn!(channel, "discord: could not answer: {e}");
                Ok(())
            }
            Ok(()) => Ok(()),
        }
    }
}

fn is_allowed(
    guilds: &HashSet<String>,
    channels: &HashSet<String>,
    guild: Option<&str>,
    channel: &str,
) -> bool {
    let guild_ok = guilds.is_empty() || guild.is_some_and(|g| guilds.contains(g));
    let channel_ok = channels.is_empty() || channels.contains(channel);
    guild_ok && channel_ok
}

impl RateLimited for DiscordError {
    fn retry_after(&self) -> Option<std::time::Duration> {
        match self {
            DiscordError::RateLimited(wait) => Some(*wait),
            _ => None,
        }
    }

    fn is_server_error(&self) -> bool {
        matches!(self, DiscordError::Server { .. })
    }
}

#[cfg(test)]
mod tests {
    use super::is_allowed;
    use std::collections::HashSet;

    fn set(v: &[&str]) -> HashSet<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn allow_lists() {
        let none = set(&[]);
        assert!(is_allowed(&none, &none, Some("g"), "c"));
        assert!(is_allowed(&none, &none, None, "dm"));
        let g = set(&["G1"]);
        assert!(is_allowed(&g, &none, Some("G1"), "any"));
        assert!(!is_allowed(&g, &none, Some("G2"), "any"));
        assert!(!is_allowed(&g, &none, None, "dm"));
        let c = set(&["C1"]);
        assert!(is_allowed(&none, &c, None, "C1"));
        assert!(!is_allowed(&none, &c, Some("G1"), "C2"));
        assert!(is_allowed(&g, &c, Some("G1"), "C1"));
        assert!(!is_allowed(&g, &c, Some("G2"), "C1"));
    }
}
