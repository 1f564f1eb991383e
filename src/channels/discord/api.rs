//! A plain Discord REST client: who am I, and post a message, honouring 429
//! `retry_after` and the `X-RateLimit-*` headers per channel.

use crate::channels::call::CallError;
use crate::channels::platform::{PlatformError, Severity};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::time::Duration;
use tokio::sync::Mutex;
use tokio::time::{Instant, sleep_until};

#[derive(Debug, thiserror::Error)]
pub enum DiscordError {
    #[error("bot token rejected by Discord ({0}); check [channel.discord] bot_token")]
    Rejected(String),
    #[error("`{0}` is not a Discord channel id (a number like 1234567890123456789)")]
    BadTarget(String),
    #[error("rate limited by Discord; retry after {0:?}")]
    RateLimited(Duration),
    #[error("Discord API {route}: {status} {message}")]
    Api {
        route: String,
        status: u16,
        message: String,
    },
    #[error("Discord API {route}: {error}")]
    Call { route: String, error: CallError },
}

impl DiscordError {
    fn call(route: &str, error: CallError) -> Self {
        Self::Call {
            route: route.to_string(),
            error,
        }
    }
}

impl PlatformError for DiscordError {
    fn severity(&self) -> Severity {
        match self {
            Self::Rejected(_) => Severity::Rejected,
            Self::Call { error, .. } => error.severity(),
            Self::RateLimited(wait) => Severity::RateLimited(*wait),
            Self::BadTarget(_) | Self::Api { .. } => Severity::Refused,
        }
    }
}

/// The bot's own user.
#[derive(Debug, Clone)]
pub struct Me {
    pub id: String,
    pub username: String,
}

pub struct DiscordApi {
    http: reqwest::Client,
    base: String,
    token: String,
    /// Per channel: no request before this instant (bucket exhausted).
    blocked_until: Mutex<HashMap<String, Instant>>,
}

impl DiscordApi {
    pub fn new(api_base: &str, token: &str, timeout: Duration) -> Result<Self, reqwest::Error> {
        Ok(Self {
            http: super::super::http::client(timeout)?,
            base: api_base.trim_end_matches('/').to_string(),
            token: token.to_string(),
            blocked_until: Mutex::new(HashMap::new()),
        })
    }

    async fn check(route: &str, response: reqwest::Response) -> Result<Value, DiscordError> {
        let status = response.status().as_u16();
        if status >= 500 {
            return Err(DiscordError::call(route, CallError::Server(status)));
        }
        let header_wait = header_secs(&response, "retry-after");
        let body: Value = response
            .json()
            .await
            .map_err(|e| DiscordError::call(route, CallError::Transport(e)))?;
        match status {
            200..=299 => Ok(body),
            401 => Err(DiscordError::Rejected(format!(
                "401 {}",
                body["message"].as_str().unwrap_or("Unauthorized")
            ))),
            429 => {
                let secs = body["retry_after"].as_f64().or(header_wait).unwrap_or(1.0);
                Err(DiscordError::RateLimited(Duration::from_secs_f64(
                    secs.clamp(0.0, 3600.0),
                )))
            }
            _ => Err(DiscordError::Api {
                route: route.into(),
                status,
                message: body["message"].as_str().unwrap_or_default().to_string(),
            }),
        }
    }

    pub async fn get_me(&self) -> Result<Me, DiscordError> {
        let route = "GET /users/@me";
        let response = self
            .http
            .get(format!("{}/users/@me", self.base))
            .header("authorization", format!("Bot {}", self.token))
            .send()
            .await
            .map_err(|e| DiscordError::call(route, CallError::Transport(e)))?;
        let v = Self::check(route, response).await?;
        Ok(Me {
            id: v["id"].as_str().unwrap_or_default().to_string(),
            username: v["username"].as_str().unwrap_or_default().to_string(),
        })
    }

    /// One `POST /channels/{id}/messages`; waits first if the channel's bucket is empty.
    pub async fn create_message(&self, channel: &str, content: &str) -> Result<(), DiscordError> {
        // The id goes into the URL path: only digits, so it cannot reach another route.
        if channel.is_empty() || !channel.bytes().all(|b| b.is_ascii_digit()) {
            return Err(DiscordError::BadTarget(channel.to_string()));
        }
        let route = format!("POST /channels/{channel}/messages");
        let until = self.blocked_until.lock().await.get(channel).copied();
        if let Some(until) = until {
            sleep_until(until).await;
        }
        let response = self
            .http
            .post(format!("{}/channels/{channel}/messages", self.base))
            .header("authorization", format!("Bot {}", self.token))
            .json(&json!({ "content": content, "allowed_mentions": {"parse": []} }))
            .send()
            .await
            .map_err(|e| DiscordError::call(&route, CallError::Transport(e)))?;
        let remaining = response
            .headers()
            .get("x-ratelimit-remaining")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        let reset_after = header_secs(&response, "x-ratelimit-reset-after");
        {
            let mut blocked = self.blocked_until.lock().await;
            match (remaining, reset_after) {
                (Some(0), Some(secs)) => {
                    let wait = Duration::from_secs_f64(secs.clamp(0.0, 3600.0));
                    blocked.insert(channel.to_string(), Instant::now() + wait);
                }
                _ => {
                    blocked.remove(channel);
                }
            }
        }
        Self::check(&route, response).await.map(|_| ())
    }
}

fn header_secs(response: &reqwest::Response, name: &str) -> Option<f64> {
    response
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<f64>().ok())
}
