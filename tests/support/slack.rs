//! A fake Slack on 127.0.0.1: Web API methods (`auth.test`,
//! `apps.connections.open`, `chat.postMessage` with `{"ok":false}` errors and
//! 429 `Retry-After`) and a Socket Mode websocket that sends `hello`,
//! envelopes and `disconnect` frames and records acks.
#![allow(dead_code)]

use axum::Router;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, post};
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use tokio::sync::mpsc;

pub const BOT_TOKEN: &str = "xoxb-fake";
pub const APP_TOKEN: &str = "xapp-fake";
pub const BOT_USER: &str = "UBOT";

pub enum Cmd {
    Frame(Value),
    /// Stop reading and writing (no pongs either): a half-open connection.
    Mute,
    /// Drop the TCP connection without a close frame.
    Drop,
}

#[derive(Default)]
pub struct Inner {
    /// Posted messages: (channel, text, thread_ts).
    pub sent: Vec<(String, String, Option<String>)>,
    pub acks: Vec<String>,
    pub opens: u32,
    pub connections: u32,
    pub rate_limit_posts: u32,
    pub rate_limited: u32,
    /// The next N `apps.connections.open` answer 500.
    pub fail_opens: u32,
    /// The service is down: every call answers 503, upgrades are refused.
    pub outage: bool,
    conn: Option<mpsc::UnboundedSender<Cmd>>,
    queued: Vec<Value>,
    next: u32,
}

#[derive(Clone)]
pub struct FakeSlack {
    pub addr: SocketAddr,
    pub state: Arc<Mutex<Inner>>,
}

impl FakeSlack {
    pub async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let fake = Self {
            addr,
            state: Arc::new(Mutex::new(Inner::default())),
        };
        let app = Router::new()
            .route("/api/{method}", post(api))
            .route("/socket", any(socket))
            .with_state(fake.clone());
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        fake
    }

    pub fn api_base(&self) -> String {
        format!("http://{}/api", self.addr)
    }

    pub fn with<R>(&self, f: impl FnOnce(&mut Inner) -> R) -> R {
        f(&mut self.state.lock().unwrap())
    }

    fn send(&self, frame: Value) {
        self.with(|s| match &s.conn {
            Some(tx) if tx.send(Cmd::Frame(frame.clone())).is_ok() => {}
            _ => s.queued.push(frame),
        });
    }

    /// An `events_api` envelope carrying `event`; returns (envelope_id, event_id).
    pub fn push_event(&self, event: Value, event_id: Option<&str>) -> (String, String) {
        let n = self.with(|s| {
            s.next += 1;
            s.next
        });
        let envelope_id = format!("env-{n}");
        let event_id = event_id.map(String::from).unwrap_or(format!("Ev{n}"));
        self.send(json!({
            "envelope_id": envelope_id,
            "type": "events_api",
            "accepts_response_payload": false,
            "retry_attempt": 0,
            "payload": {
                "type": "event_callback",
                "team_id": "T1",
                "event_id": event_id,
                "event_time": 1_700_000_000,
                "event": event,
            }
        }));
        (envelope_id, event_id)
    }

    /// A user's message; `thread_ts` makes it a reply in a thread.
    pub fn push_message(
        &self,
        channel: &str,
        user: &str,
        text: &str,
        thread_ts: Option<&str>,
    ) -> (String, String) {
        let mut event = message_event(channel, user, text);
        if let Some(ts) = thread_ts {
            event["thread_ts"] = json!(ts);
        }
        self.push_event(event, None)
    }

    pub fn disconnect(&self) {
        self.send(json!({"type": "disconnect", "reason": "refresh_requested", "debug_info": {"host": "fake"}}));
    }

    pub fn mute(&self) {
        self.with(|s| {
            if let Some(tx) = s.conn.take() {
                let _ = tx.send(Cmd::Mute);
            }
        });
    }

    pub fn drop_connection(&self) {
        self.with(|s| {
            if let Some(tx) = s.conn.take() {
                let _ = tx.send(Cmd::Drop);
            }
        });
    }

    /// Take the whole service down (the open connection drops) or bring it back.
    pub fn set_outage(&self, down: bool) {
        self.with(|s| s.outage = down);
        if down {
            self.drop_connection();
        }
    }

    pub fn sent(&self) -> Vec<(String, String, Option<String>)> {
        self.with(|s| s.sent.clone())
    }
}

pub fn message_event(channel: &str, user: &str, text: &str) -> Value {
    json!({
        "type": "message",
        "channel": channel,
        "user": user,
        "text": text,
        "ts": "1700000000.000100",
        "channel_type": "channel",
    })
}

fn slack_error(error: &str) -> Response {
    axum::Json(json!({"ok": false, "error": error})).into_response()
}

async fn api(
    State(fake): State<FakeSlack>,
    Path(method): Path<String>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let token = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default()
        .to_string();
    if fake.with(|s| s.outage) {
        return (StatusCode::SERVICE_UNAVAILABLE, "down").into_response();
    }
    let body: Value = serde_json::from_slice(&body).unwrap_or(json!({}));
    match method.as_str() {
        "auth.test" => {
            if token != BOT_TOKEN {
                return slack_error("invalid_auth");
            }
            axum::Json(json!({"ok": true, "url": "https://fake.slack.com/", "team": "Fake Team", "user": "zeroclaw", "team_id": "T1", "user_id": BOT_USER, "bot_id": "B1"})).into_response()
        }
        "apps.connections.open" => {
            if token != APP_TOKEN {
                return slack_error(if token.starts_with("xoxb") {
                    "not_allowed_token_type"
                } else {
                    "invalid_auth"
                });
            }
            let fail = fake.with(|s| {
                s.opens += 1;
                if s.fail_opens > 0 {
                    s.fail_opens -= 1;
                    true
                } else {
                    false
                }
            });
            if fail {
                return (StatusCode::INTERNAL_SERVER_ERROR, "oops").into_response();
            }
            axum::Json(json!({"ok": true, "url": format!("ws://{}/socket?ticket=1", fake.addr)}))
                .into_response()
        }
        "chat.postMessage" => {
            if token != BOT_TOKEN {
                return slack_error("invalid_auth");
            }
            let limited = fake.with(|s| {
                if s.rate_limit_posts > 0 {
                    s.rate_limit_posts -= 1;
                    s.rate_limited += 1;
                    true
                } else {
                    false
                }
            });
            if limited {
                return (StatusCode::TOO_MANY_REQUESTS, [("retry-after", "1")], "").into_response();
            }
            let channel = body["channel"].as_str().unwrap_or_default().to_string();
            if channel.is_empty() || channel == "CGONE" {
                return slack_error("channel_not_found");
            }
            let text = body["text"].as_str().unwrap_or_default().to_string();
            let thread = body["thread_ts"].as_str().map(String::from);
            fake.with(|s| s.sent.push((channel.clone(), text, thread)));
            axum::Json(json!({"ok": true, "channel": channel, "ts": "1700000001.000200"}))
                .into_response()
        }
        _ => slack_error("unknown_method"),
    }
}

async fn socket(State(fake): State<FakeSlack>, ws: WebSocketUpgrade) -> Response {
    if fake.with(|s| s.outage) {
        return (StatusCode::SERVICE_UNAVAILABLE, "down").into_response();
    }
    ws.on_upgrade(move |socket| serve_socket(fake, socket))
}

async fn serve_socket(fake: FakeSlack, mut socket: WebSocket) {
    let (tx, mut rx) = mpsc::unbounded_channel();
    let queued = fake.with(|s| {
        s.connections += 1;
        s.conn = Some(tx.clone());
        std::mem::take(&mut s.queued)
    });
    let hello = json!({"type": "hello", "num_connections": 1, "connection_info": {"app_id": "A1"}});
    if socket
        .send(Message::Text(hello.to_string().into()))
        .await
        .is_err()
    {
        return;
    }
    for frame in queued {
        let _ = tx.send(Cmd::Frame(frame));
    }
    loop {
        tokio::select! {
            cmd = rx.recv() => match cmd {
                Some(Cmd::Frame(frame)) => {
                    let disconnect = frame["type"] == "disconnect";
                    if socket.send(Message::Text(frame.to_string().into())).await.is_err() {
                        return;
                    }
                    if disconnect {
                        // New frames wait for the next connection.
                        fake.with(|s| {
                            if s.conn.as_ref().is_some_and(|c| c.same_channel(&tx)) {
                                s.conn = None;
                            }
                        });
                    }
                }
                Some(Cmd::Mute) => {
                    // Hold the socket open without touching it until the client goes.
                    while let Some(cmd) = rx.recv().await {
                        if matches!(cmd, Cmd::Drop) {
                            return;
                        }
                    }
                    return;
                }
                Some(Cmd::Drop) | None => return,
            },
            incoming = socket.recv() => match incoming {
                Some(Ok(Message::Text(t))) => {
                    if let Ok(v) = serde_json::from_str::<Value>(t.as_str())
                        && let Some(id) = v["envelope_id"].as_str()
                    {
                        fake.with(|s| s.acks.push(id.to_string()));
                    }
                }
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => {
                    fake.with(|s| {
                        if s.conn.as_ref().is_some_and(|c| c.same_channel(&tx)) {
                            s.conn = None;
                        }
                    });
                    return;
                }
                _ => {}
            },
        }
    }
}
