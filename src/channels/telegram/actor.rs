//! The `channel:telegram` actor: owns the polling task (or the webhook
//! worker) and answers `Deliver`. All network I/O runs in tasks it owns, so it
//! stays responsive to delivery and to being stopped.

use super::api::{TelegramApi, Update, parse_update};
use super::handler::TelegramChannel;
use super::offset::OffsetStore;
use super::poll;
use crate::channels::deps::ChannelDeps;
use crate::channels::msg::ChannelMsg;
use crate::channels::task::TaskGuard;
use crate::channels::{ChannelError, lifecycle};
use crate::config::Secret;
use ractor::{Actor, ActorProcessingErr, ActorRef};
use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinSet;

/// The child's name in the tree (and its key for `ctx.set_detail`).
pub const CHILD_NAME: &str = crate::component::ChannelKind::Telegram.child_name();

/// Updates from the gateway waiting for the worker; more are refused with a
/// log line (Telegram retries webhook deliveries it sees fail).
const WEBHOOK_QUEUE: usize = 256;

pub struct TelegramActor;

/// Everything the actor reads lives in the context, so a restart picks up a reloaded config.
pub struct TelegramArgs {
    pub ctx: ChannelDeps,
}

/// How long a stopping channel waits for the update in hand.
const POLLER_STOP_LIMIT: Duration = Duration::from_secs(4);

pub struct TelegramState {
    ctx: ChannelDeps,
    channel: Arc<TelegramChannel>,
    webhook_tx: mpsc::Sender<Update>,
    deliveries: JoinSet<()>,
    _tasks: Vec<TaskGuard>,
    /// The long-polling task, stopped gracefully (see `post_stop`).
    poller: Option<TaskGuard>,
    stop_polling: watch::Sender<bool>,
}

impl Actor for TelegramActor {
    type Msg = ChannelMsg;
    type State = TelegramState;
    type Arguments = TelegramArgs;

    async fn pre_start(
        &self,
        myself: ActorRef<ChannelMsg>,
        args: TelegramArgs,
    ) -> Result<TelegramState, ActorProcessingErr> {
        let ctx = args.ctx;
        let config = ctx.config();
        let tg = config
            .channel
            .telegram
            .clone()
            .ok_or(ChannelError::NotConfigured("telegram"))?;
        let token = match tg.bot_token.as_ref().and_then(Secret::trimmed) {
            Some(t) => t.to_string(),
            None => {
                // Stop cleanly through the same path as a rejected token: no restarts.
                let _ = myself.send_message(ChannelMsg::CredentialRejected(
                    "no bot_token in [channel.telegram]; get one from @BotFather".into(),
                ));
                String::new()
            }
        };
        let api = TelegramApi::new(&tg.api_base, &token, Duration::from_secs(30))
            .map_err(ChannelError::Http)?;
        let channel = Arc::new(TelegramChannel::new(api, ctx.clone(), &tg));
        let mut tasks = Vec::new();
        let (stop_polling, stop_rx) = watch::channel(false);
        let mut poller = None;

        // The webhook worker also serves updates posted to the gateway in polling mode.
        let (webhook_tx, webhook_rx) = mpsc::channel(WEBHOOK_QUEUE);
        tasks.push(TaskGuard::spawn(webhook_worker(
            channel.clone(),
            webhook_rx,
            myself.clone(),
        )));

        if !token.is_empty() {
            match tg.webhook_url.clone() {
                Some(url) => {
                    // The same secret the gateway checks (derived from the
                    // token when none is configured).
                    let secret = crate::gateway::auth::telegram_webhook_secret(&tg);
                    tasks.push(TaskGuard::spawn(register_webhook(
                        channel.clone(),
                        ctx.clone(),
                        url,
                        secret,
                        myself.clone(),
                    )));
                }
                None => {
                    let store =
                        OffsetStore::new(config.state_dir().join("telegram.offset"), &token);
                    let status_ctx = ctx.clone();
                    poller = Some(TaskGuard::spawn(poll::run(
                        channel.clone(),
                        store,
                        tg.poll_timeout,
                        move |s| status_ctx.set_detail(s),
                        myself.clone(),
                        stop_rx,
                    )));
                }
            }
        }
        Ok(TelegramState {
            ctx,
            channel,
            webhook_tx,
            deliveries: JoinSet::new(),
            _tasks: tasks,
            poller,
            stop_polling,
        })
    }

    /// A graceful stop (`restart`, shutdown) lets the poller finish the
    /// update in hand: aborting between the answer and the saved offset
    /// would answer it again after the restart (found by `benches/soak.sh`).
    async fn post_stop(
        &self,
        _: ActorRef<ChannelMsg>,
        state: &mut TelegramState,
    ) -> Result<(), ActorProcessingErr> {
        let _ = state.stop_polling.send(true);
        if let Some(poller) = state.poller.take() {
            poller.finish(POLLER_STOP_LIMIT).await;
        }
        Ok(())
    }

    async fn handle(
        &self,
        myself: ActorRef<ChannelMsg>,
        message: ChannelMsg,
        state: &mut TelegramState,
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
            ChannelMsg::TelegramUpdate(raw) => {
                if let Some(update) = parse_update(raw)
                    && state.webhook_tx.try_send(update).is_err()
                {
                    tracing::warn!(
                        "telegram: webhook queue full, update dropped (Telegram will retry)"
                    );
                }
            }
            ChannelMsg::SlackEvent(_) => {
                tracing::warn!("telegram: got a Slack event; ignored");
            }
            ChannelMsg::ConnectionLost(reason) => {
                return Err(lifecycle::connection_lost(&state.ctx, CHILD_NAME, reason));
            }
            ChannelMsg::CredentialRejected(reason) => {
                lifecycle::credential_rejected(&myself, &state.ctx, CHILD_NAME, &reason);
            }
        }
        Ok(())
    }
}

/// Handles updates that arrive through the gateway, one at a time, in order.
async fn webhook_worker(
    channel: Arc<TelegramChannel>,
    mut rx: mpsc::Receiver<Update>,
    actor: ActorRef<ChannelMsg>,
) {
    // Telegram redelivers a webhook update it thinks failed: remember recent ids.
    let mut recent: VecDeque<i64> = VecDeque::with_capacity(WEBHOOK_QUEUE);
    while let Some(update) = rx.recv().await {
        let id = update.update_id;
        if recent.contains(&id) {
            continue;
        }
        if let Err(e) = channel.handle_update(update).await {
            let _ = actor.send_message(ChannelMsg::ConnectionLost(e.to_string()));
            return;
        }
        if recent.len() == WEBHOOK_QUEUE {
            recent.pop_front();
        }
        recent.push_back(id);
    }
}

async fn register_webhook(
    channel: Arc<TelegramChannel>,
    ctx: ChannelDeps,
    url: String,
    secret: Option<String>,
    actor: ActorRef<ChannelMsg>,
) {
    match channel.api.set_webhook(&url, secret.as_deref()).await {
        Ok(()) => {
            tracing::info!("telegram: webhook set to {url}");
            ctx.set_detail(format!("webhook {url}"));
        }
        Err(e @ super::api::TelegramError::Rejected { .. }) => {
            let _ = actor.send_message(ChannelMsg::CredentialRejected(e.to_string()));
        }
        Err(e) => {
            let _ = actor.send_message(ChannelMsg::ConnectionLost(format!("setWebhook: {e}")));
        }
    }
}
