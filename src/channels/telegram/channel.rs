//! Telegram as a channel: updates come by long polling (or, in webhook mode,
//! through the gateway), replies go out by `sendMessage`.

use super::api::{TelegramApi, TelegramError, Update, parse_update};
use super::claims::Claims;
use super::offset::OffsetStore;
use super::poll;
use crate::channels::ChannelActor;
use crate::channels::pace::Pacer;
use crate::channels::platform::{Ask, Fault, Link, Platform, Pushed, Triage, Warning};
use crate::channels::seen::Seen;
use crate::channels::split::split_message_utf16;
use crate::config::{Config, Secret, TelegramConfig};
use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// The child's name in the tree (and its key for the status detail).
pub const CHILD_NAME: &str = "channel:telegram";

/// Webhook update ids remembered: Telegram redelivers an update it thinks failed.
const RECENT: usize = 256;

/// The `channel:telegram` actor.
pub type TelegramActor = ChannelActor<Telegram>;

/// One update for the worker.
pub struct Incoming {
    pub update: Update,
    /// For a polled update: the offset that confirms it, saved once it is
    /// answered so neither a restart nor Telegram answers it twice.
    pub next_offset: Option<i64>,
}

/// The Telegram protocol of the channel.
pub struct Telegram {
    pub(super) api: TelegramApi,
    /// `None`: no token in the config (the channel stops as rejected).
    token: Option<String>,
    webhook: Option<(String, Option<String>)>,
    pub(super) poll_timeout: Duration,
    pub(super) store: OffsetStore,
    /// The last offset saved; the poller waits on it before confirming a batch.
    pub(super) saved: watch::Sender<Option<i64>>,
    pacer: Pacer,
    allowed_users: HashSet<String>,
    max_message_length: usize,
    /// Webhook update ids accepted.
    seen: Seen,
    /// Polled updates claimed in the store (a cluster's term).
    pub(super) claims: Claims,
}

impl Platform for Telegram {
    /// A 5xx on an answer goes straight to the worker's reconnect backoff,
    /// which waits it out (see [`crate::channels::worker`]).
    const RETRY_SERVER_ERRORS: bool = false;
    type Event = Incoming;
    type Error = TelegramError;
    type Keep = ();

    type Config = TelegramConfig;

    fn with_shared_store(mut self, store: Option<Arc<dyn crate::store::Store>>) -> Self {
        self.store = self.store.with_shared(store.clone());
        self.claims = Claims::with_store(store.clone());
        self.seen = self.seen.with_store(store);
        self
    }

    fn open(tg: &TelegramConfig, config: &Config, _: ()) -> Result<Self, reqwest::Error> {
        let token = tg.bot_token.as_ref().and_then(Secret::trimmed);
        let api = TelegramApi::new(
            &tg.api_base,
            token.unwrap_or_default(),
            Duration::from_secs(30),
        )?;
        // The same secret the gateway checks (derived from the token when none is configured).
        let webhook = tg
            .webhook_url
            .clone()
            .map(|url| (url, crate::gateway::auth::telegram_webhook_secret(tg)));
        let store = OffsetStore::new(
            config.state_dir().join("telegram.offset"),
            token.unwrap_or_default(),
        );
        Ok(Self {
            api,
            token: token.map(str::to_string),
            webhook,
            poll_timeout: tg.poll_timeout,
            store,
            saved: watch::Sender::new(None),
            pacer: Pacer::new(tg.send_interval),
            allowed_users: tg
                .allowed_users
                .iter()
                .map(|u| u.trim().to_string())
                .collect(),
            max_message_length: tg.max_message_length.max(1),
            seen: Seen::new("telegram", RECENT, Default::default()),
            claims: Claims::default(),
        })
    }

    async fn receive(self: Arc<Self>, link: Link<Incoming>) -> Result<(), Fault> {
        if self.token.is_none() {
            return Err(Fault::Rejected(
                "no bot_token in [channel.telegram]; get one from @BotFather".into(),
            ));
        }
        let Some((url, secret)) = &self.webhook else {
            return poll::run(&self, &link)
                .await
                .map_err(|e| Fault::from_call("", e));
        };
        match self.api.set_webhook(url, secret.as_deref()).await {
            Ok(()) => {
                link.contact();
                tracing::info!("telegram: webhook set to {url}");
                link.status(format!("webhook {url}"));
                Ok(())
            }
            Err(e) => Err(Fault::from_call("setWebhook", e)),
        }
    }

    async fn pushed(&self, event: Pushed) -> Option<Incoming> {
        let Pushed::Telegram(raw) = event else {
            return None;
        };
        let update = parse_update(raw)?;
        let id = update.update_id.to_string();
        if !self.seen.first_sight(Some(&id)).await {
            return None;
        }
        Some(Incoming {
            update,
            next_offset: None,
        })
    }

    fn triage(&self, event: &Incoming) -> Triage {
        let Some(message) = &event.update.message else {
            return Triage::Ignore;
        };
        let (Some(text), Some(from)) = (&message.text, &message.from) else {
            return Triage::Ignore;
        };
        if from.is_bot {
            return Triage::Ignore;
        }
        let user = from.id;
        if !self.allowed_users.contains(&user.to_string()) {
            let name = from.username.as_deref().unwrap_or("");
            return Triage::Drop(Some(Warning {
                key: user.to_string(),
                message: format!(
                    "telegram: message from user {user} (@{name}) ignored: not in [channel.telegram] \
                     allowed_users; to allow this user run `zeroclaw channel bind-telegram {user}`"
                ),
            }));
        }
        Triage::Answer(Ask {
            chat: message.chat.id.to_string(),
            text: text.clone(),
            thread: None,
        })
    }

    /// A polled update's answer goes out only while this instance still
    /// holds the update's claim (see [`Claims`]); a webhook update was
    /// checked on arrival.
    async fn may_answer(&self, event: &Incoming) -> bool {
        match event.next_offset {
            Some(_) => self.claims.deliver(event.update.update_id).await,
            None => true,
        }
    }

    async fn finished(&self, event: &Incoming) {
        if let Some(next) = event.next_offset {
            self.store.save(next).await;
            self.saved.send_replace(Some(next));
        }
    }

    fn split(&self, text: &str) -> Vec<String> {
        split_message_utf16(text, self.max_message_length)
    }

    async fn send_part(
        &self,
        chat: &str,
        _: Option<&str>,
        part: String,
    ) -> Result<(), TelegramError> {
        self.pacer.wait(chat).await;
        self.api.send_message(chat, &part).await
    }
}
