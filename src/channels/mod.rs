//! Chat channels: Telegram, Discord and Slack, each a supervised actor.
//!
//! Per channel a plain protocol client (`api.rs`, ...) and its protocol as a
//! [`platform::Platform`] (`channel.rs`); one actor, [`ChannelActor`], runs
//! any of them with the same lifecycle. Each channel is one [`Channel`]
//! component (see "The component contract" in docs/architecture.md), built
//! from its [`ChannelDeps`]; cron and the gateway reach a running channel by
//! registry name with [`ChannelMsg`] (see [`deliver`]).
//!
//! Failure semantics, which the daemon's status relies on:
//! - transient trouble upstream (refused or reset connections, DNS failures,
//!   timeouts, 5xx, 429, a dropped socket, a poll that never completes) is
//!   retried inside the channel with jittered exponential backoff, 0.5 s
//!   doubling, at most 10 s, shown as `reconnecting (attempt N): <error>`,
//!   whether it hits a (re)start or a channel that was working: an outage of
//!   any length costs the supervisor nothing, and the channel is back within
//!   10 s of the service's return;
//! - a crash (a panic in the channel's tasks, an answer or state the channel
//!   does not expect) makes the actor *fail*, so the supervisor restarts it
//!   with backoff; other channels are untouched;
//! - liveness is judged by completed work: each completed poll, event or
//!   frame is recorded on the status board (`last_activity`, `idle_secs` in
//!   `status --json`, `activity` in `/ready`, the
//!   `zeroclaw_channel_last_activity_seconds` gauge);
//! - a credential the service rejects (Telegram 401, Discord close 4004,
//!   Slack `invalid_auth`, a missing token) makes the actor stop with a reason
//!   starting with [`REJECTED_PREFIX`] (which carries the kernel's
//!   [`zeroclaw_actors::FATAL_PREFIX`]), and records `failed: <reason>` as the
//!   child's line on the status board. The supervisor marks such a child
//!   `failed` and does not restart it, whatever its policy (systemd's
//!   `RestartPreventExitStatus=`): retrying a revoked token cannot succeed,
//!   and a restart storm would only hit the service's rate limits.

pub mod actor;
pub mod answer;
pub mod backlog;
pub mod call;
pub mod cli;
pub mod deliver;
pub mod deps;
pub mod discord;
pub mod doctor;
pub mod http;
pub mod lifecycle;
pub mod msg;
pub mod pace;
pub mod platform;
pub mod seen;
pub mod send;
pub mod slack;
pub mod split;
pub mod target;
pub mod task;
pub mod telegram;
pub mod websocket;
pub mod wire;
pub mod worker;

pub use actor::{ChannelActor, ChannelArgs};
pub use deliver::{DeliverError, deliver, deliver_at};
pub use deps::ChannelDeps;
pub use msg::ChannelMsg;
pub use target::DeliverTarget;

use crate::component::{ChannelKind, ChildName, Component};
use crate::config::Config;
use zeroclaw_actors::{ChildSpec, RestartPolicy};

/// Stop reason prefix of a channel that stopped because its credential was
/// rejected; starts with the kernel's `FATAL_PREFIX` so it is not restarted.
pub const REJECTED_PREFIX: &str = "fatal: credential rejected: ";

/// Whether a child's stop reason says its credential was rejected (show it as `failed`).
pub fn is_rejection(stop_reason: &str) -> bool {
    stop_reason.starts_with(REJECTED_PREFIX)
}

/// Errors a channel actor fails with.
#[derive(Debug, thiserror::Error)]
pub enum ChannelError {
    #[error("[channel.{0}] is not configured")]
    NotConfigured(&'static str),
    #[error("cannot build the HTTP client: {0}")]
    Http(reqwest::Error),
    #[error("connection lost: {0}")]
    ConnectionLost(String),
}

/// A configured channel as `channel list` and the control socket's
/// `channel.list` show it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ChannelInfo {
    /// The child name: `channel:telegram`, `channel:discord`, `channel:slack`.
    pub name: &'static str,
    pub enabled: bool,
    /// `polling` | `webhook` (Telegram), `gateway` (Discord), `socket` |
    /// `events` | `none` (Slack: none = neither app_token nor signing_secret).
    pub mode: &'static str,
}

/// Every channel that has a `[channel.*]` table, in start order.
pub fn configured(config: &crate::config::Config) -> Vec<ChannelInfo> {
    let c = &config.channel;
    let mut out = Vec::new();
    if let Some(t) = &c.telegram {
        out.push(ChannelInfo {
            name: telegram::CHILD_NAME,
            enabled: t.enabled,
            mode: if t.webhook_url.is_some() {
                "webhook"
            } else {
                "polling"
            },
        });
    }
    if let Some(d) = &c.discord {
        out.push(ChannelInfo {
            name: discord::CHILD_NAME,
            enabled: d.enabled,
            mode: "gateway",
        });
    }
    if let Some(s) = &c.slack {
        out.push(ChannelInfo {
            name: slack::CHILD_NAME,
            enabled: s.enabled,
            mode: match (&s.app_token, &s.signing_secret) {
                (Some(_), _) => "socket",
                (None, Some(_)) => "events",
                (None, None) => "none",
            },
        });
    }
    out
}

/// One channel as a component of the tree: the child `channel:<kind>` while
/// `[channel.<kind>]` is present and enabled.
pub struct Channel {
    deps: ChannelDeps,
}

impl Channel {
    pub fn new(deps: ChannelDeps) -> Self {
        Self { deps }
    }

    pub fn kind(&self) -> ChannelKind {
        self.deps.kind()
    }

    fn enabled_in(&self, config: &Config) -> bool {
        let c = &config.channel;
        match self.kind() {
            ChannelKind::Telegram => c.telegram.as_ref().is_some_and(|t| t.enabled),
            ChannelKind::Discord => c.discord.as_ref().is_some_and(|d| d.enabled),
            ChannelKind::Slack => c.slack.as_ref().is_some_and(|s| s.enabled),
        }
    }

    /// The child's spec. Every (re)start reads the config in force, so
    /// `reload` followed by a restart of the child applies a new token or
    /// allow-list; what a channel keeps across its restarts (Discord's
    /// session, Slack's seen events) lives in the spec.
    pub fn child_spec(&self, policy: RestartPolicy) -> ChildSpec {
        let deps = self.deps.clone();
        match self.kind() {
            ChannelKind::Telegram => actor::child_spec::<telegram::Telegram>(deps, policy),
            ChannelKind::Discord => actor::child_spec::<discord::Discord>(deps, policy),
            ChannelKind::Slack => actor::child_spec::<slack::Slack>(deps, policy),
        }
    }
}

impl Component for Channel {
    fn children(&self, config: &Config) -> Vec<ChildName> {
        if self.enabled_in(config) {
            vec![ChildName::Channel(self.kind())]
        } else {
            Vec::new()
        }
    }

    fn spec(&self, child: &ChildName, _: &Config, policy: RestartPolicy) -> Option<ChildSpec> {
        (*child == ChildName::Channel(self.kind())).then(|| self.child_spec(policy))
    }

    /// A channel reads its own `[channel.<kind>]` table only.
    fn restart_needed(&self, _: &ChildName, old: &Config, new: &Config) -> bool {
        let (o, n) = (&old.channel, &new.channel);
        match self.kind() {
            ChannelKind::Telegram => o.telegram != n.telegram,
            ChannelKind::Discord => o.discord != n.discord,
            ChannelKind::Slack => o.slack != n.slack,
        }
    }
}
