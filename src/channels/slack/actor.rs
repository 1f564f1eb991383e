//! The `channel:slack` actor: owns the Socket Mode task (or waits for Events
//! API events from the gateway) and a worker that answers events in order.

use super::api::{SlackApi, SlackError};
use super::handler::{SeenEvents, SlackChannel};
use super::socket;
use crate::channels::deps::ChannelDeps;
use crate::channels::msg::ChannelMsg;
use crate::channels::task::TaskGuard;
use crate::channels::{ChannelError, lifecycle};
use crate::config::Secret;
use ractor::{Actor, ActorProcessingErr, ActorRef};
use serde_json::Value;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::task::JoinSet;

pub const CHILD_NAME: &str = crate::component::ChannelKind::Slack.child_name();
const QUEUE: usize = 256;

pub struct SlackActor;

pub struct SlackArgs {
    pub ctx: ChannelDeps,
    /// Shared by every start of this child (see [`SeenEvents`]).
    pub seen: SeenEvents,
}

pub struct SlackState {
    ctx: ChannelDeps,
    channel: Arc<SlackChannel>,
    events: mpsc::Sender<Value>,
    deliveries: JoinSet<()>,
    _tasks: Vec<TaskGuard>,
}

impl Actor for SlackActor {
    type Msg = ChannelMsg;
    type State = SlackState;
    type Arguments = SlackArgs;

    async fn pre_start(
        &self,
        myself: ActorRef<ChannelMsg>,
        args: SlackArgs,
    ) -> Result<SlackState, ActorProcessingErr> {
        let ctx = args.ctx;
        let config = ctx.config();
        let sc = config
            .channel
            .slack
            .clone()
            .ok_or(ChannelError::NotConfigured("slack"))?;
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
        if let Some(p) = problem {
            let _ = myself.send_message(ChannelMsg::CredentialRejected(p.into()));
        }
        let api = SlackApi::new(
            &sc.api_base,
            bot_token.as_deref().unwrap_or_default(),
            app_token.as_deref(),
            Duration::from_secs(30),
        )
        .map_err(ChannelError::Http)?;
        let channel = Arc::new(SlackChannel::new(api, ctx.clone(), &sc, args.seen));
        let (events, rx) = mpsc::channel(QUEUE);
        let mut tasks = vec![TaskGuard::spawn(worker(
            channel.clone(),
            rx,
            myself.clone(),
        ))];
        if problem.is_none() {
            let status_ctx = ctx.clone();
            tasks.push(TaskGuard::spawn(connect(
                channel.clone(),
                events.clone(),
                app_token.is_some(),
                sc.idle_timeout,
                move |s| status_ctx.set_detail(s),
                myself.clone(),
            )));
        }
        Ok(SlackState {
            ctx,
            channel,
            events,
            deliveries: JoinSet::new(),
            _tasks: tasks,
        })
    }

    async fn post_stop(
        &self,
        _myself: ActorRef<ChannelMsg>,
        state: &mut SlackState,
    ) -> Result<(), ActorProcessingErr> {
        finish_accepted(state).await;
        Ok(())
    }

    async fn handle(
        &self,
        myself: ActorRef<ChannelMsg>,
        message: ChannelMsg,
        state: &mut SlackState,
    ) -> Result<(), ActorProcessingErr> {
        match message {
            ChannelMsg::Deliver {
                target,
                text,
                reply,
            } => {
                let channel = state.channel.clone();
                lifecycle::spawn_delivery(
                    &mut state.deliveries,
                    CHILD_NAME,
                    target,
                    reply,
                    move |to| async move { channel.send_text(&to, &text, None).await },
                );
            }
            ChannelMsg::SlackEvent(body) => {
                // The gateway verified the signature; Slack retries, so dedupe.
                let fresh = body["event_id"]
                    .as_str()
                    .is_none_or(|id| state.channel.first_sight(id));
                if fresh && state.events.try_send(body["event"].clone()).is_err() {
                    tracing::warn!("slack: event queue full, event dropped");
                }
            }
            ChannelMsg::TelegramUpdate(_) => {
                tracing::warn!("slack: got a Telegram update; ignored");
            }
            ChannelMsg::ConnectionLost(reason) => {
                // Failing skips `post_stop`: answer what was accepted first.
                finish_accepted(state).await;
                return Err(lifecycle::connection_lost(&state.ctx, CHILD_NAME, reason));
            }
            ChannelMsg::CredentialRejected(reason) => {
                lifecycle::credential_rejected(&myself, &state.ctx, CHILD_NAME, &reason);
            }
        }
        Ok(())
    }
}

/// Check the bot token, then run Socket Mode (or just wait, in Events API mode).
async fn connect(
    channel: Arc<SlackChannel>,
    events: mpsc::Sender<Value>,
    socket_mode: bool,
    idle_timeout: Duration,
    status: impl Fn(String) + Send,
    actor: ActorRef<ChannelMsg>,
) {
    match channel.api.auth_test().await {
        Ok(me) => {
            tracing::info!("slack: connected as {} in {}", me.user, me.team);
            if let Ok(mut own) = channel.own_user.lock() {
                *own = Some(me.user_id);
            }
        }
        Err(e @ SlackError::Rejected { .. }) => {
            let _ = actor.send_message(ChannelMsg::CredentialRejected(e.to_string()));
            return;
        }
        Err(e) => {
            let _ = actor.send_message(ChannelMsg::ConnectionLost(format!("auth.test: {e}")));
            return;
        }
    }
    if socket_mode {
        socket::run(channel, events, idle_timeout, status, actor).await;
    } else {
        status("events api (via the gateway's /webhook/slack)".into());
    }
}

/// Stop receiving, then let the worker answer what was already accepted
/// (bounded by [`DRAIN_LIMIT`](crate::channels::task::DRAIN_LIMIT)).
async fn finish_accepted(state: &mut SlackState) {
    state._tasks.truncate(1);
    // The Socket Mode task is gone; this was the last sender of the queue.
    let (closed, _) = mpsc::channel(1);
    state.events = closed;
    crate::channels::task::drain(
        &mut state._tasks,
        &mut state.deliveries,
        crate::channels::task::DRAIN_LIMIT,
    )
    .await;
}

/// Answers events one at a time, in arrival order.
async fn worker(
    channel: Arc<SlackChannel>,
    mut rx: mpsc::Receiver<Value>,
    actor: ActorRef<ChannelMsg>,
) {
    while let Some(event) = rx.recv().await {
        if let Err(e) = channel.handle_event(&event).await {
            let msg = match e {
                SlackError::Rejected { .. } => ChannelMsg::CredentialRejected(e.to_string()),
                e => ChannelMsg::ConnectionLost(e.to_string()),
            };
            let _ = actor.send_message(msg);
            return;
        }
    }
}
