//! `channel doctor` for Discord: `GET /users/@me` with the bot token.

use super::api::DiscordApi;
use crate::channels::doctor::Check;
use crate::config::{DiscordConfig, Secret};
use std::time::Duration;

const NAME: &str = "discord";

pub async fn probe(config: &DiscordConfig) -> Vec<Check> {
    let Some(token) = config.bot_token.as_ref().and_then(Secret::trimmed) else {
        return vec![Check::fail(
            NAME,
            "config",
            "no bot_token in [channel.discord]",
        )];
    };
    let api = match DiscordApi::new(&config.api_base, token, Duration::from_secs(15)) {
        Ok(a) => a,
        Err(e) => return vec![Check::fail(NAME, "config", format!("HTTP client: {e}"))],
    };
    vec![match api.get_me().await {
        Ok(me) => Check::ok(
            NAME,
            "GET /users/@me",
            format!("bot {} (id {})", me.username, me.id),
        ),
        Err(e) => Check::fail(NAME, "GET /users/@me", e.to_string()),
    }]
}
