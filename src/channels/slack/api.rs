//! A plain Slack Web API client: the few methods the channel uses, with
//! Slack's `{"ok": false, "error": ...}` bodies and 429 `Retry-After` typed.

use crate::channels::call::CallError;
use crate::channels::platform::{PlatformError, Severity};
use serde_json::{Value, json};
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum SlackError {
    /// `invalid_auth`, `not_authed`, `token_revoked`, ...: retrying will not help.
    #[error("{which} rejected by Slack ({error}); check [channel.slack] {which}")]
    Rejected { which: &'static str, error: String },
    #[error("rate limited by Slack; retry after {0:?}")]
    RateLimited(Duration),
    #[error("Slack API {method}: {error}")]
    Api { method: String, error: String },
    #[error("Slack API {method}: {error}")]
    Call { method: String, error: CallError },
}

impl PlatformError for SlackError {
    fn severity(&self) -> Severity {
        match self {
            Self::Rejected { .. } => Severity::Rejected,
            Self::Call { error, .. } => error.severity(),
            Self::RateLimited(wait) => Severity::RateLimited(*wait),
            Self::Api { .. } => Severity::Refused,
        }
    }
}

/// Errors Slack uses for a token it will not accept.
const AUTH_ERRORS: &[&str] = &[
    "invalid_auth",
    "not_authed",
    "account_inactive",
    "token_revoked",
    "token_expired",
    "not_allowed_token_type",
    "missing_scope",
];

/// Who the bot token belongs to (`auth.test`).
#[derive(Debug, Clone)]
pub struct Identity {
    pub user_id: String,
    pub team: String,
    pub user: String,
}

#[derive(Clone)]
pub struct SlackApi {
    http: reqwest::Client,
    base: String,
    bot_token: String,
    app_token: Option<String>,
}

impl SlackApi {
    pub fn new(
        api_base: &str,
        bot_token: &str,
        app_token: Option<&str>,
        timeout: Duration,
    ) -> Result<Self, reqwest::Error> {
        Ok(Self {
            http: super::super::http::client(timeout)?,
            base: api_base.trim_end_matches('/').to_string(),
            bot_token: bot_token.to_string(),
            app_token: app_token.map(String::from),
        })
    }

    async fn call(
        &self,
        method: &str,
        which: &'static str,
        token: &str,
        body: Value,
    ) -> Result<Value, SlackError> {
        let failed = |error| SlackError::Call {
            method: method.to_string(),
            error,
        };
        let response = self
            .http
            .post(format!("{}/{method}", self.base))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .map_err(|e| failed(CallError::Transport(e)))?;
        let status = response.status().as_u16();
        if status == 429 {
            let secs = response
                .headers()
                .get(reqwest::header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok())
                .unwrap_or(1);
            return Err(SlackError::RateLimited(Duration::from_secs(secs)));
        }
        if status >= 500 {
            return Err(failed(CallError::Server(status)));
        }
        let body: Value = response
            .json()
            .await
            .map_err(|e| failed(CallError::Decode(format!("HTTP {status}: {e}"))))?;
        if body["ok"] == true {
            return Ok(body);
        }
        let error = body["error"]
            .as_str()
            .unwrap_or("unknown_error")
            .to_string();
        Err(if AUTH_ERRORS.contains(&error.as_str()) {
            SlackError::Rejected { which, error }
        } else if error == "ratelimited" {
            SlackError::RateLimited(Duration::from_secs(1))
        } else {
            SlackError::Api {
                method: method.into(),
                error,
            }
        })
    }

    pub async fn auth_test(&self) -> Result<Identity, SlackError> {
        let v = self
            .call("auth.test", "bot_token", &self.bot_token, json!({}))
            .await?;
        let s = |k: &str| v[k].as_str().unwrap_or_default().to_string();
        Ok(Identity {
            user_id: s("user_id"),
            team: s("team"),
            user: s("user"),
        })
    }

    /// A fresh Socket Mode websocket URL (each is good for one connection).
    pub async fn open_connection(&self) -> Result<String, SlackError> {
        let Some(app) = &self.app_token else {
            return Err(SlackError::Rejected {
                which: "app_token",
                error: "not set".into(),
            });
        };
        let v = self
            .call("apps.connections.open", "app_token", app, json!({}))
            .await?;
        v["url"]
            .as_str()
            .map(String::from)
            .ok_or_else(|| SlackError::Call {
                method: "apps.connections.open".into(),
                error: CallError::Decode("no url".into()),
            })
    }

    pub async fn post_message(
        &self,
        channel: &str,
        text: &str,
        thread_ts: Option<&str>,
    ) -> Result<(), SlackError> {
        let mut body = json!({"channel": channel, "text": text});
        if let Some(ts) = thread_ts {
            body["thread_ts"] = json!(ts);
        }
        self.call("chat.postMessage", "bot_token", &self.bot_token, body)
            .await
            .map(|_| ())
    }
}
