//! `/status`: a live page of the tree, the channels and the cron jobs,
//! served by the gateway with its assets embedded (nothing is loaded from
//! elsewhere). Signed in with `auth_token` through a form that sets a
//! session cookie ([`session`]), or with a bearer token; live over
//! Server-Sent Events at `/status/events` ([`view`] pushes a new view when
//! something changed). The buttons reuse the control socket's `cron.*`
//! requests. Off with `[gateway] status_page = false`.

pub mod hub;
pub mod session;
pub mod view;

use super::error::ApiError;
use super::state::GatewayState;
use crate::control::call::Call;
use crate::cron::control::answer;
use axum::Router;
use axum::extract::{Form, Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use session::{Credential, check_change, same_origin};
use std::convert::Infallible;
use std::time::Duration;

/// A comment line on an idle stream, so proxies (nginx's default read
/// timeout is 60 s) keep it open; the only thing an idle stream costs.
const KEEP_ALIVE: Duration = Duration::from_secs(30);

const PAGE: &str = include_str!("page.html");
const SIGN_IN: &str = include_str!("signin.html");
const SCRIPT: &str = include_str!("status.js");
const STYLE: &str = include_str!("status.css");

/// No inline script or style, no other origin, no framing.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; \
                   img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// The routes, merged into the gateway's router when `status_page` is on.
pub fn routes() -> Router<GatewayState> {
    Router::new()
        .route("/status", get(page))
        .route("/status/login", post(login))
        .route("/status/logout", post(logout))
        .route("/status/events", get(events))
        .route("/status/state", get(state_json))
        .route("/status/jobs/{name}/{action}", post(job_action))
        .route("/status/assets/status.js", get(script))
        .route("/status/assets/status.css", get(style))
}

fn html(status: StatusCode, body: String) -> Response {
    let mut resp = (status, body).into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    resp
}

/// Text safe inside HTML (and inside a double-quoted attribute).
fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn sign_in(status: StatusCode, error: &str) -> Response {
    let error = match error {
        "" => String::new(),
        e => format!(
            "<p class=\"error\" role=\"alert\" id=\"signin-error\">{}</p>",
            escape(e)
        ),
    };
    html(status, SIGN_IN.replace("{{error}}", &error))
}

/// `GET /status`: the page when signed in, else the sign-in form (which
/// shows nothing of the tree).
async fn page(State(state): State<GatewayState>, headers: HeaderMap) -> Response {
    match state
        .status_sessions()
        .authenticate(&headers, state.auth_token())
    {
        Ok(cred) => {
            let csrf = match cred {
                Credential::Session { csrf } => csrf,
                Credential::Bearer => String::new(),
            };
            let body = PAGE
                .replace("{{csrf}}", &escape(&csrf))
                .replace("{{version}}", &escape(crate::VERSION));
            html(StatusCode::OK, body)
        }
        Err(e) if e.code == "auth_not_configured" => e.into_response(),
        Err(e) if headers.contains_key(header::AUTHORIZATION) => e.into_response(),
        Err(_) => sign_in(StatusCode::OK, ""),
    }
}

#[derive(Deserialize)]
struct SignIn {
    #[serde(default)]
    token: String,
}

/// `POST /status/login`: the token from the form; a session cookie and
/// back to `/status` when it matches, the form again when not.
async fn login(
    State(state): State<GatewayState>,
    headers: HeaderMap,
    Form(form): Form<SignIn>,
) -> Response {
    if let Err(e) = same_origin(&headers) {
        return e.into_response();
    }
    let Some(expected) = state.auth_token() else {
        return session::not_configured().into_response();
    };
    if !super::auth::secrets_match(form.token.trim().as_bytes(), expected.as_bytes()) {
        tracing::info!("status page: a sign-in with a wrong token");
        return sign_in(
            StatusCode::UNAUTHORIZED,
            "That token does not match [gateway] auth_token.",
        );
    }
    let id = state.status_sessions().create();
    let mut resp = Redirect::to("/status").into_response();
    resp.headers_mut().insert(
        header::SET_COOKIE,
        session::set_cookie(&id, state.tls().is_some()),
    );
    resp
}

/// `POST /status/logout`: end the session.
async fn logout(State(state): State<GatewayState>, headers: HeaderMap) -> Response {
    let sessions = state.status_sessions();
    if let Ok(cred) = sessions.authenticate(&headers, state.auth_token())
        && check_change(&cred, &headers).is_ok()
        && let Some(id) = session::cookie(&headers)
    {
        sessions.remove(&id);
    }
    let mut resp = Redirect::to("/status").into_response();
    resp.headers_mut()
        .insert(header::SET_COOKIE, session::clear_cookie());
    resp
}

fn authenticate(state: &GatewayState, headers: &HeaderMap) -> Result<Credential, ApiError> {
    state
        .status_sessions()
        .authenticate(headers, state.auth_token())
}

/// `GET /status/state`: the view as JSON, for scripts.
async fn state_json(
    State(state): State<GatewayState>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    authenticate(&state, &headers)?;
    let view = view::build(&state).await;
    Ok(axum::Json(view).into_response())
}

/// `GET /status/events`: a `state` event with the whole view now and at
/// every change.
async fn events(
    State(state): State<GatewayState>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    authenticate(&state, &headers)?;
    let hub = state.status_hub();
    let streams = (hub.subscribe(&state), hub.closed());
    let stream = futures_util::stream::unfold(streams, |(mut rx, mut closed)| async move {
        loop {
            if *closed.borrow_and_update() {
                return None;
            }
            tokio::select! {
                changed = rx.changed() => changed.ok()?,
                _ = closed.changed() => return None,
            }
            let frame = rx.borrow_and_update().clone();
            if !frame.json.is_empty() {
                let event = Event::default().event("state").data(frame.json.as_str());
                return Some((Ok::<_, Infallible>(event), (rx, closed)));
            }
        }
    });
    let mut resp = Sse::new(stream)
        .keep_alive(KeepAlive::new().interval(KEEP_ALIVE))
        .into_response();
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(resp)
}

/// `POST /status/jobs/{name}/{run|enable|disable}`: the control socket's
/// `cron.run` (detached), `cron.enable`, `cron.disable`.
async fn job_action(
    State(state): State<GatewayState>,
    Path((name, action)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let cred = authenticate(&state, &headers)?;
    check_change(&cred, &headers)?;
    let call = match action.as_str() {
        "run" => Call::CronRun { name, detach: true },
        "enable" => Call::CronEnable { name },
        "disable" => Call::CronDisable { name },
        other => {
            return Err(ApiError::not_found(format!(
                "no job action `{other}`: use run, enable or disable"
            )));
        }
    };
    let Some(cron) = state.ctx().cron() else {
        return Err(ApiError::not_found(
            "no cron jobs run in this process (`zeroclaw gateway` runs none; use `zeroclaw daemon`)",
        ));
    };
    match answer(cron, call).await {
        Ok(reply) => Ok(axum::Json(reply).into_response()),
        Err(e) => {
            let status = match e.code.as_str() {
                "not_found" => StatusCode::NOT_FOUND,
                "conflict" => StatusCode::CONFLICT,
                "bad_request" => StatusCode::BAD_REQUEST,
                "unavailable" | "timeout" => StatusCode::SERVICE_UNAVAILABLE,
                _ => StatusCode::INTERNAL_SERVER_ERROR,
            };
            Err(ApiError::new(status, "cron", e.message))
        }
    }
}

fn asset(content_type: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
            (
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            ),
        ],
        body,
    )
        .into_response()
}

async fn script() -> Response {
    asset("text/javascript; charset=utf-8", SCRIPT)
}

async fn style() -> Response {
    asset("text/css; charset=utf-8", STYLE)
}
