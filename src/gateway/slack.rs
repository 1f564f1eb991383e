//! `POST /webhook/slack`: Slack's Events API.

use super::body;
use super::error::ApiError;
use super::forward;
use super::slack_sig;
use super::state::GatewayState;
use crate::channels::msg::ChannelMsg;
use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, Request};

pub const CHILD: &str = crate::component::ChannelKind::Slack.child_name();

/// Check the signature headers, read a body of at most
/// `max_unauthenticated_body_size`, verify the signature over it, answer `url_verification`, and
/// hand `event_callback`s to the Slack channel actor without waiting (Slack
/// wants an answer within 3 s); an `event_id` seen before (a Slack retry)
/// is acknowledged and dropped.
pub async fn handle(
    State(state): State<GatewayState>,
    headers: HeaderMap,
    req: Request<Body>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let Some(secret) = state.slack_secret() else {
        return Err(ApiError::not_found(
            "the Slack Events API is not configured: set [channel.slack] signing_secret",
        ));
    };
    // Anyone can post here and the signature covers the body: check what
    // the headers can tell first, then read a small body only.
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let signed = slack_sig::check_headers(
        header("x-slack-request-timestamp"),
        header("x-slack-signature"),
        unix_now(),
    )
    .map_err(|e| ApiError::unauthorized(e.to_string()))?;
    let limit = super::webhook::unauthenticated_limit(state.config());
    let raw = body::read_limited(req, state.read_timeout(), limit).await?;
    signed
        .verify(secret.as_bytes(), &raw)
        .map_err(|e| ApiError::unauthorized(e.to_string()))?;
    let payload: serde_json::Value = body::parse_json(&raw)?;
    match payload.get("type").and_then(|t| t.as_str()) {
        Some("url_verification") => {
            let Some(challenge) = payload.get("challenge").and_then(|c| c.as_str()) else {
                return Err(ApiError::bad_request(
                    "url_verification without a `challenge`",
                ));
            };
            Ok(Json(serde_json::json!({ "challenge": challenge })))
        }
        Some("event_callback") => {
            let Some(id) = payload
                .get("event_id")
                .and_then(|v| v.as_str())
                .map(str::to_owned)
            else {
                return Err(ApiError::bad_request(
                    "event_callback without an `event_id`",
                ));
            };
            if !state.first_slack_event(&id) {
                return Ok(Json(serde_json::json!({"ok": true, "duplicate": true})));
            }
            if let Err(e) = forward::to_channel(&state, CHILD, ChannelMsg::SlackEvent(payload)) {
                state.forget_slack_event(&id);
                return Err(e);
            }
            Ok(Json(serde_json::json!({"ok": true})))
        }
        // `app_rate_limited` and future types: acknowledged, nothing to do.
        _ => Ok(Json(serde_json::json!({"ok": true}))),
    }
}

fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}
