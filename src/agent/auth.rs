//! `zeroclaw auth status`: which credentials are configured, where they come
//! from (redacted), and optionally whether the service accepts them.
//!
//! Plain code over a [`Config`]; the CLI in `cli.rs` only prints.

use super::providers::settings::{self, KeySource, Wire};
use super::providers::{anthropic, openai, transport};
use crate::config::{Config, Secret};
use serde::Serialize;
use std::time::Duration;

/// One credential of one provider or channel.
#[derive(Debug, Clone, Serialize)]
pub struct CredentialReport {
    /// `provider` or `channel`.
    pub kind: &'static str,
    /// `anthropic`, `openrouter`, `telegram`, ...
    pub name: String,
    /// `api_key`, `bot_token`, `app_token`, `signing_secret`.
    pub credential: &'static str,
    pub configured: bool,
    /// Whether the provider or channel cannot work without it.
    pub required: bool,
    /// `config file [provider]`, `environment variable ANTHROPIC_API_KEY`, `not configured`.
    pub source: String,
    /// e.g. `sk-a…f3`; never the secret itself.
    pub redacted: Option<String>,
    /// Set by [`check`].
    pub check: Option<CheckResult>,
    /// The value, kept for [`check`] and never serialised or printed.
    #[serde(skip)]
    secret: Option<String>,
}

/// What one authenticated call said.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct CheckResult {
    pub ok: bool,
    pub detail: String,
}

/// `sk-ant-api03-…` → `sk-a…f3`: enough to recognise a key, not to use it.
pub fn redact(secret: &str) -> String {
    let chars: Vec<char> = secret.chars().collect();
    if chars.len() < 12 {
        return "***".into();
    }
    let head: String = chars[..4].iter().collect();
    let tail: String = chars[chars.len() - 2..].iter().collect();
    format!("{head}…{tail}")
}

fn channel_secret(secret: Option<&Secret>, table: &str) -> (Option<String>, KeySource) {
    secret
        .and_then(|s| settings::read_secret(s, table))
        .map_or((None, KeySource::Missing), |c| (c.value, c.source))
}

fn report(
    kind: &'static str,
    name: &str,
    credential: &'static str,
    required: bool,
    value: Option<String>,
    source: KeySource,
) -> CredentialReport {
    CredentialReport {
        kind,
        name: name.to_string(),
        credential,
        configured: value.is_some(),
        required,
        source: source.describe(),
        redacted: value.as_deref().map(redact),
        check: None,
        secret: value,
    }
}

/// Every provider the config uses (default first, then `[providers.*]`) and
/// every configured channel credential.
pub fn collect(config: &Config) -> Vec<CredentialReport> {
    let mut out = Vec::new();
    for name in settings::configured_names(config) {
        if settings::wire_for(config, &name) == Some(Wire::Echo) {
            out.push(CredentialReport {
                source: "none needed".into(),
                ..report(
                    "provider",
                    &name,
                    "api_key",
                    false,
                    None,
                    KeySource::Missing,
                )
            });
            continue;
        }
        let c = settings::credential(config, &name);
        out.push(report(
            "provider",
            &name,
            "api_key",
            settings::key_required(&name),
            c.value,
            c.source,
        ));
    }
    let ch = &config.channel;
    if let Some(t) = &ch.telegram {
        let (v, s) = channel_secret(t.bot_token.as_ref(), "[channel.telegram]");
        out.push(report("channel", "telegram", "bot_token", true, v, s));
    }
    if let Some(d) = &ch.discord {
        let (v, s) = channel_secret(d.bot_token.as_ref(), "[channel.discord]");
        out.push(report("channel", "discord", "bot_token", true, v, s));
    }
    if let Some(sl) = &ch.slack {
        let (v, s) = channel_secret(sl.bot_token.as_ref(), "[channel.slack]");
        out.push(report("channel", "slack", "bot_token", true, v, s));
        for (field, secret) in [
            ("app_token", sl.app_token.as_ref()),
            ("signing_secret", sl.signing_secret.as_ref()),
        ] {
            if secret.is_some() {
                let (v, s) = channel_secret(secret, "[channel.slack]");
                out.push(report("channel", "slack", field, false, v, s));
            }
        }
    }
    out
}

/// Make one cheap authenticated call per report that can be checked (provider
/// keys: `GET /v1/models`; Telegram `getMe`; Discord `GET /users/@me`; Slack
/// `auth.test`). A missing required credential is a failed check.
pub async fn check(config: &Config, reports: &mut [CredentialReport], timeout: Duration) {
    let client = match super::http::client() {
        Ok(c) => c,
        Err(e) => {
            for r in reports.iter_mut() {
                r.check = Some(failed(e.to_string()));
            }
            return;
        }
    };
    for r in reports.iter_mut() {
        if r.required && !r.configured {
            r.check = Some(failed(format!(
                "{} {} is not configured",
                r.name, r.credential
            )));
            continue;
        }
        let token = r.secret.clone().unwrap_or_default();
        let channel = &config.channel;
        let result = match (r.kind, r.name.as_str(), r.credential) {
            ("provider", name, _) => check_provider(&client, config, name, timeout).await,
            ("channel", "telegram", "bot_token") => {
                let base = channel.telegram.as_ref().map(|t| t.api_base.as_str());
                let url = below(base, &format!("/bot{token}/getMe"));
                probe(
                    client.get(url),
                    timeout,
                    Accepts::OkField,
                    "result.username",
                )
                .await
            }
            ("channel", "discord", "bot_token") => {
                let base = channel.discord.as_ref().map(|d| d.api_base.as_str());
                let req = client
                    .get(below(base, "/users/@me"))
                    .header("authorization", format!("Bot {token}"));
                probe(req, timeout, Accepts::Status, "username").await
            }
            ("channel", "slack", "bot_token") => {
                let base = channel.slack.as_ref().map(|s| s.api_base.as_str());
                let req = client.post(below(base, "/auth.test")).bearer_auth(token);
                probe(req, timeout, Accepts::OkField, "user").await
            }
            _ => None,
        };
        r.check = result;
    }
}

/// `path` below a channel's `api_base` (an empty base when it is not configured).
fn below(api_base: Option<&str>, path: &str) -> String {
    let base = api_base.unwrap_or_default().trim_end_matches('/');
    format!("{base}{path}")
}

fn failed(detail: impl Into<String>) -> CheckResult {
    CheckResult {
        ok: false,
        detail: detail.into(),
    }
}

async fn check_provider(
    client: &reqwest::Client,
    config: &Config,
    name: &str,
    timeout: Duration,
) -> Option<CheckResult> {
    let s = match settings::resolve(config, name, None) {
        Ok(s) => s,
        Err(e) => return Some(failed(e.detail)),
    };
    let headers = match s.wire {
        Wire::Echo => return None,
        Wire::Anthropic => anthropic::headers(&s),
        Wire::OpenAi => openai::headers(&s),
    };
    let headers = match headers {
        Ok(h) => h,
        Err(e) => return Some(failed(e.detail)),
    };
    let url = format!("{}/v1/models", s.base_url);
    let req = client.get(url).headers(headers);
    probe(req, timeout, Accepts::Status, "").await
}

async fn send(
    req: reqwest::RequestBuilder,
    timeout: Duration,
) -> Result<(u16, serde_json::Value), CheckResult> {
    let response = req.timeout(timeout).send().await.map_err(|e| {
        // Without the URL: a Telegram URL carries the token.
        failed(format!(
            "request failed: {}",
            transport::error_chain(&e.without_url())
        ))
    })?;
    let status = response.status().as_u16();
    let bytes = response.bytes().await.map_err(|e| {
        failed(format!(
            "reply cut: {}",
            transport::error_chain(&e.without_url())
        ))
    })?;
    if !(200..300).contains(&status) {
        return Err(failed(format!(
            "HTTP {status}: {}",
            platform_detail(&bytes)
        )));
    }
    Ok((status, serde_json::from_slice(&bytes).unwrap_or_default()))
}

/// How a probed service says that a credential is good.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Accepts {
    /// Any 2xx status.
    Status,
    /// `{"ok": true}`: Telegram and Slack answer 200 with `ok: false` on errors.
    OkField,
}

/// One probe; `field` (dotted path) names the identity shown on success.
async fn probe(
    req: reqwest::RequestBuilder,
    timeout: Duration,
    accepts: Accepts,
    field: &str,
) -> Option<CheckResult> {
    let (status, body) = match send(req, timeout).await {
        Ok(reply) => reply,
        Err(e) => return Some(e),
    };
    if accepts == Accepts::OkField && body["ok"] != true {
        let why = body["error"]
            .as_str()
            .or_else(|| body["description"].as_str())
            .unwrap_or("the service answered ok: false");
        return Some(failed(why));
    }
    let fallback = match accepts {
        Accepts::Status => format!("HTTP {status}"),
        Accepts::OkField => "ok".into(),
    };
    Some(CheckResult {
        ok: true,
        detail: identity(&body, field).unwrap_or(fallback),
    })
}

/// The error text of any of the APIs probed: Telegram `description`, Discord
/// `message`, Slack `error`, providers' `error.message`.
fn platform_detail(bytes: &[u8]) -> String {
    if let Ok(v) = serde_json::from_slice::<serde_json::Value>(bytes) {
        for key in ["description", "message"] {
            if let Some(s) = v[key].as_str() {
                return s.to_string();
            }
        }
        if let Some(s) = v["error"].as_str() {
            return s.to_string();
        }
    }
    transport::error_detail(bytes)
}

fn identity(body: &serde_json::Value, field: &str) -> Option<String> {
    if field.is_empty() {
        return None;
    }
    let mut v = body;
    for part in field.split('.') {
        v = v.get(part)?;
    }
    v.as_str().map(|s| format!("authenticated as {s}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redaction_shows_only_a_recognisable_hint() {
        assert_eq!(redact("sk-ant-api03-abcdef1234f3"), "sk-a…f3");
        assert_eq!(redact("short"), "***");
    }

    #[test]
    fn collects_providers_and_channels_with_sources() {
        // Raw serde: a load would (rightly) refuse the unset variable.
        let c: crate::config::Config = toml::from_str(
            r#"
            [provider]
            name = "anthropic"
            api_key = "sk-ant-0123456789"
            [providers.ollama]
            [providers.echo]
            [channel.telegram]
            bot_token = "123456:ABCDEFGHIJKLMNOP"
            [channel.slack]
            bot_token = "${ZEROCLAW_TEST_UNSET_VAR_42}"
            "#,
        )
        .unwrap();
        let r = collect(&c);
        let names: Vec<(&str, &str)> = r.iter().map(|r| (r.name.as_str(), r.credential)).collect();
        assert_eq!(
            names,
            [
                ("anthropic", "api_key"),
                ("echo", "api_key"),
                ("ollama", "api_key"),
                ("telegram", "bot_token"),
                ("slack", "bot_token")
            ]
        );
        assert_eq!(r[0].source, "config file [provider]");
        assert_eq!(r[0].redacted.as_deref(), Some("sk-a…89"));
        assert!(!r[2].required && !r[2].configured);
        assert!(r[4].required && !r[4].configured);
        let json = serde_json::to_string(&r).unwrap();
        assert!(
            !json.contains("ABCDEFGHIJKLMNOP"),
            "secret serialised: {json}"
        );
    }
}
