//! The gateway connection loop, run in a task owned by the actor.
//!
//! Within one task: HELLO, heartbeats (the first after a random fraction of
//! the interval, as Discord asks), IDENTIFY or RESUME, dispatches. Routine
//! reconnects — op 7, op 9, resumable close codes, a dropped socket, and a
//! missing heartbeat ACK (a zombie connection, the classic cause of a bot
//! that silently stops receiving) — are handled in place with RESUME where
//! the session allows. The channel fails (supervisor restart with backoff)
//! when it cannot connect at all, and stops for good on 4004 / 4010–4014.

use super::handler::DiscordChannel;
use super::protocol::{self, Next, op};
use crate::channels::msg::ChannelMsg;
use futures_util::{SinkExt, StreamExt};
use ractor::ActorRef;
use serde_json::Value;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
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

/// Run the gateway until it must fail or stop, then tell the actor.
pub async fn run(
    channel: Arc<DiscordChannel>,
    config: GatewayConfig,
    messages: mpsc::Sender<Value>,
    status: impl Fn(String) + Send,
    actor: ActorRef<ChannelMsg>,
) {
    let msg = drive(&channel, &config, &messages, &status).await;
    let _ = actor.send_message(msg);
}

async fn drive(
    channel: &DiscordChannel,
    config: &GatewayConfig,
    messages: &mpsc::Sender<Value>,
    status: &(impl Fn(String) + Send),
) -> ChannelMsg {
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
            Err(e) => return ChannelMsg::CredentialRejected(e),
        };
        let ws = match tokio_tungstenite::connect_async(url.as_str()).await {
            Ok((ws, _)) => ws,
            Err(e) => return ChannelMsg::ConnectionLost(format!("gateway connect: {e}")),
        };
        let (next, established) =
            connection(ws, channel, config, &mut session, messages, status).await;
        config.session.save(&key, &session);
        quick_reconnects = if established { 0 } else { quick_reconnects + 1 };
        if quick_reconnects > MAX_QUICK_RECONNECTS {
            return ChannelMsg::ConnectionLost(
                "gateway: repeated reconnects without a working session".into(),
            );
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
            Ok(Next::Stop(reason)) => return ChannelMsg::CredentialRejected(reason),
            Err(lost) => return ChannelMsg::ConnectionLost(lost),
        }
    }
}

/// One websocket connection. Returns what to do next (or `Err` = fail) and
/// whether the session was established (READY or RESUMED) on it.
async fn connection<S>(
    mut ws: tokio_tungstenite::WebSocketStream<S>,
    channel: &DiscordChannel,
    config: &GatewayConfig,
    session: &mut Session,
    messages: &mpsc::Sender<Value>,
    status: &(impl Fn(String) + Send),
) -> (Result<Next, String>, bool)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    let mut established = false;
    // HELLO first.
    let interval = match timeout(HELLO_TIMEOUT, next_payload(&mut ws)).await {
        Ok(Ok(Some(p))) if p["op"] == op::HELLO => match p["d"]["heartbeat_interval"].as_u64() {
            Some(ms) if ms > 0 => Duration::from_millis(ms),
            _ => {
                return (
                    Err("gateway HELLO without heartbeat_interval".into()),
                    false,
                );
            }
        },
        Ok(Ok(Some(p))) => {
            return (
                Err(format!("gateway sent op {} before HELLO", p["op"])),
                false,
            );
        }
        Ok(Ok(None)) | Err(_) => return (Err("gateway sent no HELLO".into()), false),
        Ok(Err(end)) => return (end, false),
    };
    let hello = match &session.id {
        Some(id) => protocol::resume(&config.token, id, session.seq),
        None => protocol::identify(&config.token),
    };
    if let Err(e) = send(&mut ws, &hello).await {
        return (Ok(e), false);
    }
    let mut next_beat = Instant::now() + interval.mul_f64(rand::random::<f64>());
    let mut acked = true;
    loop {
        let payload = tokio::select! {
            _ = sleep_until(next_beat) => {
                if !acked {
                    tracing::warn!("discord: no heartbeat ACK; zombie connection, reconnecting");
                    status("reconnecting: heartbeat not acknowledged".into());
                    let _ = ws.close(Some(CloseFrame {
                        code: CloseCode::Library(4000),
                        reason: "zombie connection".into(),
                    })).await;
                    return (Ok(Next::Resume), established);
                }
                if let Err(next) = send(&mut ws, &protocol::heartbeat(session.seq)).await {
                    return (Ok(next), established);
                }
                acked = false;
                next_beat = Instant::now() + interval;
                continue;
            }
            p = next_payload(&mut ws) => p,
        };
        let p = match payload {
            Ok(Some(p)) => p,
            Ok(None) => continue,
            Err(end) => return (end, established),
        };
        match p["op"].as_u64() {
            Some(op::DISPATCH) => {
                if let Some(s) = p["s"].as_u64() {
                    session.seq = Some(s);
                }
                // Keep the slot current: a failing actor has no later chance to save.
                let save = p["t"] == "READY" || p["t"] == "MESSAGE_CREATE";
                let d = &p["d"];
                match p["t"].as_str().unwrap_or_default() {
                    "READY" => {
                        established = true;
                        session.id = d["session_id"].as_str().map(String::from);
                        session.resume_url = d["resume_gateway_url"].as_str().map(String::from);
                        if let Ok(mut own) = channel.own_id.lock() {
                            *own = d["user"]["id"].as_str().map(String::from);
                        }
                        let name = d["user"]["username"].as_str().unwrap_or("?");
                        tracing::info!("discord: connected as {name}");
                        status(format!("connected as {name}"));
                    }
                    "RESUMED" => {
                        established = true;
                        status("connected (resumed)".into());
                    }
                    "MESSAGE_CREATE" if messages.try_send(d.clone()).is_err() => {
                        tracing::warn!("discord: message queue full, message dropped");
                    }
                    _ => {}
                }
                if save {
                    config.session.save(&config.slot_key(), session);
                }
            }
            Some(op::HEARTBEAT) => {
                if let Err(next) = send(&mut ws, &protocol::heartbeat(session.seq)).await {
                    return (Ok(next), established);
                }
            }
            Some(op::HEARTBEAT_ACK) => acked = true,
            Some(op::RECONNECT) => {
                let _ = ws
                    .close(Some(CloseFrame {
                        code: CloseCode::Library(4000),
                        reason: "reconnect requested".into(),
                    }))
                    .await;
                return (Ok(Next::Resume), established);
            }
            Some(op::INVALID_SESSION) => {
                let resumable = p["d"] == true;
                // Discord asks for a random 1–5 s wait before identifying again.
                let wait = Duration::from_millis(1000 + rand::random_range(0..4000));
                tokio::time::sleep(wait).await;
                let _ = ws.close(None).await;
                let next = if resumable {
                    Next::Resume
                } else {
                    Next::Identify
                };
                return (Ok(next), established);
            }
            _ => {}
        }
    }
}

/// The next JSON payload; `Ok(None)` for frames that carry none; `Err(next)`
/// when the connection ended (with what to do about it).
async fn next_payload<S>(
    ws: &mut tokio_tungstenite::WebSocketStream<S>,
) -> Result<Option<Value>, Result<Next, String>>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
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
        Some(Ok(Message::Text(t))) => Ok(serde_json::from_str(t.as_str()).ok()),
        Some(Ok(_)) => Ok(None),
    }
}

async fn send<S>(
    ws: &mut tokio_tungstenite::WebSocketStream<S>,
    payload: &Value,
) -> Result<(), Next>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    ws.send(Message::Text(payload.to_string().into()))
        .await
        .map_err(|e| {
            tracing::info!("discord: gateway send failed: {e}");
            Next::Resume
        })
}
