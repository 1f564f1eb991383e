//! Reading a request body under the gateway's limits.

use super::error::ApiError;
use axum::body::{Body, Bytes};
use axum::extract::FromRequest;
use axum::http::{HeaderMap, Request, StatusCode, header};
use std::time::Duration;

/// The whole body, within `read_timeout` in total. hyper's header timeout
/// stops a slow sender of headers; this stops one that trickles its body.
/// A body over `max_body_size` is refused by the limit layer (413).
pub async fn read(req: Request<Body>, read_timeout: Duration) -> Result<Bytes, ApiError> {
    match tokio::time::timeout(read_timeout, Bytes::from_request(req, &())).await {
        Ok(Ok(bytes)) => Ok(bytes),
        Ok(Err(rejection)) => {
            let status = rejection.status();
            let mut err = ApiError::for_status(status);
            if status != StatusCode::PAYLOAD_TOO_LARGE {
                err.message = format!("could not read the request body: {}", rejection.body_text());
            }
            Err(err)
        }
        Err(_) => Err(ApiError::for_status(StatusCode::REQUEST_TIMEOUT)),
    }
}

/// Refuse a body declared as something other than JSON (415). A missing
/// Content-Type is accepted: the body is then parsed as JSON anyway.
pub fn require_json(headers: &HeaderMap) -> Result<(), ApiError> {
    let Some(ct) = headers.get(header::CONTENT_TYPE) else {
        return Ok(());
    };
    let ok = ct
        .to_str()
        .ok()
        .and_then(|v| v.split(';').next())
        .map(|m| m.trim().to_ascii_lowercase())
        .is_some_and(|m| {
            m == "application/json" || (m.starts_with("application/") && m.ends_with("+json"))
        });
    if ok {
        Ok(())
    } else {
        Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            format!(
                "Content-Type {:?} is not JSON: send the body as JSON with \
                 `Content-Type: application/json`",
                ct.to_str().unwrap_or("(not text)")
            ),
        ))
    }
}

/// Parse JSON, with the parser's position in the error.
pub fn parse_json<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(body)
        .map_err(|e| ApiError::bad_request(format!("malformed JSON body: {e}")))
}
