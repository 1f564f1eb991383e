//! `channel doctor` for Slack: `auth.test` with the bot token, and the mode.

use super::api::SlackApi;
use crate::channels::doctor::Check;
use crate::config::{Secret, SlackConfig};
use std::time::Duration;

const NAME: &str = "slack";

pub async fn probe(config: &SlackConfig) -> Vec<Check> {
    let Some(token) = config.bot_token.as_ref().and_then(Secret::trimmed) else {
        return vec![Check::fail(
            NAME,
            "config",
            "no bot_token (xoxb-...) in [channel.slack]",
        )];
    };
    let mode = match (&config.app_token, &config.signing_secret) {
        (Some(_), _) => Check::ok(NAME, "mode", "socket mode (app_token)"),
        (None, Some(_)) => Check::ok(
            NAME,
            "mode",
            "events api via /webhook/slack (signing_secret)",
        ),
        (None, None) => Check::fail(
            NAME,
            "mode",
            "set app_token (Socket Mode) or signing_secret (Events API) in [channel.slack]",
        ),
    };
    let api = match SlackApi::new(&config.api_base, token, None, Duration::from_secs(15)) {
        Ok(a) => a,
        Err(e) => return vec![Check::fail(NAME, "config", format!("HTTP client: {e}"))],
    };
    let auth = match api.auth_test().await {
        Ok(me) => Check::ok(
            NAME,
            "auth.test",
            format!("bot {} ({}) in {}", me.user, me.user_id, me.team),
        ),
        Err(e) => Check::fail(NAME, "auth.test", e.to_string()),
    };
    vec![auth, mode]
}
