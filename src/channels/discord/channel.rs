//! Discord as a channel: MESSAGE_CREATEs come over the gateway websocket,
//! replies go out through REST.

use super::api::{DiscordApi, DiscordError};
use super::gateway::{self, GatewayConfig, SessionSlot};
use super::protocol::MessageCreate;
use crate::channels::ChannelActor;
use crate::channels::platform::{Ask, Fault, Link, OwnId, Platform, Triage, Warning};
use crate::config::{Config, DiscordConfig, Secret};
use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

pub const CHILD_NAME: &str = "channel:discord";

/// The `channel:discord` actor.
pub type DiscordActor = ChannelActor<Discord>;

/// The Discord protocol of the channel.
pub struct Discord {
    api: DiscordApi,
    /// `None`: no token in the config (the channel stops as rejected).
    gateway: Option<GatewayConfig>,
    allowed_channels: HashSet<String>,
    allowed_guilds: HashSet<String>,
    prefix: Option<String>,
    /// From READY.
    pub(super) own_id: OwnId,
}

impl Platform for Discord {
    /// Discord's message length limit.
    const MAX_MESSAGE: usize = 2000;
    type Event = MessageCreate;
    type Error = DiscordError;
    /// Shared by every start of the child (see [`SessionSlot`]); a default
    /// slot means "no session to resume".
    type Keep = SessionSlot;

    type Config = DiscordConfig;

    fn open(dc: &DiscordConfig, _: &Config, session: SessionSlot) -> Result<Self, reqwest::Error> {
        let token = dc.bot_token.as_ref().and_then(Secret::trimmed);
        let api = DiscordApi::new(
            &dc.api_base,
            token.unwrap_or_default(),
            Duration::from_secs(30),
        )?;
        let set = |v: &[String]| v.iter().map(|s| s.trim().to_string()).collect();
        Ok(Self {
            api,
            gateway: token.map(|token| GatewayConfig {
                url: dc.gateway_url.clone(),
                token: token.to_string(),
                session,
            }),
            allowed_channels: set(&dc.allowed_channels),
            allowed_guilds: set(&dc.allowed_guilds),
            prefix: dc.prefix.clone().filter(|p| !p.is_empty()),
            own_id: OwnId::default(),
        })
    }

    async fn receive(self: Arc<Self>, link: Link<MessageCreate>) -> Result<(), Fault> {
        let Some(config) = &self.gateway else {
            return Err(Fault::Rejected("no bot_token in [channel.discord]".into()));
        };
        Err(gateway::run(&self, config, &link).await)
    }

    fn triage(&self, m: &MessageCreate) -> Triage {
        let author = m.author.clone().unwrap_or_default();
        if author.bot == Some(true) {
            return Triage::Ignore;
        }
        if self.own_id.is(author.id.as_deref()) {
            return Triage::Ignore;
        }
        let (channel, guild) = (&m.channel_id, m.guild_id.as_deref());
        if !self.allowed(guild, channel) {
            return Triage::Drop(Some(Warning {
                key: format!("c:{channel}"),
                message: format!(
                    "discord: message in channel {channel} (guild {}) ignored: not allowed by [channel.discord] allowed_channels/allowed_guilds",
                    guild.unwrap_or("none, a DM")
                ),
            }));
        }
        let text = match &self.prefix {
            Some(p) => match m.content.strip_prefix(p.as_str()) {
                Some(rest) => rest.trim(),
                None => return Triage::Drop(None),
            },
            None => m.content.trim(),
        };
        if text.is_empty() {
            return Triage::Drop(m.content.is_empty().then(|| Warning {
                key: "empty".into(),
                message: "discord: got a message with empty content: enable the MESSAGE CONTENT intent in the developer portal".into(),
            }));
        }
        Triage::Answer(Ask {
            chat: channel.clone(),
            text: text.to_string(),
            thread: None,
        })
    }

    async fn send_part(
        &self,
        channel: &str,
        _: Option<&str>,
        part: String,
    ) -> Result<(), DiscordError> {
        self.api.create_message(channel, &part).await
    }
}

impl Discord {
    /// As documented for `[channel.discord]`: an empty list allows all; a
    /// non-empty `allowed_guilds` limits guilds (so it excludes DMs), a
    /// non-empty `allowed_channels` limits channels (DM channels included).
    pub fn allowed(&self, guild: Option<&str>, channel: &str) -> bool {
        is_allowed(&self.allowed_guilds, &self.allowed_channels, guild, channel)
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
