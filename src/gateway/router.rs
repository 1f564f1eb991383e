//! The routes and the layers around them.

use super::error::ApiError;
use super::rate_limit::client_ip;
use super::state::GatewayState;
use super::{health, slack, telegram, webhook};
use axum::Router;
use axum::body::Body;
use axum::extract::{ConnectInfo, DefaultBodyLimit, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use std::net::SocketAddr;
use tokio::time::Instant;
use tower_http::limit::RequestBodyLimitLayer;

/// The paths served, for the `route` label of the request counter (any
/// other path is counted as `unmatched`, so scanners cannot blow up the
/// number of series).
const ROUTES: [&str; 8] = [
    "/health",
    "/ready",
    "/metrics",
    "/webhook",
    "/webhook/telegram",
    "/webhook/slack",
    "/status",
    "/status/events",
];

/// Every route of the gateway. `/health` and `/ready` are open and not rate
/// limited (load balancers and init systems poll them); the rest share the
/// per-client rate limit and the body limit. Every request passes the access
/// log ([`super::access`], `debug`). The outer layer counts every
/// answer by route and status and turns the bare errors of layers (405, 413)
/// into the gateway's JSON error shape.
pub fn router(state: GatewayState) -> Router {
    routes(state.clone()).layer(middleware::from_fn_with_state(state, observe))
}

/// [`router`] without its outer layer: [`serve`](super::server::serve)
/// applies the same [`finish`] inline, which saves a boxed middleware on
/// every request.
pub(crate) fn routes(state: GatewayState) -> Router {
    let max_body = usize::try_from(state.config().max_body_size.as_u64()).unwrap_or(usize::MAX);
    let mut limited = Router::new()
        .route("/webhook", post(webhook::handle))
        .route("/webhook/telegram", post(telegram::handle))
        .route("/webhook/slack", post(slack::handle))
        .route("/metrics", get(health::metrics));
    if state.config().status_page {
        limited = limited.merge(super::status::routes());
    }
    if state.limiter().is_some() {
        limited = limited.route_layer(middleware::from_fn_with_state(state.clone(), rate_limit));
    }
    // The tower-http limit refuses a too-large Content-Length before
    // reading and caps chunked bodies; axum's own default is disabled so
    // there is one limit, `max_body_size`.
    let limited = limited
        .layer(DefaultBodyLimit::disable())
        .layer(RequestBodyLimitLayer::new(max_body));
    let app = Router::new()
        .route("/health", get(health::health))
        .route("/ready", get(health::ready))
        .merge(limited)
        .fallback(not_found);
    // The log level is set at the daemon's start, before the gateway, and
    // kept for its life: with access lines off, the layer is left out and
    // costs the request path nothing.
    let app = if super::access::enabled() {
        app.layer(super::access::layer())
    } else {
        app
    };
    app.with_state(state)
}

/// The `route` label for a request path.
pub(crate) fn route_label(path: &str) -> &'static str {
    ROUTES
        .iter()
        .find(|r| **r == path)
        .copied()
        .unwrap_or_else(|| match path.starts_with("/status/") {
            true => "/status/*",
            false => "unmatched",
        })
}

/// Count the answer and give every error the JSON shape.
pub(crate) fn finish(
    state: &GatewayState,
    route: &'static str,
    started: Instant,
    resp: Response,
) -> Response {
    state
        .metrics()
        .http_request(route, resp.status().as_u16(), started.elapsed());
    json_errors(resp)
}

async fn not_found() -> ApiError {
    ApiError::not_found(
        "no such route: the gateway serves GET /health, /ready, /metrics, /status and POST \
         /webhook, /webhook/telegram, /webhook/slack",
    )
}

async fn rate_limit(State(state): State<GatewayState>, req: Request, next: Next) -> Response {
    if let Some(limiter) = state.limiter() {
        let peer = req
            .extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0)
            .unwrap_or_else(|| SocketAddr::from(([0, 0, 0, 0], 0)));
        let ip = client_ip(peer, req.headers(), state.config().trust_forwarded_for);
        if let Err(e) = limiter.check(ip) {
            return e.into_response();
        }
    }
    next.run(req).await
}

async fn observe(State(state): State<GatewayState>, req: Request, next: Next) -> Response {
    let route = route_label(req.uri().path());
    let started = Instant::now();
    let resp = next.run(req).await;
    finish(&state, route, started, resp)
}

fn json_errors(resp: Response) -> Response {
    let status = resp.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return resp;
    }
    // JSON already, or a page meant for a browser (the status page's sign-in form).
    let shaped = resp.headers().get(header::CONTENT_TYPE).is_some_and(|v| {
        v.as_bytes().starts_with(b"application/json") || v.as_bytes().starts_with(b"text/html")
    });
    if shaped {
        return resp;
    }
    let (mut parts, _) = resp.into_parts();
    let body = ApiError::for_status(status).body();
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    if status == StatusCode::TOO_MANY_REQUESTS && !parts.headers.contains_key(header::RETRY_AFTER) {
        parts
            .headers
            .insert(header::RETRY_AFTER, HeaderValue::from(1u64));
    }
    Response::from_parts(parts, Body::from(body))
}
