//! Slack as a channel: events come over Socket Mode (or the Events API
//! through the gateway), replies go out by `chat.postMessage`.

use super::api::{SlackApi, SlackError};
use super::events::{EventsPayload, incoming};
use super::socket;
use crate::channels::ChannelActor;
use crate::channels::platform::{Ask, Fault, Link, OwnId, Platform, Pushed, Triage, Warning};
use crate::channels::seen::{Recent, Seen};
use crate::config::{Config, Secret, SlackConfig};
use serde_json::Value;
use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

pub const CHILD_NAME: &str = "channel:slack";

/// Event ids remembered for deduplication (Slack retries deliveries).
const DEDUPE: usize = 1024;

/// The `channel:slack` actor.
pub type SlackActor = ChannelActor<Slack>;

/// Event ids already accepted. Kept by the child spec across restarts of the
/// channel: Slack redelivers an envelope whose ack was lost with the
/// connection, and a fresh set would answer it a second time (found by
/// `benches/soak.sh`); the state store keeps them across restarts of the
/// daemon and for a cluster's other instances.
pub type SeenEvents = Recent;

/// The Slack protocol of the channel.
pub struct Slack {
    pub(super) api: SlackApi,
    /// Why the config cannot work (the channel stops as rejected).
    problem: Option<&'static str>,
    socket_mode: bool,
    idle_timeout: Duration,
    allowed_channels: HashSet<String>,
    /// From `auth.test`.
    own_user: OwnId,
    seen: Seen,
}

impl Platform for Slack {
    /// Slack truncates messages past 40k characters and recommends staying under 4k.
    const MAX_MESSAGE: usize = 4000;
    /// The inner `event` of a delivery.
    type Event = Value;
    type Error = SlackError;
    type Keep = SeenEvents;

    type Config = SlackConfig;

    fn with_shared_store(mut self, store: Option<Arc<dyn crate::store::Store>>) -> Self {
        self.seen = self.seen.with_store(store);
        self
    }

    fn open(sc: &SlackConfig, _: &Config, seen: SeenEvents) -> Result<Self, reqwest::Error> {
        let secret = |s: &Option<Secret>| s.as_ref().and_then(Secret::trimmed).map(str::to_string);
        let bot_token = secret(&sc.bot_token);
        let app_token = secret(&sc.app_token);
        let problem = match (&bot_token, &app_token, &sc.signing_secret) {
            (None, _, _) => Some("no bot_token (xoxb-...) in [channel.slack]"),
            (Some(_), None, None) => {
                Some("[channel.slack] needs app_token (Socket Mode) or signing_secret (Events API)")
            }
            _ => None,
        };
        let api = SlackApi::new(
            &sc.api_base,
            bot_token.as_deref().unwrap_or_default(),
            app_token.as_deref(),
            Duration::from_secs(30),
        )?;
        Ok(Self {
            api,
            problem,
            socket_mode: app_token.is_some(),
            idle_timeout: sc.idle_timeout,
            allowed_channels: sc
                .allowed_channels
                .iter()
                .map(|c| c.trim().to_string())
                .collect(),
            own_user: OwnId::default(),
            seen: Seen::new("slack", DEDUPE, seen),
        })
    }

    /// Check the bot token, then run Socket Mode (or just wait, in Events API mode).
    async fn receive(self: Arc<Self>, link: Link<Value>) -> Result<(), Fault> {
        if let Some(problem) = self.problem {
            return Err(Fault::Rejected(problem.into()));
        }
        let me = self
            .api
            .auth_test()
            .await
            .map_err(|e| Fault::from_call("auth.test", e))?;
        link.contact();
        tracing::info!("slack: connected as {} in {}", me.user, me.team);
        self.own_user.set(Some(me.user_id));
        if self.socket_mode {
            return Err(socket::run(&self, &link, self.idle_timeout).await);
        }
        link.status("events api (via the gateway's /webhook/slack)");
        Ok(())
    }

    /// The gateway verified the signature; Slack retries, so dedupe.
    async fn pushed(&self, event: Pushed) -> Option<Value> {
        let Pushed::Slack(body) = event else {
            return None;
        };
        let payload = EventsPayload::read(body);
        let fresh = self.seen.first_sight(payload.event_id.as_deref()).await;
        fresh.then_some(payload.event)
    }

    fn triage(&self, event: &Value) -> Triage {
        let Some(m) = incoming(event) else {
            return Triage::Ignore;
        };
        if self.own_user.is(Some(m.user)) {
            return Triage::Ignore;
        }
        // As documented for [channel.slack]: empty = every channel the bot is in.
        if !self.allowed_channels.is_empty() && !self.allowed_channels.contains(m.channel) {
            return Triage::Drop(Some(Warning {
                key: m.channel.to_string(),
                message: format!(
                    "slack: message in channel {} ignored: not in [channel.slack] allowed_channels",
                    m.channel
                ),
            }));
        }
        Triage::Answer(Ask {
            chat: m.channel.to_string(),
            text: m.text.to_string(),
            thread: m.thread_ts.map(str::to_string),
        })
    }

    async fn send_part(
        &self,
        channel: &str,
        thread: Option<&str>,
        part: String,
    ) -> Result<(), SlackError> {
        self.api.post_message(channel, &part, thread).await
    }
}

impl Slack {
    /// `true` the first time an event id is seen (and remembers it).
    pub async fn first_sight(&self, event_id: Option<&str>) -> bool {
        self.seen.first_sight(event_id).await
    }
}
