//! Credential checks: bearer tokens and shared secrets, compared in constant time.

use super::error::ApiError;
use crate::config::schema::TelegramConfig;
use axum::http::{HeaderMap, StatusCode, header};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// Compare a presented secret with the expected one without leaking, through
/// timing, how much of it matched or how long the expected one is: both are
/// hashed first, so the constant-time comparison runs over equal lengths.
pub fn secrets_match(presented: &[u8], expected: &[u8]) -> bool {
    let a = Sha256::digest(presented);
    let b = Sha256::digest(expected);
    a.ct_eq(&b).into()
}

/// Check `Authorization: Bearer <token>` when a token is configured; with no
/// token every request passes (the gateway refuses to start on a public
/// address without one unless `allow_insecure`).
pub fn check_bearer(headers: &HeaderMap, expected: Option<&str>) -> Result<(), ApiError> {
    let Some(expected) = expected else {
        return Ok(());
    };
    let presented = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            let (scheme, token) = v.trim().split_once(' ')?;
            scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
        });
    match presented {
        None => Err(ApiError::unauthorized(
            "missing credentials: send `Authorization: Bearer <[gateway] auth_token>`",
        )),
        Some(token) if secrets_match(token.as_bytes(), expected.as_bytes()) => Ok(()),
        Some(_) => Err(ApiError::unauthorized(
            "invalid token: it does not match [gateway] auth_token",
        )),
    }
}

/// The check of `POST /webhook`, which talks to the agent: the bearer token
/// when one is configured; without one the route fails closed (403) unless
/// the operator chose `allow_unauthenticated`.
pub fn check_webhook(
    headers: &HeaderMap,
    expected: Option<&str>,
    allow_unauthenticated: bool,
) -> Result<(), ApiError> {
    match expected {
        Some(_) => check_bearer(headers, expected),
        None if allow_unauthenticated => Ok(()),
        None => Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "auth_not_configured",
            "POST /webhook is refused because no [gateway] auth_token is set: set auth_token \
             (e.g. `openssl rand -hex 32`) and send `Authorization: Bearer <token>`, or set \
             [gateway] allow_unauthenticated = true to let anyone who reaches this port talk \
             to the agent",
        )),
    }
}

/// The secret Telegram must send in `X-Telegram-Bot-Api-Secret-Token`:
/// `[channel.telegram] webhook_secret`, or, when only the bot token is set
/// (the seed guide's config), one derived from it so that webhook mode is
/// never unauthenticated. The channel registers the same value with
/// `setWebhook(secret_token=...)`. Telegram allows `[A-Za-z0-9_-]{1,256}`;
/// a hex SHA-256 fits.
pub fn telegram_webhook_secret(cfg: &TelegramConfig) -> Option<String> {
    if let Some(secret) = &cfg.webhook_secret {
        return Some(secret.expose().to_string());
    }
    let token = cfg.bot_token.as_ref()?;
    let mut h = Sha256::new();
    h.update(b"zeroclaw telegram webhook secret\0");
    h.update(token.expose().as_bytes());
    Some(hex::encode(h.finalize()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::types::Secret;
    use axum::http::HeaderValue;

    fn with_auth(v: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::AUTHORIZATION, HeaderValue::from_str(v).unwrap());
        h
    }

    #[test]
    fn bearer_checks() {
        assert!(check_bearer(&HeaderMap::new(), None).is_ok());
        assert!(check_bearer(&HeaderMap::new(), Some("t")).is_err());
        assert!(check_bearer(&with_auth("Bearer t"), Some("t")).is_ok());
        assert!(check_bearer(&with_auth("bearer  t "), Some("t")).is_ok());
        assert!(check_bearer(&with_auth("Bearer tt"), Some("t")).is_err());
        assert!(check_bearer(&with_auth("Basic t"), Some("t")).is_err());
        assert!(check_bearer(&with_auth("t"), Some("t")).is_err());
    }

    #[test]
    fn webhook_fails_closed_without_a_token() {
        let e = check_webhook(&HeaderMap::new(), None, false).unwrap_err();
        assert_eq!(
            (e.status, e.code),
            (StatusCode::FORBIDDEN, "auth_not_configured")
        );
        assert!(e.message.contains("auth_token") && e.message.contains("allow_unauthenticated"));
        assert!(check_webhook(&HeaderMap::new(), None, true).is_ok());
        assert!(check_webhook(&HeaderMap::new(), Some("t"), true).is_err());
        assert!(check_webhook(&with_auth("Bearer t"), Some("t"), false).is_ok());
    }

    #[test]
    fn telegram_secret_prefers_configured_then_derives() {
        let mut cfg = TelegramConfig::default();
        assert_eq!(telegram_webhook_secret(&cfg), None);
        cfg.bot_token = Some(Secret::new("123:abc"));
        let derived = telegram_webhook_secret(&cfg).unwrap();
        assert_eq!(derived.len(), 64);
        assert!(derived.chars().all(|c| c.is_ascii_hexdigit()));
        cfg.webhook_secret = Some(Secret::new("s3cret"));
        assert_eq!(telegram_webhook_secret(&cfg).as_deref(), Some("s3cret"));
    }
}
