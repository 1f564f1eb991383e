//! The names of the tree's children, in one typed place: the tree, `status`,
//! reload, the gateway's routes and the control socket all use these, so a
//! misspelt child is a compile error rather than a lookup that never matches.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// A chat service with a channel child.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ChannelKind {
    Telegram,
    Discord,
    Slack,
}

impl ChannelKind {
    /// Every channel, in start order.
    pub const ALL: [Self; 3] = [Self::Telegram, Self::Discord, Self::Slack];

    /// `telegram`, `discord`, `slack`: the `[channel.<kind>]` table and the
    /// prefix of a `deliver_to` target.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Telegram => "telegram",
            Self::Discord => "discord",
            Self::Slack => "slack",
        }
    }

    /// The channel's child name as text (`channel:telegram`).
    pub const fn child_name(self) -> &'static str {
        match self {
            Self::Telegram => "channel:telegram",
            Self::Discord => "channel:discord",
            Self::Slack => "channel:slack",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

impl fmt::Display for ChannelKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One child of the daemon's tree. Its text form (`Display`, [`FromStr`]) is
/// what `status`, `restart <child>` and `[supervisor.children.<child>]` use.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ChildName {
    Logger,
    Gateway,
    Channel(ChannelKind),
    /// `cron:<job name>`, one per `[[cron.jobs]]` entry.
    Cron(String),
    /// `mcp:<server name>`, one per `[mcp.servers.<name>]` table.
    Mcp(String),
    Control,
}

impl ChildName {
    pub const LOGGER: &'static str = "logger";
    pub const GATEWAY: &'static str = "gateway";
    pub const CONTROL: &'static str = "control";
    const CRON_PREFIX: &'static str = "cron:";
    const MCP_PREFIX: &'static str = "mcp:";

    /// The child of cron job `job`.
    pub fn cron(job: &str) -> Self {
        Self::Cron(job.to_string())
    }

    /// The child of MCP server `server`.
    pub fn mcp(server: &str) -> Self {
        Self::Mcp(server.to_string())
    }
}

impl fmt::Display for ChildName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Logger => f.write_str(Self::LOGGER),
            Self::Gateway => f.write_str(Self::GATEWAY),
            Self::Channel(kind) => f.write_str(kind.child_name()),
            Self::Cron(job) => write!(f, "{}{job}", Self::CRON_PREFIX),
            Self::Mcp(server) => write!(f, "{}{server}", Self::MCP_PREFIX),
            Self::Control => f.write_str(Self::CONTROL),
        }
    }
}

/// A text that names no child of the daemon's tree.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "`{0}` is not a child of the daemon: children are logger, gateway, channel:telegram, \
     channel:discord, channel:slack, cron:<job name>, mcp:<server name> and control"
)]
pub struct UnknownChild(pub String);

impl FromStr for ChildName {
    type Err = UnknownChild;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            Self::LOGGER => return Ok(Self::Logger),
            Self::GATEWAY => return Ok(Self::Gateway),
            Self::CONTROL => return Ok(Self::Control),
            _ => {}
        }
        if let Some(kind) = ChannelKind::ALL.into_iter().find(|k| k.child_name() == s) {
            return Ok(Self::Channel(kind));
        }
        if let Some(server) = s.strip_prefix(Self::MCP_PREFIX).filter(|n| !n.is_empty()) {
            return Ok(Self::Mcp(server.to_string()));
        }
        match s.strip_prefix(Self::CRON_PREFIX) {
            Some(job) if !job.is_empty() => Ok(Self::Cron(job.to_string())),
            _ => Err(UnknownChild(s.to_string())),
        }
    }
}

impl From<ChannelKind> for ChildName {
    fn from(kind: ChannelKind) -> Self {
        Self::Channel(kind)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_round_trips_through_its_text() {
        let names = [
            ChildName::Logger,
            ChildName::Gateway,
            ChildName::Channel(ChannelKind::Telegram),
            ChildName::Channel(ChannelKind::Discord),
            ChildName::Channel(ChannelKind::Slack),
            ChildName::cron("备份提醒"),
            ChildName::cron("a:b"),
            ChildName::mcp("everything"),
            ChildName::Control,
        ];
        for name in names {
            assert_eq!(name.to_string().parse::<ChildName>(), Ok(name.clone()));
        }
        assert_eq!(
            ChildName::Channel(ChannelKind::Slack).to_string(),
            "channel:slack"
        );
        assert!("cron:".parse::<ChildName>().is_err());
        assert!("mcp:".parse::<ChildName>().is_err());
        assert!("channel:irc".parse::<ChildName>().is_err());
        assert_eq!(ChannelKind::parse("discord"), Some(ChannelKind::Discord));
        assert_eq!(ChannelKind::parse("sms"), None);
    }
}
