//! Chat channels: Telegram, Discord and Slack, each a supervised actor.
//!
//! Per channel a plain protocol client (`api.rs`, ...) and its protocol as a
//! [`platform::Platform`] (`channel.rs`); one actor, [`ChannelActor`], runs
//! any of them with the same lifecycle. The daemon starts them with
//! [`child_specs`] and reaches them by registry name with [`ChannelMsg`] (see
//! [`deliver`]).
//!
//! Failure semantics, which the daemon's status relies on:
//! - a lost connection (transport error, 5xx, dropped socket) makes the actor
//!   *fail* (a handler returns `Err`), so the supervisor restarts it with
//!   backoff; other channels are untouched;
//! - the same trouble before the service answered a (re)start (an outage)
//!   is retried in place with jittered exponential backoff, 0.5 s doubling
//!   up to 60 s, shown as `reconnecting (attempt N): <error>`: an outage of
//!   any length costs one restart, not the supervisor's start limit;
//! - a credential the service rejects (Telegram 401, Discord close 4004,
//!   Slack `invalid_auth`, a missing token) makes the actor stop with a reason
//!   starting with [`REJECTED_PREFIX`] (which carries the kernel's
//!   [`zeroclaw_actors::FATAL_PREFIX`]), and records `failed: <reason>` as the
//!   child's detail ([`ChannelDeps::set_detail`]). The supervisor marks such a child
//!   `failed` and does not restart it, whatever its policy (systemd's
//!   `RestartPreventExitStatus=`): retrying a revoked token cannot succeed,
//!   and a restart storm would only hit the service's rate limits.

pub mod actor;
pub mod answer;
pub mod call;
pub mod cli;
pub mod deps;
pub mod discord;
pub mod doctor;
pub mod http;
pub mod lifecycle;
pub mod msg;
pub mod pace;
pub mod platform;
pub mod send;
pub mod slack;
pub mod split;
pub mod task;
pub mod telegram;
pub mod wire;
pub mod worker;

pub use actor::{ChannelActor, ChannelArgs};
pub use deps::ChannelDeps;
pub use msg::ChannelMsg;

use crate::daemon::context::Ctx;
use ractor::ActorRef;
use std::time::Duration;
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

/// The names of the channels that are configured and enabled, in start order.
pub fn enabled(config: &crate::config::Config) -> Vec<&'static str> {
    configured(config)
        .into_iter()
        .filter(|c| c.enabled)
        .map(|c| c.name)
        .collect()
}

/// One child spec per enabled channel (`channel:telegram`, `channel:discord`,
/// `channel:slack`), each with the policy `policy_for(name)` returns. Every
/// (re)start reads the config in force from `ctx`, so `reload` followed by a
/// restart of the child applies a new token or allow-list.
pub fn child_specs(ctx: &Ctx, policy_for: impl Fn(&str) -> RestartPolicy) -> Vec<ChildSpec> {
    enabled(&ctx.config())
        .into_iter()
        .filter_map(|name| child_spec(ctx, name, policy_for(name)))
        .collect()
}

/// The spec of one channel child by name (`None` for an unknown name).
pub fn child_spec(ctx: &Ctx, name: &str, policy: RestartPolicy) -> Option<ChildSpec> {
    let deps = |child| ChannelDeps::new(ctx.clone(), child);
    Some(match name {
        telegram::CHILD_NAME => {
            actor::child_spec::<telegram::Telegram>(deps(telegram::CHILD_NAME), policy)
        }
        discord::CHILD_NAME => {
            actor::child_spec::<discord::Discord>(deps(discord::CHILD_NAME), policy)
        }
        slack::CHILD_NAME => actor::child_spec::<slack::Slack>(deps(slack::CHILD_NAME), policy),
        _ => return None,
    })
}

/// Why [`deliver`] failed.
#[derive(Debug, thiserror::Error)]
pub enum DeliverError {
    #[error(
        "deliver_to `{0}` is not `telegram:<chat id>`, `discord:<channel id>` or `slack:<channel id>`"
    )]
    BadTarget(String),
    #[error("{0} is not running")]
    NotRunning(String),
    #[error("{0}")]
    Failed(String),
}

/// Send `text` to `deliver_to` (`telegram:<chat>`, `discord:<channel>`,
/// `slack:<channel>`) through the running channel child; waits up to
/// `timeout` for the service to accept it. For cron and the gateway.
pub async fn deliver(
    ctx: &Ctx,
    deliver_to: &str,
    text: &str,
    timeout: Duration,
) -> Result<(), DeliverError> {
    let (kind, target) = deliver_to
        .split_once(':')
        .filter(|(_, t)| !t.trim().is_empty())
        .ok_or_else(|| DeliverError::BadTarget(deliver_to.into()))?;
    let child = match kind {
        "telegram" => telegram::CHILD_NAME,
        "discord" => discord::CHILD_NAME,
        "slack" => slack::CHILD_NAME,
        _ => return Err(DeliverError::BadTarget(deliver_to.into())),
    };
    let registered = ctx.child_name(child).unwrap_or_else(|| child.to_string());
    let actor: ActorRef<ChannelMsg> = ractor::registry::where_is(registered)
        .ok_or_else(|| DeliverError::NotRunning(child.into()))?
        .into();
    let target = target.trim().to_string();
    let text = text.to_string();
    let result = ractor::call_t!(
        actor,
        |reply| ChannelMsg::Deliver {
            target,
            text,
            reply: Some(reply),
        },
        timeout.as_millis() as u64
    );
    match result {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(DeliverError::Failed(e)),
        Err(e) => Err(DeliverError::Failed(format!("{child}: {e}"))),
    }
}
