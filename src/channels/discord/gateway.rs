//! The gateway connection loop, run in a task owned by the actor.
//!
//! Within one task: HELLO, heartbeats (the first after a random fraction of
//! the interval, as Discord asks), IDENTIFY or RESUME, dispatches. Routine
//! reconnects — op 7, op 9, resumable close codes, a dropped socket, and a
//! missing heartbeat ACK (a zombie connection, the classic cause of a bot
//! that silently stops receiving) — are handled in place with RESUME where
//! the session allows. A gateway that cannot be reached is transient trouble
//! the channel retries in place with backoff (resuming once it is back); it
//! stops for good on 4004 / 4010–4014.

use super::channel::Discord;
use super::protocol::{self, Dispatch, MessageCreate, Next, Payload};
use crate::channels::platform::{Fault, Link};
use futures_util::{SinkExt, StreamExt};
use serde_json::Value;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::{Instant, sleep_until, timeout};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

/// HELLO must come this fast after connecting.
const HELLO_TIMEOUT: Duration = Duration::from_secs(20);
/// In-place reconnects allowed without a READY/RESUMED in between.
const MAX_QUICK_RECONNECTS: u32 = 5;

/// The resumable part of a session.
#[derive(Default, Clone)]
struct Session {
    id: Option<String>,
    seq: Option<u64>,
    resume_url: Option<String>,
}

/// Where a session outlives the actor: the child spec keeps one slot and
/// hands it to every (re)start, so a channel restarted by the supervisor
/// RESUMEs and Discord replays what it missed while down, instead of losing it.
#[derive(Clone, Default)]
pub struct SessionSlot(Arc<std::sync::Mutex<Option<(String, Session)>>>);

impl SessionSlot {
    /// The saved session, if it was made with the same gateway and token.
    fn take(&self, key: &str) -> Session {
        self.0
            .lock()
            .ok()
            .and_then(|mut s| s.take())
            .filter(|(k, _)| k == key)
            .map(|(_, s)| s)
            .unwrap_or_default()
    }

    fn save(&self, key: &str, session: &Session) {
        if let Ok(mut s) = self.0.lock() {
            *s = Some((key.to_string(), session.clone()));
        }
    }
}

pub struct GatewayConfig {
    pub url: String,
    pub token: String,
    pub session: SessionSlot,
}

impl GatewayConfig {
    fn slot_key(&self) -> String {
        format!("{}|{}", self.url, self.token)
    }
}

/// Run the gateway until the channel must fail or stop; says why.
pub async fn run(discord: &Discord, config: &GatewayConfig, link: &Link<MessageCreate>) -> Fault {
    let key = config.slot_key();
    let mut session = config.session.take(&key);
    let mut quick_reconnects = 0;
    loop {
        let base = match (&session.id, &session.resume_url) {
            (Some(_), Some(url)) => url.clone(),
            _ => config.url.clone(),
        };
        let url = match protocol::connect_url(&base) {
            Ok(u) => u,
            Err(e) => return Fault::Rejected(e),
        };
        let connecting = timeout(
            HELLO_TIMEOUT,
            crate::channels::websocket::connect(url.as_str()),
        );
        let ws = match connecting.await {
            Ok(Ok(ws)) => ws,
            Ok(Err(e)) => {
                // Kept for the next attempt, which resumes.
                config.session.save(&key, &session);
                return Fault::Transient {
                    reason: format!("gateway connect: {e}"),
                    wait: None,
                };
            }
            Err(_) => {
                config.session.save(&key, &session);
                return Fault::Transient {
                    reason: format!("gateway connect: no answer within {HELLO_TIMEOUT:?}"),
                    wait: None,
                };
            }
        };
        link.contact();
        let mut conn = Connection {
            discord,
            config,
            session: &mut session,
            link,
            established: false,
        };
        let next = conn.run(ws).await;
        let established = conn.established;
        config.session.save(&key, &session);
        quick_reconnects = if established { 0 } else { quick_reconnects + 1 };
        if quick_reconnects > MAX_QUICK_RECONNECTS {
            return Fault::Lost("gateway: repeated reconnects without a working session".into());
        }
        match next {
            Ok(Next::Resume) if session.id.is_some() => {
                tracing::info!("discord: reconnecting to resume the session");
            }
            Ok(Next::Resume) | Ok(Next::Identify) => {
                tracing::info!("discord: reconnecting with a new session");
                session = Session::default();
                config.session.save(&key, &session);
            }
            Ok(Next::Stop(reason)) => return Fault::Rejected(reason),
            Err(lost) => return Fault::Lost(lost),
        }
    }
}

/// One websocket connection.
struct Connection<'a> {
    discord: &'a Discord,
    config: &'a GatewayConfig,
    session: &'a mut Session,
    link: &'a Link<MessageCreate>,
    /// Whether the session was established (READY or RESUMED) on it.
    established: bool,
}

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

impl Connection<'_> {
    /// Returns what to do next (or `Err` = fail).
    async fn run(&mut self, mut ws: Ws) -> Result<Next, String> {
        // HELLO first.
        let interval = match timeout(HELLO_TIMEOUT, next_payload(&mut ws)).await {
            Ok(Ok(Some(Payload::Hello {
                heartbeat_interval: Some(ms),
            }))) if ms > 0 => Duration::from_millis(ms),
            Ok(Ok(Some(Payload::Hello { .. }))) => {
                return Err("gateway HELLO without heartbeat_interval".into());
            }
            Ok(Ok(Some(p))) => return Err(format!("gateway sent {} before HELLO", op_of(&p))),
            // A connection that never says HELLO is dead: a fresh one is the cure.
            Ok(Ok(None)) | Err(_) => {
                tracing::warn!("discord: gateway sent no HELLO; reconnecting");
                self.link.status("reconnecting: gateway sent no HELLO");
                return Ok(Next::Resume);
            }
            Ok(Err(end)) => return end,
        };
        let hello = match &self.session.id {
            Some(id) => protocol::resume(&self.config.token, id, self.session.seq),
            None => protocol::identify(&self.config.token),
        };
        if let Err(e) = send(&mut ws, &hello).await {
            return Ok(e);
        }
        let mut next_beat = Instant::now() + interval.mul_f64(rand::random::<f64>());
        let mut acked = true;
        loop {
            let payload = tokio::select! {
                _ = sleep_until(next_beat) => {
                    if !acked {
                        tracing::warn!("discord: no heartbeat ACK; zombie connection, reconnecting");
                        self.link.status("reconnecting: heartbeat not acknowledged");
                        close(&mut ws, "zombie connection").await;
                        return Ok(Next::Resume);
                    }
                    if let Err(next) = send(&mut ws, &protocol::heartbeat(self.session.seq)).await {
                        return Ok(next);
                    }
                    acked = false;
                    next_beat = Instant::now() + interval;
                    continue;
                }
                p = next_payload(&mut ws) => p,
            };
            let p = match payload {
                Ok(Some(p)) => {
                    // Anything from the gateway, a heartbeat ACK included,
                    // is work completed.
                    self.link.touch();
                    p
                }
                Ok(None) => continue,
                Err(end) => return end,
            };
            match p {
                Payload::Dispatch { seq, name, event } => self.dispatch(seq, &name, event),
                Payload::Heartbeat => {
                    if let Err(next) = send(&mut ws, &protocol::heartbeat(self.session.seq)).await {
                        return Ok(next);
                    }
                }
                Payload::HeartbeatAck => acked = true,
                Payload::Reconnect => {
                    close(&mut ws, "reconnect requested").await;
                    return Ok(Next::Resume);
                }
                Payload::InvalidSession { resumable } => {
                    // Discord asks for a random 1–5 s wait before identifying again.
                    let wait = Duration::from_millis(1000 + rand::random_range(0..4000));
                    tokio::time::sleep(wait).await;
                    let _ = ws.close(None).await;
                    return Ok(if resumable {
                        Next::Resume
                    } else {
                        Next::Identify
                    });
                }
                Payload::Hello { .. } | Payload::Other(_) => {}
            }
        }
    }

    fn dispatch(&mut self, seq: Option<u64>, name: &str, event: Dispatch) {
        if let Some(s) = seq {
            self.session.seq = Some(s);
        }
        match event {
            Dispatch::Ready(ready) => {
                self.established = true;
                self.session.id = ready.session_id;
                self.session.resume_url = ready.resume_gateway_url;
                let user = ready.user.unwrap_or_default();
                self.discord.own_id.set(user.id);
                let name = user.username.as_deref().unwrap_or("?");
                tracing::info!("discord: connected as {name}");
                self.link.status(format!("connected as {name}"));
            }
            Dispatch::Resumed => {
                self.established = true;
                self.link.status("connected (resumed)");
            }
            Dispatch::MessageCreate(message) => self.link.offer(message),
            Dispatch::Other => {}
        }
        // Keep the slot current: a failing actor has no later chance to save.
        if name == "READY" || name == "MESSAGE_CREATE" {
            self.config
                .session
                .save(&self.config.slot_key(), self.session);
        }
    }
}

/// How a payload is named in an error.
fn op_of(p: &Payload) -> String {
    let op = match p {
        Payload::Dispatch { .. } => protocol::op::DISPATCH,
        Payload::Heartbeat => protocol::op::HEARTBEAT,
        Payload::HeartbeatAck => protocol::op::HEARTBEAT_ACK,
        Payload::Reconnect => protocol::op::RECONNECT,
        Payload::InvalidSession { .. } => protocol::op::INVALID_SESSION,
        Payload::Hello { .. } => protocol::op::HELLO,
        Payload::Other(None) => return "op null".into(),
        Payload::Other(Some(op)) => *op,
    };
    format!("op {op}")
}

async fn close(ws: &mut Ws, reason: &str) {
    let _ = ws
        .close(Some(CloseFrame {
            code: CloseCode::Library(4000),
            reason: reason.to_string().into(),
        }))
        .await;
}

/// The next JSON payload; `Ok(None)` for frames that carry none; `Err(next)`
/// when the connection ended (with what to do about it).
async fn next_payload(ws: &mut Ws) -> Result<Option<Payload>, Result<Next, String>> {
    match ws.next().await {
        None => Err(Ok(Next::Resume)),
        Some(Err(e)) => {
            tracing::info!("discord: gateway connection dropped: {e}");
            Err(Ok(Next::Resume))
        }
        Some(Ok(Message::Close(frame))) => {
            let code = frame.as_ref().map(|f| u16::from(f.code)).unwrap_or(1005);
            tracing::info!("discord: gateway closed the connection ({code})");
            Err(Ok(protocol::after_close(code)))
        }
        Some(Ok(Message::Text(t))) => Ok(protocol::decode(t.as_str())),
        Some(Ok(_)) => Ok(None),
    }
}

async fn send(ws: &mut Ws, payload: &Value) -> Result<(), Next> {
    ws.send(Message::Text(payload.to_string().into()))
        .await
        .map_err(|e| {
            tracing::info!("discord: gateway send failed: {e}");
            Next::Resume
        })
}
