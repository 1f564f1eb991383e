//! The gateway's two kinds of error: why it could not start or keep serving
//! ([`GatewayError`]), and what an HTTP client is told ([`ApiError`]).

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use std::net::SocketAddr;
use std::path::PathBuf;

/// Why the gateway could not start (a failed start for the supervisor).
#[derive(Debug, thiserror::Error)]
pub enum GatewayError {
    #[error(
        "cannot listen on {addr}: the address is already in use; {occupant}. \
         Find the process with `lsof -i :{port}` (or `ss -ltnp 'sport = :{port}'`), \
         stop it or set another [gateway] port (0 = any free port)"
    )]
    AddrInUse {
        addr: SocketAddr,
        port: u16,
        /// What answers there, found by probing `/health`.
        occupant: String,
    },
    #[error("cannot listen on {addr}: {source} (check [gateway] host and port)")]
    Bind {
        addr: String,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "[gateway] host `{host}` is not a valid address: {reason} \
         (write an IP address such as 127.0.0.1 or 0.0.0.0, or `localhost`)"
    )]
    BadHost { host: String, reason: String },
    #[error(
        "[gateway] host `{host}` is reachable from other machines but no auth_token is set: \
         set [gateway] auth_token (e.g. `openssl rand -hex 32`) or, to accept this risk, \
         allow_insecure = true"
    )]
    InsecureBind { host: String },
    #[error("[gateway] tls_cert and tls_key must be set together (only {set} is set)")]
    TlsHalfConfigured { set: &'static str },
    #[error(
        "cannot load the TLS certificate {cert} / key {key}: {reason} \
         (both must be PEM files readable by the daemon; the key PKCS#8, PKCS#1 or SEC1)"
    )]
    Tls {
        cert: PathBuf,
        key: PathBuf,
        reason: String,
    },
    #[error("the gateway's listener failed: {0}")]
    Listener(#[source] std::io::Error),
}

/// An error answered to an HTTP client as `{"error":{"code","message"}}`.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    /// Stable, machine-readable (`unauthorized`, `rate_limited`, ...).
    pub code: &'static str,
    /// For a human: what was wrong and what to do.
    pub message: String,
    /// Seconds, sent as `Retry-After` (429, 503).
    pub retry_after: Option<u64>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            retry_after: None,
        }
    }

    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "bad_request", message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    pub fn unavailable(message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "channel_unavailable",
            message,
        )
        .retry_after(5)
    }

    pub fn retry_after(mut self, secs: u64) -> Self {
        self.retry_after = Some(secs);
        self
    }

    /// The canonical error for a bare status produced by a layer (405 from
    /// the router, 413 from the body limit, ...).
    pub fn for_status(status: StatusCode) -> Self {
        let (code, message) = match status {
            StatusCode::NOT_FOUND => ("not_found", "no such route"),
            StatusCode::METHOD_NOT_ALLOWED => (
                "method_not_allowed",
                "this route does not accept that method (see the Allow header)",
            ),
            StatusCode::PAYLOAD_TOO_LARGE => (
                "payload_too_large",
                "the request body is larger than [gateway] max_body_size",
            ),
            StatusCode::REQUEST_TIMEOUT => (
                "request_timeout",
                "the request was not received within [gateway] read_timeout",
            ),
            StatusCode::UNSUPPORTED_MEDIA_TYPE => (
                "unsupported_media_type",
                "send the body as JSON with Content-Type: application/json",
            ),
            StatusCode::TOO_MANY_REQUESTS => ("rate_limited", "too many requests"),
            StatusCode::UNAUTHORIZED => ("unauthorized", "missing or invalid credentials"),
            s if s.is_server_error() => ("internal", "the gateway failed to answer"),
            _ => ("bad_request", "the request was not understood"),
        };
        Self::new(status, code, message)
    }

    /// The JSON body.
    pub fn body(&self) -> String {
        serde_json::json!({"error": {"code": self.code, "message": self.message}}).to_string()
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut resp = (
            self.status,
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            )],
            self.body(),
        )
            .into_response();
        if let Some(secs) = self.retry_after {
            resp.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        resp
    }
}
