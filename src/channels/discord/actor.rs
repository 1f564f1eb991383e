//! The `channel:discord` actor: owns the gateway task and a worker that
//! answers messages in order; `Deliver` posts through REST.

use super::api::{DiscordApi, DiscordError};
use super::gateway::{self, GatewayConfig, SessionSlot};
use super::handler::DiscordChannel;
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

pub const CHILD_NAME: &str = crate::component::ChannelKind::Discord.child_name();
const QUEUE: usize = 256;

pub struct DiscordActor;

pub struct DiscordArgs {
    pub ctx: ChannelDeps,
    /// Shared by every start of this child (see [`SessionSlot`]); a default
    /// slot means "no session to resume".
    pub session: SessionSlot,
}

pub struct DiscordState {
    ctx: ChannelDeps,
    channel: Arc<DiscordChannel>,
    deliveries: JoinSet<()>,
    _tasks: Vec<TaskGuard>,
}

impl Actor for DiscordActor {
    type Msg = ChannelMsg;
    type State = DiscordState;
    type Arguments = DiscordArgs;

    async fn pre_start(
        &self,
        myself: ActorRef<ChannelMsg>,
        args: DiscordArgs,
    ) -> Result<DiscordState, ActorProcessingErr> {
        let ctx = args.ctx;
        let config = ctx.config();
        let dc = config
            .channel
            .discord
            .clone()
            .ok_or(ChannelError::NotConfigured("discord"))?;
        let token = dc.bot_token.as_ref().and_then(Secret::trimmed);
        let api = DiscordApi::new(
            &dc.api_base,
            token.unwrap_or_default(),
            Duration::from_secs(30),
        )
        .map_err(ChannelError::Http)?;
        let channel = Arc::new(DiscordChannel::new(api, ctx.clone(), &dc));
        let (tx, rx) = mpsc::channel(QUEUE);
        let mut tasks = vec![TaskGuard::spawn(worker(
            channel.clone(),
            rx,
            myself.clone(),
        ))];
        match token {
            None => {
                let _ = myself.send_message(ChannelMsg::CredentialRejected(
                    "no bot_token in [channel.discord]".into(),
                ));
            }
            Some(token) => {
                let status_ctx = ctx.clone();
                tasks.push(TaskGuard::spawn(gateway::run(
                    channel.clone(),
                    GatewayConfig {
                        url: dc.gateway_url.clone(),
                        token: token.to_string(),
                        session: args.session,
                    },
                    tx,
                    move |s| status_ctx.set_detail(s),
                    myself.clone(),
                )));
            }
        }
        Ok(DiscordState {
            ctx,
            channel,
            deliveries: JoinSet::new(),
            _tasks: tasks,
        })
    }

    async fn post_stop(
        &self,
        _myself: ActorRef<ChannelMsg>,
        state: &mut DiscordState,
    ) -> Result<(), ActorProcessingErr> {
        finish_accepted(state).await;
        Ok(())
    }

    async fn handle(
        &self,
        myself: ActorRef<ChannelMsg>,
        message: ChannelMsg,
        state: &mut DiscordState,
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
                    move |to| async move { channel.send_text(&to, &text).await },
                );
            }
            ChannelMsg::TelegramUpdate(_) | ChannelMsg::SlackEvent(_) => {
                tracing::warn!("discord: got another channel's event; ignored");
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

/// Answers MESSAGE_CREATEs one at a time, in arrival order.
async fn worker(
    channel: Arc<DiscordChannel>,
    mut rx: mpsc::Receiver<Value>,
    actor: ActorRef<ChannelMsg>,
) {
    while let Some(d) = rx.recv().await {
        if let Err(e) = channel.handle_message(&d).await {
            let msg = match e {
                DiscordError::Rejected(_) => ChannelMsg::CredentialRejected(e.to_string()),
                e => ChannelMsg::ConnectionLost(e.to_string()),
            };
            let _ = actor.send_message(msg);
            return;
        }
    }
}

/// Stop receiving, then let the worker answer what was already accepted
/// (bounded by [`DRAIN_LIMIT`](crate::channels::task::DRAIN_LIMIT)).
async fn finish_accepted(state: &mut DiscordState) {
    state._tasks.truncate(1);
    crate::channels::task::drain(
        &mut state._tasks,
        &mut state.deliveries,
        crate::channels::task::DRAIN_LIMIT,
    )
    .await;
}
