//! Reading a request body under the gateway's limits.

use super::error::ApiError;
use axum::body::{Body, Bytes};
use axum::extract::FromRequest;
use axum::http::{HeaderMap, Request, StatusCode, header};
use bytes::BytesMut;
use futures_util::StreamExt;
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

/// The whole body, refused with 413 if it is over `limit`: at once when the
/// declared `Content-Length` says so (nothing is read), otherwise as soon
/// as the bytes received pass it. For routes that cannot authenticate a
/// request before reading it, so that what anyone can make the gateway
/// buffer stays small.
pub async fn read_limited(
    req: Request<Body>,
    read_timeout: Duration,
    limit: u64,
) -> Result<Bytes, ApiError> {
    if declared_length(req.headers()).is_some_and(|n| n > limit) {
        return Err(too_large(limit));
    }
    let limit = usize::try_from(limit).unwrap_or(usize::MAX);
    let collect = async {
        let mut stream = req.into_body().into_data_stream();
        let mut buf = BytesMut::new();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|e| {
                if over_max_body_size(&e) {
                    ApiError::for_status(StatusCode::PAYLOAD_TOO_LARGE)
                } else {
                    ApiError::bad_request(format!("could not read the request body: {e}"))
                }
            })?;
            if buf.len().saturating_add(chunk.len()) > limit {
                return Err(too_large(limit as u64));
            }
            buf.extend_from_slice(&chunk);
        }
        Ok(buf.freeze())
    };
    match tokio::time::timeout(read_timeout, collect).await {
        Ok(r) => r,
        Err(_) => Err(ApiError::for_status(StatusCode::REQUEST_TIMEOUT)),
    }
}

/// The limit layer's error (`max_body_size`), somewhere in the chain.
fn over_max_body_size(e: &axum::Error) -> bool {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(c) = cause {
        if c.is::<http_body_util::LengthLimitError>() {
            return true;
        }
        cause = c.source();
    }
    false
}

fn declared_length(headers: &HeaderMap) -> Option<u64> {
    headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse().ok())
}

fn too_large(limit: u64) -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload_too_large",
        format!(
            "the request body is larger than {limit} bytes, the limit of requests that are \
             not authenticated before their body is read ([gateway] \
             max_unauthenticated_body_size)"
        ),
    )
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
