//! The access log: one line per request at `debug` (method, route, status,
//! latency, peer), through tower-http's trace layer.
//!
//! What it never writes: headers (the `Authorization` bearer token, Slack
//! and Telegram signatures), the query string, the raw path. The route is
//! the fixed label of the request counter (`/health`, ..., `unmatched`), so
//! a secret in a URL cannot reach the log, and a scanner cannot flood it with
//! distinct values. With `debug` off for [`TARGET`] (the level is fixed at
//! the daemon's start), the router leaves the layer out altogether.

use super::router::route_label;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Request, Response};
use std::net::SocketAddr;
use std::time::Duration;
use tower_http::classify::{ServerErrorsAsFailures, SharedClassifier};
use tower_http::trace::TraceLayer;
use tracing::{Level, Span};

/// The target of access lines (`RUST_LOG=zeroclaw::gateway::access=debug`
/// turns on only these).
pub const TARGET: &str = "zeroclaw::gateway::access";

type MakeSpan = fn(&Request<Body>) -> Span;
type OnResponse = fn(&Response<Body>, Duration, &Span);

/// The layer: a span per request carrying method, route and peer, and one
/// event when the response head is ready. tower-http's own request,
/// failure and end-of-stream events are off: one line per request.
pub type AccessLayer =
    TraceLayer<SharedClassifier<ServerErrorsAsFailures>, MakeSpan, (), OnResponse, (), (), ()>;

pub fn layer() -> AccessLayer {
    TraceLayer::new_for_http()
        .make_span_with(span as MakeSpan)
        .on_request(())
        .on_response(done as OnResponse)
        .on_body_chunk(())
        .on_eos(())
        .on_failure(())
}

/// Whether access lines are wanted (the router then adds [`layer`], and
/// the serving loop records each request's peer, which it otherwise skips).
pub fn enabled() -> bool {
    tracing::enabled!(target: TARGET, Level::DEBUG)
}

fn span(req: &Request<Body>) -> Span {
    tracing::debug_span!(
        target: TARGET,
        "request",
        method = %req.method(),
        route = %route_label(req.uri().path()),
        peer = %peer(req),
    )
}

fn peer(req: &Request<Body>) -> String {
    req.extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map_or_else(|| "-".to_string(), |c| c.0.to_string())
}

fn done(res: &Response<Body>, latency: Duration, span: &Span) {
    tracing::debug!(
        target: TARGET,
        parent: span,
        status = res.status().as_u16(),
        latency = ?latency,
        "access"
    );
}
