//! `channel doctor` for Telegram: `getMe` and `getWebhookInfo`.

use super::api::TelegramApi;
use crate::channels::doctor::Check;
use crate::config::{Secret, TelegramConfig};
use std::time::Duration;

const NAME: &str = "telegram";

pub async fn probe(config: &TelegramConfig) -> Vec<Check> {
    let Some(token) = config.bot_token.as_ref().and_then(Secret::trimmed) else {
        return vec![Check::fail(
            NAME,
            "config",
            "no bot_token in [channel.telegram]; get one from @BotFather",
        )];
    };
    let api = match TelegramApi::new(&config.api_base, token, Duration::from_secs(15)) {
        Ok(a) => a,
        Err(e) => return vec![Check::fail(NAME, "config", format!("HTTP client: {e}"))],
    };
    let me = match api.get_me().await {
        Ok(me) => Check::ok(
            NAME,
            "getMe",
            format!(
                "bot @{} (id {})",
                me.username.unwrap_or_else(|| "?".into()),
                me.id
            ),
        ),
        Err(e) => return vec![Check::fail(NAME, "getMe", e.to_string())],
    };
    let webhook = match (api.get_webhook_info().await, &config.webhook_url) {
        (Err(e), _) => Check::fail(NAME, "getWebhookInfo", e.to_string()),
        (Ok(info), Some(want)) if info.url != *want => Check::fail(
            NAME,
            "getWebhookInfo",
            format!(
                "Telegram has webhook `{}` but webhook_url is `{want}`; (re)start the channel to register it",
                info.url
            ),
        ),
        (Ok(info), Some(_)) => match info.last_error_message {
            Some(err) => Check::fail(
                NAME,
                "getWebhookInfo",
                format!(
                    "webhook {} set, but Telegram's last delivery failed: {err} ({} pending)",
                    info.url, info.pending_update_count
                ),
            ),
            None => Check::ok(
                NAME,
                "getWebhookInfo",
                format!(
                    "webhook {} ({} pending)",
                    info.url, info.pending_update_count
                ),
            ),
        },
        (Ok(info), None) if !info.url.is_empty() => Check::ok(
            NAME,
            "getWebhookInfo",
            format!(
                "polling mode, but webhook `{}` is set; the channel deletes it when it starts",
                info.url
            ),
        ),
        (Ok(info), None) => Check::ok(
            NAME,
            "getWebhookInfo",
            format!(
                "polling mode, no webhook ({} pending)",
                info.pending_update_count
            ),
        ),
    };
    let mut checks = vec![me, webhook];
    if config.allowed_users.is_empty() {
        checks.push(Check::fail(
            NAME,
            "config",
            "allowed_users is empty: the bot answers nobody; add yourself with `zeroclaw channel bind-telegram <your user id>`",
        ));
    }
    checks
}
