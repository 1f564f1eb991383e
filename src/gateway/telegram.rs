//! `POST /webhook/telegram`: Telegram's webhook mode.

use super::auth::secrets_match;
use super::body;
use super::error::ApiError;
use super::forward;
use super::state::GatewayState;
use crate::channels::msg::ChannelMsg;
use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, Request};

pub const CHILD: &str = crate::component::ChannelKind::Telegram.child_name();
pub const SECRET_HEADER: &str = "x-telegram-bot-api-secret-token";

/// Check the secret Telegram echoes back, hand the update to the Telegram
/// channel actor and answer 200 at once; an `update_id` seen before (a
/// Telegram retry) is acknowledged and dropped.
pub async fn handle(
    State(state): State<GatewayState>,
    headers: HeaderMap,
    req: Request<Body>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let Some(expected) = state.telegram_secret() else {
        return Err(ApiError::not_found(
            "Telegram webhook mode is not configured: enable [channel.telegram] with a \
             bot_token (and ideally webhook_secret)",
        ));
    };
    let presented = headers.get(SECRET_HEADER).map(|v| v.as_bytes());
    match presented {
        Some(p) if secrets_match(p, expected.as_bytes()) => {}
        Some(_) => {
            return Err(ApiError::unauthorized(
                "X-Telegram-Bot-Api-Secret-Token does not match [channel.telegram] webhook_secret",
            ));
        }
        None => {
            return Err(ApiError::unauthorized(
                "missing X-Telegram-Bot-Api-Secret-Token: register the webhook with \
                 secret_token = [channel.telegram] webhook_secret",
            ));
        }
    }
    let raw = body::read(req, state.read_timeout()).await?;
    let update: serde_json::Value = body::parse_json(&raw)?;
    let Some(id) = update.get("update_id").and_then(|v| v.as_i64()) else {
        return Err(ApiError::bad_request(
            "not a Telegram update: the body has no integer `update_id`",
        ));
    };
    if !state.first_telegram_update(id) {
        return Ok(Json(serde_json::json!({"ok": true, "duplicate": true})));
    }
    if let Err(e) = forward::to_channel(&state, CHILD, ChannelMsg::TelegramUpdate(update)) {
        // Not delivered: let Telegram's retry through.
        state.forget_telegram_update(id);
        return Err(e);
    }
    Ok(Json(serde_json::json!({"ok": true})))
}
