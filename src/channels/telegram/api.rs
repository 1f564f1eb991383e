//! A plain Telegram Bot API client: the calls the channel needs, with the
//! Bot API's error envelope (`ok`, `error_code`, `description`,
//! `parameters.retry_after`) turned into typed errors.

use crate::channels::call::CallError;
use crate::channels::platform::{PlatformError, Severity};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use std::time::Duration;

/// Why a Bot API call failed.
#[derive(Debug, thiserror::Error)]
pub enum TelegramError {
    /// 401 (and 404, which the Bot API answers for a malformed token): retrying will not help.
    #[error(
        "bot token rejected ({code}: {description}); check [channel.telegram] bot_token (from @BotFather) and api_base"
    )]
    Rejected { code: u16, description: String },
    /// 409: another `getUpdates` poller or an active webhook uses this token.
    #[error(
        "conflict (409: {0}): another process polls this bot, or a webhook is set; stop the other poller or set webhook_url"
    )]
    Conflict(String),
    #[error("rate limited by Telegram; retry after {0:?}")]
    RateLimited(Duration),
    /// Any other `ok: false` answer (400 chat not found, 403 bot blocked, ...).
    #[error("Telegram API {method}: {code} {description}")]
    Api {
        method: String,
        code: u16,
        description: String,
    },
    #[error("Telegram API {method}: {error}")]
    Call { method: String, error: CallError },
}

impl PlatformError for TelegramError {
    fn severity(&self) -> Severity {
        match self {
            Self::Rejected { .. } => Severity::Rejected,
            Self::Call { error, .. } => error.severity(),
            Self::RateLimited(wait) => Severity::RateLimited(*wait),
            // 400/403 (chat gone, bot blocked), 409.
            Self::Conflict(_) | Self::Api { .. } => Severity::Refused,
        }
    }
}

#[derive(Deserialize)]
struct Envelope {
    ok: bool,
    #[serde(default)]
    result: Option<Value>,
    #[serde(default)]
    error_code: Option<u16>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    parameters: Option<Parameters>,
}

#[derive(Deserialize)]
struct Parameters {
    #[serde(default)]
    retry_after: Option<u64>,
}

/// One incoming update, as much of it as the channel uses.
#[derive(Debug, Clone, Deserialize)]
pub struct Update {
    pub update_id: i64,
    #[serde(default)]
    pub message: Option<Message>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Message {
    pub chat: Chat,
    #[serde(default)]
    pub from: Option<User>,
    #[serde(default)]
    pub text: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Chat {
    pub id: i64,
}

#[derive(Debug, Clone, Deserialize)]
pub struct User {
    pub id: i64,
    #[serde(default)]
    pub is_bot: bool,
    #[serde(default)]
    pub username: Option<String>,
}

/// The bot's own identity (`getMe`).
#[derive(Debug, Clone, Deserialize)]
pub struct Me {
    pub id: i64,
    #[serde(default)]
    pub username: Option<String>,
}

/// What `getWebhookInfo` says.
#[derive(Debug, Clone, Deserialize)]
pub struct WebhookInfo {
    #[serde(default)]
    pub url: String,
    #[serde(default)]
    pub pending_update_count: u64,
    #[serde(default)]
    pub last_error_message: Option<String>,
}

/// Talks to `<api_base>/bot<token>/<method>`.
/// How much longer than the long-poll time a `getUpdates` may take.
pub const POLL_GRACE: Duration = Duration::from_secs(5);

#[derive(Clone)]
pub struct TelegramApi {
    http: reqwest::Client,
    base: String,
}

impl TelegramApi {
    /// `request_timeout` bounds every call except `getUpdates`, which waits the
    /// long-poll time plus this.
    pub fn new(
        api_base: &str,
        token: &str,
        request_timeout: Duration,
    ) -> Result<Self, reqwest::Error> {
        Ok(Self {
            http: super::super::http::client(request_timeout)?,
            base: format!("{}/bot{}", api_base.trim_end_matches('/'), token),
        })
    }

    async fn call<T: DeserializeOwned>(
        &self,
        method: &str,
        body: Value,
        timeout: Option<Duration>,
    ) -> Result<T, TelegramError> {
        let mut request = self
            .http
            .post(format!("{}/{method}", self.base))
            .json(&body);
        if let Some(t) = timeout {
            request = request.timeout(t);
        }
        let failed = |error| TelegramError::Call {
            method: method.to_string(),
            error,
        };
        // The URL holds the bot token: never let it into the error's text.
        let transport = |e: reqwest::Error| failed(CallError::Transport(e.without_url()));
        let response = request.send().await.map_err(transport)?;
        let status = response.status().as_u16();
        let bytes = response.bytes().await.map_err(transport)?;
        let envelope: Envelope = match serde_json::from_slice(&bytes) {
            Ok(e) => e,
            Err(_) if status >= 500 => {
                return Err(failed(CallError::Server(status)));
            }
            Err(e) => {
                return Err(failed(CallError::Decode(format!("HTTP {status}: {e}"))));
            }
        };
        if envelope.ok {
            let result = envelope.result.unwrap_or(Value::Null);
            return serde_json::from_value(result)
                .map_err(|e| failed(CallError::Decode(e.to_string())));
        }
        let code = envelope.error_code.unwrap_or(status);
        let description = envelope.description.unwrap_or_default();
        Err(match code {
            401 | 404 => TelegramError::Rejected { code, description },
            409 => TelegramError::Conflict(description),
            429 => TelegramError::RateLimited(Duration::from_secs(
                envelope.parameters.and_then(|p| p.retry_after).unwrap_or(1),
            )),
            c if c >= 500 => failed(CallError::Server(c)),
            _ => TelegramError::Api {
                method: method.into(),
                code,
                description,
            },
        })
    }

    pub async fn get_me(&self) -> Result<Me, TelegramError> {
        self.call("getMe", json!({}), None).await
    }

    /// Long poll: waits up to `poll_timeout` on the server for updates from `offset` on.
    pub async fn get_updates(
        &self,
        offset: Option<i64>,
        poll_timeout: Duration,
    ) -> Result<Vec<Update>, TelegramError> {
        let mut body = json!({
            "timeout": poll_timeout.as_secs(),
            "allowed_updates": ["message"],
        });
        if let Some(o) = offset {
            body["offset"] = json!(o);
        }
        // Liveness by completed work: a poll the network black-holed
        // (accepted, never answered) is abandoned soon after the
        // server-side wait, and the channel polls again.
        let http_timeout = poll_timeout + POLL_GRACE;
        // Updates that do not parse are kept as raw ids so the offset still moves past them.
        let raw: Vec<Value> = self.call("getUpdates", body, Some(http_timeout)).await?;
        Ok(raw.into_iter().filter_map(parse_update).collect())
    }

    pub async fn send_message(&self, chat_id: &str, text: &str) -> Result<(), TelegramError> {
        let chat: Value = chat_id
            .parse::<i64>()
            .map(Value::from)
            .unwrap_or_else(|_| Value::from(chat_id));
        let _: Value = self
            .call("sendMessage", json!({"chat_id": chat, "text": text}), None)
            .await?;
        Ok(())
    }

    pub async fn set_webhook(&self, url: &str, secret: Option<&str>) -> Result<(), TelegramError> {
        let mut body = json!({"url": url, "allowed_updates": ["message"]});
        if let Some(s) = secret {
            body["secret_token"] = json!(s);
        }
        let _: Value = self.call("setWebhook", body, None).await?;
        Ok(())
    }

    /// Pending updates are kept, so switching to polling loses nothing.
    pub async fn delete_webhook(&self) -> Result<(), TelegramError> {
        let _: Value = self
            .call(
                "deleteWebhook",
                json!({"drop_pending_updates": false}),
                None,
            )
            .await?;
        Ok(())
    }

    pub async fn get_webhook_info(&self) -> Result<WebhookInfo, TelegramError> {
        self.call("getWebhookInfo", json!({}), None).await
    }
}

/// An update whose body we do not understand still carries an `update_id`,
/// which must be confirmed or the poll would return it forever.
pub fn parse_update(raw: Value) -> Option<Update> {
    match serde_json::from_value::<Update>(raw.clone()) {
        Ok(u) => Some(u),
        Err(e) => {
            let id = raw.get("update_id").and_then(Value::as_i64)?;
            tracing::debug!(
                update_id = id,
                "telegram: skipping update of unknown shape: {e}"
            );
            Some(Update {
                update_id: id,
                message: None,
            })
        }
    }
}
