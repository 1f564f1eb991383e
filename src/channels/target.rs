//! Where a cron job's answer goes: `deliver_to = "<channel>:<id>"`, parsed
//! once here for config validation, cron and delivery.

use crate::component::{ChannelKind, ChildName};
use std::fmt;
use std::str::FromStr;

const USAGE: &str = "write `<channel>:<id>`: `telegram:<chat id>`, `discord:<channel id>` or \
                     `slack:<channel id>`";

/// A parsed `deliver_to`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliverTarget {
    pub kind: ChannelKind,
    /// The chat or channel id on that service.
    pub id: String,
}

/// Why a `deliver_to` is not a target; says how to write one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct BadTarget(String);

impl DeliverTarget {
    /// `telegram:<chat id>` (a number, negative for groups, or `@channel`),
    /// `discord:<channel id>` (a number), `slack:<channel id>` (letters and digits).
    pub fn parse(text: &str) -> Result<Self, BadTarget> {
        let Some((kind, id)) = text.split_once(':') else {
            return Err(BadTarget(format!(
                "deliver_to `{text}` has no channel; {USAGE}"
            )));
        };
        let Some(kind) = ChannelKind::parse(kind) else {
            return Err(BadTarget(format!(
                "deliver_to `{text}`: unknown channel `{kind}`; {USAGE}"
            )));
        };
        if id.trim().is_empty() {
            return Err(BadTarget(format!(
                "deliver_to `{text}`: the id after `{kind}:` is empty; {USAGE}"
            )));
        }
        if !valid_id(kind, id) {
            return Err(BadTarget(format!(
                "deliver_to `{text}`: `{id}` is not a valid {kind} id; {USAGE}"
            )));
        }
        Ok(Self {
            kind,
            id: id.to_string(),
        })
    }

    /// The channel child that delivers to this target.
    pub fn child(&self) -> ChildName {
        ChildName::Channel(self.kind)
    }
}

fn valid_id(kind: ChannelKind, id: &str) -> bool {
    match kind {
        ChannelKind::Telegram => {
            id.strip_prefix('-').unwrap_or(id).parse::<u64>().is_ok()
                || id.strip_prefix('@').is_some_and(|u| {
                    !u.is_empty() && u.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                })
        }
        ChannelKind::Discord => id.parse::<u64>().is_ok(),
        ChannelKind::Slack => id.chars().all(|c| c.is_ascii_alphanumeric()),
    }
}

impl FromStr for DeliverTarget {
    type Err = BadTarget;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl fmt::Display for DeliverTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.kind, self.id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(text: &str) -> Result<(&'static str, String), String> {
        DeliverTarget::parse(text)
            .map(|t| (t.kind.as_str(), t.id))
            .map_err(|e| e.to_string())
    }

    #[test]
    fn targets() {
        assert_eq!(parts("telegram:123").unwrap(), ("telegram", "123".into()));
        assert_eq!(parts("slack:C01").unwrap(), ("slack", "C01".into()));
        assert!(parts("telegram").unwrap_err().contains("<channel>:<id>"));
        assert!(parts("irc:#x").unwrap_err().contains("unknown channel"));
        assert!(parts("discord:").unwrap_err().contains("empty"));
    }

    #[test]
    fn a_target_prints_as_it_was_written() {
        let t = DeliverTarget::parse("telegram:-1001234").unwrap();
        assert_eq!(t.to_string(), "telegram:-1001234");
        assert_eq!(t.child().to_string(), "channel:telegram");
    }
}
