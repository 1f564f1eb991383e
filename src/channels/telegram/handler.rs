//! What the channel does with one update and how it sends a reply; shared by
//! the polling loop, the webhook worker and cron delivery.

use super::api::{TelegramApi, TelegramError, Update};
use crate::channels::answer::answer;
use crate::channels::deps::ChannelDeps;
use crate::channels::pace::Pacer;
use crate::channels::send::{RateLimited, send_parts};
use crate::channels::split::split_message_utf16;
use std::collections::HashSet;
use std::sync::Mutex;

/// The channel's behaviour, independent of how updates arrive.
pub struct TelegramChannel {
    pub api: TelegramApi,
    ctx: ChannelDeps,
    pacer: Pacer,
    allowed_users: HashSet<String>,
    max_message_length: usize,
    tools: Vec<String>,
    /// Senders already told about in the log, so a chatty stranger logs once.
    warned: Mutex<HashSet<i64>>,
}

impl TelegramChannel {
    pub fn new(api: TelegramApi, ctx: ChannelDeps, config: &crate::config::TelegramConfig) -> Self {
        Self {
            api,
            ctx,
            pacer: Pacer::new(config.send_interval),
            allowed_users: config
                .allowed_users
                .iter()
                .map(|u| u.trim().to_string())
                .collect(),
            max_message_length: config.max_message_length.max(1),
            tools: config.tools.clone(),
            warned: Mutex::new(HashSet::new()),
        }
    }

    /// Send `text` to `chat`, split to the length limit, paced per chat, waiting
    /// out 429s as Telegram asks.
    pub async fn send_text(&self, chat: &str, text: &str) -> Result<(), TelegramError> {
        send_parts(
            "telegram",
            chat,
            split_message_utf16(text, self.max_message_length),
            |part| async move {
                self.pacer.wait(chat).await;
                self.api.send_message(chat, &part).await
            },
            || self.ctx.metrics().channel_message("telegram", "out"),
        )
        .await
    }

    /// Handle one update. `Ok` means the update is finished with (answered,
    /// refused or not for us) and the offset may move past it; `Err` means it
    /// must be tried again after the channel restarts.
    pub async fn handle_update(&self, update: Update) -> Result<(), TelegramError> {
        let Some(message) = update.message else {
            return Ok(());
        };
        let (Some(text), Some(from)) = (message.text, message.from) else {
            return Ok(());
        };
        if from.is_bot {
            return Ok(());
        }
        self.ctx.metrics().channel_message("telegram", "in");
        let chat = message.chat.id.to_string();
        if !self.allowed_users.contains(&from.id.to_string()) {
            self.refuse(from.id, from.username.as_deref());
            return Ok(());
        }
        let reply = answer(&self.ctx, "telegram", &chat, text, &self.tools).await;
        match self.send_text(&chat, &reply).await {
            Ok(()) => Ok(()),
            Err(e) if e.is_connection() || matches!(e, TelegramError::Rejected { .. }) => Err(e),
            Err(e) => {
                // 400/403 (chat gone, bot blocked): retrying cannot help.
                tracing::warn!(chat, "telegram: could not answer: {e}");
                Ok(())
            }
        }
    }

    fn refuse(&self, user: i64, username: Option<&str>) {
        let first = self
            .warned
            .lock()
            .map(|mut w| w.insert(user))
            .unwrap_or(false);
        if first {
            tracing::warn!(
                user_id = user,
                username = username.unwrap_or(""),
                "telegram: message from user {user} ignored: not in [channel.telegram] allowed_users; \
                 to allow this user run `zeroclaw channel bind-telegram {user}`"
            );
        }
    }
}

impl RateLimited for TelegramError {
    fn retry_after(&self) -> Option<std::time::Duration> {
        match self {
            TelegramError::RateLimited(wait) => Some(*wait),
            _ => None,
        }
    }
}
