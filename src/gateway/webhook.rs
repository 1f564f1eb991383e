//! `POST /webhook`: a message for the agent from any HTTP client.

use super::auth::check_webhook;
use super::body;
use super::error::ApiError;
use super::idempotency::{Claim, MAX_KEY_LEN};
use super::state::GatewayState;
use crate::agent::AgentRequest;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Request, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// Longest accepted session id.
const MAX_SESSION_LEN: usize = 128;

/// The answer body.
#[derive(Serialize)]
struct Reply<'a> {
    response: &'a str,
}

/// The request body.
#[derive(Debug, Deserialize)]
pub struct WebhookRequest {
    pub message: String,
    /// Conversation id; requests with the same one share history. Without
    /// one, each request is a conversation of its own.
    #[serde(default)]
    pub session: Option<String>,
}

pub async fn handle(
    State(state): State<GatewayState>,
    headers: HeaderMap,
    req: Request<Body>,
) -> Result<Response, ApiError> {
    let cfg = state.config();
    check_webhook(&headers, state.auth_token(), cfg.allow_unauthenticated)?;
    body::require_json(&headers)?;
    let key = idempotency_key(&headers)?;
    let raw = if state.auth_token().is_some() {
        body::read(req, state.read_timeout()).await?
    } else {
        // Anyone may post here: read a small body only.
        body::read_limited(req, state.read_timeout(), unauthenticated_limit(cfg)).await?
    };
    let parsed: WebhookRequest = body::parse_json(&raw)?;
    let request = agent_request(parsed)?;
    let Some(key) = key else {
        return answer(&state, request)
            .await
            .map(|b| json_response(&b, false));
    };
    match state.idempotency().claim(&key, &raw).await {
        Claim::Replay(b) => Ok(json_response(&b, true)),
        Claim::Conflict => Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "idempotency_key_reused",
            "this X-Idempotency-Key was already used with a different body; use a new key",
        )),
        Claim::First(pending) => {
            let b: Arc<str> = answer(&state, request).await?.into();
            pending.complete(b.clone());
            Ok(json_response(&b, false))
        }
    }
}

/// `max_unauthenticated_body_size`, never above `max_body_size`.
pub(crate) fn unauthenticated_limit(cfg: &crate::config::schema::GatewayConfig) -> u64 {
    cfg.max_unauthenticated_body_size
        .as_u64()
        .min(cfg.max_body_size.as_u64())
}

fn idempotency_key(headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    let Some(v) = headers.get("x-idempotency-key") else {
        return Ok(None);
    };
    match v.to_str() {
        Ok(k) if !k.is_empty() && k.len() <= MAX_KEY_LEN => Ok(Some(k.to_string())),
        _ => Err(ApiError::bad_request(format!(
            "X-Idempotency-Key must be 1 to {MAX_KEY_LEN} visible ASCII characters"
        ))),
    }
}

fn agent_request(parsed: WebhookRequest) -> Result<AgentRequest, ApiError> {
    if parsed.message.trim().is_empty() {
        return Err(ApiError::bad_request("`message` is empty"));
    }
    let session = match parsed.session {
        Some(s) if s.is_empty() || s.len() > MAX_SESSION_LEN || s.chars().any(char::is_control) => {
            return Err(ApiError::bad_request(format!(
                "`session` must be 1 to {MAX_SESSION_LEN} characters without control characters"
            )));
        }
        Some(s) => format!("webhook:{s}"),
        None => format!("webhook:anon-{:016x}", rand::random::<u64>()),
    };
    Ok(AgentRequest {
        session,
        message: parsed.message,
        ..AgentRequest::default()
    })
}

/// Ask the agent; the answer is the response body, ready to replay.
async fn answer(state: &GatewayState, request: AgentRequest) -> Result<String, ApiError> {
    let metrics = state.metrics();
    metrics.channel_message("webhook", "in");
    let agent = state.ctx().agent();
    match agent.respond(request).await {
        Ok(text) => {
            metrics.channel_message("webhook", "out");
            serde_json::to_string(&Reply { response: &text }).map_err(|e| {
                ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    format!("could not encode the answer: {e}"),
                )
            })
        }
        Err(e) => Err(ApiError::new(
            StatusCode::BAD_GATEWAY,
            "agent_error",
            e.user_message(),
        )),
    }
}

fn json_response(body: &str, replayed: bool) -> Response {
    let mut resp = (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        body.to_string(),
    )
        .into_response();
    if replayed {
        resp.headers_mut()
            .insert("idempotent-replayed", HeaderValue::from_static("true"));
    }
    resp
}
