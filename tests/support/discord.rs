//! A fake Discord on 127.0.0.1: the gateway websocket (HELLO, heartbeat ACKs
//! that can be withheld, IDENTIFY/READY, RESUME with the replay of missed
//! dispatches then RESUMED, op 7/9, close codes,
//! dropped sockets, refused upgrades) and the REST routes the channel uses
//! (`GET /users/@me`, `POST /channels/{id}/messages` with 429 and
//! `X-RateLimit-*` headers).
#![allow(dead_code)]

use axum::Router;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};
use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use tokio::sync::mpsc;

pub const TOKEN: &str = "discord-fake-token";
pub const BOT_ID: &str = "900";
/// Dispatches kept for replay on RESUME.
const REPLAY_LOG: usize = 5_000;

pub enum Cmd {
    Dispatch(&'static str, Value),
    /// A dispatch written to a socket that died before the client read it:
    /// numbered and logged (so RESUME replays it), never received.
    LostDispatch(&'static str, Value),
    Raw(Value),
    Close(u16),
    Drop,
}

pub struct Inner {
    pub heartbeat_ms: u64,
    pub withhold_acks: bool,
    pub heartbeats: u32,
    pub connections: u32,
    /// IDENTIFY payloads received.
    pub identifies: Vec<Value>,
    /// RESUMEs received: (session_id, seq).
    pub resumes: Vec<(String, Option<u64>)>,
    pub sent: Vec<(String, String)>,
    pub rate_limit_posts: u32,
    pub rate_limited: u32,
    /// Answer posts with `X-RateLimit-Remaining: 0` and this reset-after.
    pub bucket_reset_after: Option<f64>,
    /// Post times, to check the bucket wait.
    pub post_times: Vec<tokio::time::Instant>,
    pub refuse_upgrades: u32,
    /// The next N posts answer 502.
    pub fail_posts: u32,
    /// The service is down: REST answers 503, the gateway refuses upgrades.
    pub outage: bool,
    conn: Option<mpsc::UnboundedSender<Cmd>>,
    queued: Vec<Cmd>,
    sessions: u32,
    seq: u64,
    /// Dispatches sent (whole payloads, with their `s`), replayed after a
    /// RESUME from the client's last `seq`, as Discord does.
    log: VecDeque<Value>,
    /// Dispatches sent again because of a RESUME.
    pub replayed: u32,
}

#[derive(Clone)]
pub struct FakeDiscord {
    pub addr: SocketAddr,
    pub state: Arc<Mutex<Inner>>,
}

impl FakeDiscord {
    pub async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let fake = Self {
            addr,
            state: Arc::new(Mutex::new(Inner {
                heartbeat_ms: 250,
                withhold_acks: false,
                heartbeats: 0,
                connections: 0,
                identifies: Vec::new(),
                resumes: Vec::new(),
                sent: Vec::new(),
                rate_limit_posts: 0,
                rate_limited: 0,
                bucket_reset_after: None,
                post_times: Vec::new(),
                refuse_upgrades: 0,
                fail_posts: 0,
                outage: false,
                conn: None,
                queued: Vec::new(),
                sessions: 0,
                seq: 0,
                log: VecDeque::new(),
                replayed: 0,
            })),
        };
        let app = Router::new()
            .route("/api/v10/users/@me", get(me))
            .route("/api/v10/channels/{id}/messages", post(create_message))
            .route("/gateway", get(gateway))
            .with_state(fake.clone());
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        fake
    }

    pub fn api_base(&self) -> String {
        format!("http://{}/api/v10", self.addr)
    }

    pub fn gateway_url(&self) -> String {
        format!("ws://{}/gateway", self.addr)
    }

    pub fn with<R>(&self, f: impl FnOnce(&mut Inner) -> R) -> R {
        f(&mut self.state.lock().unwrap())
    }

    fn command(&self, cmd: Cmd) {
        self.with(|s| match &s.conn {
            Some(tx) => {
                if let Err(mpsc::error::SendError(cmd)) = tx.send(cmd) {
                    s.queued.push(cmd);
                }
            }
            None => s.queued.push(cmd),
        });
    }

    /// A MESSAGE_CREATE from `author` (a bot when `bot`).
    pub fn push_message(
        &self,
        guild: Option<&str>,
        channel: &str,
        author: &str,
        bot: bool,
        content: &str,
    ) {
        self.command(Cmd::Dispatch(
            "MESSAGE_CREATE",
            message(guild, channel, author, bot, content),
        ));
    }

    /// A MESSAGE_CREATE lost with the connection it was sent on: the socket
    /// drops, and the client only gets the message if it RESUMEs.
    pub fn lose_message_in_flight(&self, guild: Option<&str>, channel: &str, content: &str) {
        self.command(Cmd::LostDispatch(
            "MESSAGE_CREATE",
            message(guild, channel, "7", false, content),
        ));
    }

    pub fn send_op(&self, payload: Value) {
        self.command(Cmd::Raw(payload));
    }

    pub fn close(&self, code: u16) {
        self.command(Cmd::Close(code));
    }

    pub fn drop_connection(&self) {
        self.command(Cmd::Drop);
    }

    /// Take the whole service down (the open connection drops) or bring it back.
    pub fn set_outage(&self, down: bool) {
        self.with(|s| s.outage = down);
        if down {
            self.drop_connection();
        }
    }

    pub fn sent(&self) -> Vec<(String, String)> {
        self.with(|s| s.sent.clone())
    }
}

fn message(guild: Option<&str>, channel: &str, author: &str, bot: bool, content: &str) -> Value {
    let mut d = json!({
        "id": "1",
        "channel_id": channel,
        "author": {"id": author, "username": format!("user{author}"), "bot": bot},
        "content": content,
        "type": 0,
    });
    if let Some(g) = guild {
        d["guild_id"] = json!(g);
    }
    d
}

fn authorized(headers: &HeaderMap) -> bool {
    headers.get("authorization").and_then(|v| v.to_str().ok()) == Some(&format!("Bot {TOKEN}"))
}

fn unauthorized() -> Response {
    (
        StatusCode::UNAUTHORIZED,
        axum::Json(json!({"message": "401: Unauthorized", "code": 0})),
    )
        .into_response()
}

async fn me(headers: HeaderMap) -> Response {
    if !authorized(&headers) {
        return unauthorized();
    }
    axum::Json(json!({"id": BOT_ID, "username": "zeroclaw", "bot": true})).into_response()
}

async fn create_message(
    State(fake): State<FakeDiscord>,
    Path(channel): Path<String>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    if fake.with(|s| s.outage) {
        return (StatusCode::SERVICE_UNAVAILABLE, "down").into_response();
    }
    if !authorized(&headers) {
        return unauthorized();
    }
    let body: Value = serde_json::from_slice(&body).unwrap_or(json!({}));
    let fail = fake.with(|s| {
        let fail = s.fail_posts > 0;
        s.fail_posts = s.fail_posts.saturating_sub(1);
        fail
    });
    if fail {
        return (StatusCode::BAD_GATEWAY, "<html>502 Bad Gateway</html>").into_response();
    }
    let (limited, reset_after) = fake.with(|s| {
        s.post_times.push(tokio::time::Instant::now());
        if s.rate_limit_posts > 0 {
            s.rate_limit_posts -= 1;
            s.rate_limited += 1;
            (true, s.bucket_reset_after)
        } else {
            (false, s.bucket_reset_after)
        }
    });
    if limited {
        return (
            StatusCode::TOO_MANY_REQUESTS,
            [("retry-after", "1"), ("x-ratelimit-scope", "user")],
            axum::Json(json!({"message": "You are being rate limited.", "retry_after": 0.4, "global": false})),
        )
            .into_response();
    }
    let content = body["content"].as_str().unwrap_or_default().to_string();
    if content.chars().count() > 2000 {
        return (
            StatusCode::BAD_REQUEST,
            axum::Json(json!({"message": "Invalid Form Body", "code": 50035})),
        )
            .into_response();
    }
    fake.with(|s| s.sent.push((channel.clone(), content.clone())));
    let mut response =
        axum::Json(json!({"id": "2", "channel_id": channel, "content": content})).into_response();
    if let Some(secs) = reset_after {
        let h = response.headers_mut();
        h.insert("x-ratelimit-remaining", "0".parse().unwrap());
        h.insert("x-ratelimit-reset-after", secs.to_string().parse().unwrap());
    }
    response
}

async fn gateway(State(fake): State<FakeDiscord>, ws: WebSocketUpgrade) -> Response {
    let refuse = fake.with(|s| {
        if s.outage {
            true
        } else if s.refuse_upgrades > 0 {
            s.refuse_upgrades -= 1;
            true
        } else {
            false
        }
    });
    if refuse {
        return (StatusCode::BAD_GATEWAY, "upstream down").into_response();
    }
    ws.on_upgrade(move |socket| serve(fake, socket))
}

async fn send(socket: &mut WebSocket, v: Value) -> bool {
    socket
        .send(Message::Text(v.to_string().into()))
        .await
        .is_ok()
}

async fn serve(fake: FakeDiscord, mut socket: WebSocket) {
    let heartbeat_ms = fake.with(|s| {
        s.connections += 1;
        s.heartbeat_ms
    });
    if !send(
        &mut socket,
        json!({"op": 10, "d": {"heartbeat_interval": heartbeat_ms}}),
    )
    .await
    {
        return;
    }
    let (tx, mut rx) = mpsc::unbounded_channel::<Cmd>();
    session(&fake, &mut socket, &tx, &mut rx).await;
    leave(&fake, &tx, &mut rx);
}

/// What a connection lived for: commands out, the client's payloads in.
async fn session(
    fake: &FakeDiscord,
    socket: &mut WebSocket,
    tx: &mpsc::UnboundedSender<Cmd>,
    rx: &mut mpsc::UnboundedReceiver<Cmd>,
) {
    loop {
        tokio::select! {
            cmd = rx.recv() => {
                let Some(cmd) = cmd else { return };
                match cmd {
                    Cmd::Dispatch(t, d) => {
                        let payload = log_dispatch(fake, t, d);
                        if !send(socket, payload).await { return; }
                    }
                    Cmd::LostDispatch(t, d) => {
                        log_dispatch(fake, t, d);
                        detach(fake, tx);
                        return;
                    }
                    Cmd::Raw(v) => { if !send(socket, v).await { return; } }
                    Cmd::Close(code) => {
                        let _ = socket.send(Message::Close(Some(CloseFrame { code, reason: "fake close".into() }))).await;
                        detach(fake, tx);
                        return;
                    }
                    Cmd::Drop => { detach(fake, tx); return; }
                }
            }
            incoming = socket.recv() => {
                let text = match incoming {
                    Some(Ok(Message::Text(t))) => t,
                    Some(Ok(Message::Close(_))) | None | Some(Err(_)) => { detach(fake, tx); return; }
                    _ => continue,
                };
                let Ok(p) = serde_json::from_str::<Value>(text.as_str()) else { continue };
                match p["op"].as_u64() {
                    Some(1) => {
                        let ack = fake.with(|s| { s.heartbeats += 1; !s.withhold_acks });
                        if ack && !send(socket, json!({"op": 11})).await { return; }
                    }
                    Some(2) => {
                        fake.with(|s| s.identifies.push(p["d"].clone()));
                        if p["d"]["token"] != TOKEN {
                            let _ = socket.send(Message::Close(Some(CloseFrame { code: 4004, reason: "Authentication failed.".into() }))).await;
                            return;
                        }
                        let (session, s) = fake.with(|s| { s.sessions += 1; s.seq += 1; (format!("sess-{}", s.sessions), s.seq) });
                        let ready = json!({"op": 0, "t": "READY", "s": s, "d": {
                            "v": 10, "session_id": session,
                            "resume_gateway_url": fake.gateway_url(),
                            "user": {"id": BOT_ID, "username": "zeroclaw", "bot": true},
                            "guilds": []
                        }});
                        if !send(socket, ready).await { return; }
                        attach(fake, tx);
                    }
                    Some(6) => {
                        let session = p["d"]["session_id"].as_str().unwrap_or_default().to_string();
                        let since = p["d"]["seq"].as_u64();
                        fake.with(|s| s.resumes.push((session, since)));
                        // What the client missed, in order, then RESUMED.
                        let missed: Vec<Value> = fake.with(|s| {
                            let missed: Vec<Value> = s.log.iter()
                                .filter(|e| e["s"].as_u64() > since)
                                .cloned()
                                .collect();
                            s.replayed += missed.len() as u32;
                            missed
                        });
                        for e in missed {
                            if !send(socket, e).await { return; }
                        }
                        let s = fake.with(|s| { s.seq += 1; s.seq });
                        if !send(socket, json!({"op": 0, "t": "RESUMED", "s": s, "d": {}})).await { return; }
                        attach(fake, tx);
                    }
                    _ => {}
                }
            }
        }
    }
}

/// Number a dispatch and keep it for replay.
fn log_dispatch(fake: &FakeDiscord, t: &str, d: Value) -> Value {
    fake.with(|s| {
        s.seq += 1;
        let p = json!({"op": 0, "t": t, "s": s.seq, "d": d});
        s.log.push_back(p.clone());
        if s.log.len() > REPLAY_LOG {
            s.log.pop_front();
        }
        p
    })
}

/// Make this connection the one commands go to, and flush what waited.
fn attach(fake: &FakeDiscord, tx: &mpsc::UnboundedSender<Cmd>) {
    fake.with(|s| {
        s.conn = Some(tx.clone());
        for cmd in std::mem::take(&mut s.queued) {
            let _ = tx.send(cmd);
        }
    });
}

/// The connection is gone: commands that were sent to it and not carried
/// out yet go back to the front of the queue (Discord does not lose an
/// event because a socket died before it was written; dispatches written
/// and not read are in the log for RESUME).
fn leave(
    fake: &FakeDiscord,
    tx: &mpsc::UnboundedSender<Cmd>,
    rx: &mut mpsc::UnboundedReceiver<Cmd>,
) {
    fake.with(|s| {
        if s.conn.as_ref().is_some_and(|c| c.same_channel(tx)) {
            s.conn = None;
        }
        let mut left: Vec<Cmd> = std::iter::from_fn(|| rx.try_recv().ok())
            .filter(|c| !matches!(c, Cmd::Drop | Cmd::Close(_)))
            .collect();
        left.append(&mut s.queued);
        s.queued = left;
    });
}

fn detach(fake: &FakeDiscord, tx: &mpsc::UnboundedSender<Cmd>) {
    fake.with(|s| {
        if s.conn.as_ref().is_some_and(|c| c.same_channel(tx)) {
            s.conn = None;
        }
    });
}
