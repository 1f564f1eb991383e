//! Authenticated probes of each configured channel, for `channel doctor`
//! (CLI) and the control socket's `channel.doctor`.

use crate::config::Config;
use serde::Serialize;

/// One probe's outcome.
#[derive(Debug, Clone, Serialize)]
pub struct Check {
    /// `telegram`, `discord`, `slack`.
    pub channel: &'static str,
    /// What was probed (`getMe`, `getWebhookInfo`, `GET /users/@me`, `auth.test`, `config`).
    pub check: String,
    pub ok: bool,
    /// What was found, or why it failed and what to do.
    pub detail: String,
}

impl Check {
    pub fn ok(channel: &'static str, check: &str, detail: impl Into<String>) -> Self {
        Self {
            channel,
            check: check.into(),
            ok: true,
            detail: crate::secrets::redact_string(detail.into()),
        }
    }

    pub fn fail(channel: &'static str, check: &str, detail: impl Into<String>) -> Self {
        Self {
            channel,
            check: check.into(),
            ok: false,
            detail: crate::secrets::redact_string(detail.into()),
        }
    }
}

/// Probe every configured and enabled channel; empty when none is.
pub async fn run(config: &Config) -> Vec<Check> {
    let mut checks = Vec::new();
    if let Some(tg) = config.channel.telegram.as_ref().filter(|c| c.enabled) {
        checks.extend(super::telegram::probe::probe(tg).await);
    }
    if let Some(dc) = config.channel.discord.as_ref().filter(|c| c.enabled) {
        checks.extend(super::discord::probe(dc).await);
    }
    if let Some(sl) = config.channel.slack.as_ref().filter(|c| c.enabled) {
        checks.extend(super::slack::probe(sl).await);
    }
    checks
}
