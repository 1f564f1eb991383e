//! Socket Mode: the websocket loop, run in a task owned by the actor.
//!
//! Every envelope is acknowledged at once (Slack redelivers what is not
//! acked within 3 s), events are deduplicated by `event_id` and handed to the
//! actor's worker. A `disconnect` frame (Slack's routine "reconnect now") and
//! a connection gone silent (no frame, not even a pong, for twice
//! `idle_timeout`) are handled in place with a fresh connection; a connection
//! that drops, or a new one that cannot be opened, is lost, and the channel
//! fails so the supervisor restarts it with backoff.

use super::api::SlackError;
use super::handler::SlackChannel;
use crate::channels::msg::ChannelMsg;
use futures_util::{SinkExt, StreamExt};
use ractor::ActorRef;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;

/// How one websocket session ended.
enum SessionEnd {
    /// Slack asked us to reconnect (`disconnect` frame).
    Reconnect(String),
    Lost(String),
}

/// Run Socket Mode until the connection is lost or a token rejected; then tell the actor.
pub async fn run(
    channel: Arc<SlackChannel>,
    events: mpsc::Sender<Value>,
    idle_timeout: Duration,
    status: impl Fn(String) + Send,
    actor: ActorRef<ChannelMsg>,
) {
    let msg = loop {
        let url = match channel.api.open_connection().await {
            Ok(url) => url,
            Err(e @ SlackError::Rejected { .. }) => {
                break ChannelMsg::CredentialRejected(e.to_string());
            }
            Err(e) => break ChannelMsg::ConnectionLost(format!("apps.connections.open: {e}")),
        };
        let ws = match tokio_tungstenite::connect_async(url.as_str()).await {
            Ok((ws, _)) => ws,
            Err(e) => break ChannelMsg::ConnectionLost(format!("Socket Mode connect: {e}")),
        };
        match session(ws, &channel, &events, idle_timeout, &status).await {
            SessionEnd::Reconnect(reason) => {
                tracing::info!("slack: reconnecting Socket Mode ({reason})");
            }
            SessionEnd::Lost(reason) => break ChannelMsg::ConnectionLost(reason),
        }
    };
    let _ = actor.send_message(msg);
}

async fn session<S>(
    mut ws: tokio_tungstenite::WebSocketStream<S>,
    channel: &SlackChannel,
    events: &mpsc::Sender<Value>,
    idle_timeout: Duration,
    status: &(impl Fn(String) + Send),
) -> SessionEnd
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    let mut pinged = false;
    loop {
        let frame = match tokio::time::timeout(idle_timeout, ws.next()).await {
            Err(_) if pinged => {
                // Half-open: nothing, not even a pong. A fresh connection is
                // the cure; if that cannot be had, the channel fails.
                return SessionEnd::Reconnect(format!(
                    "connection silent for {:?}",
                    idle_timeout * 2
                ));
            }
            Err(_) => {
                pinged = true;
                if let Err(e) = ws.send(Message::Ping(Vec::new().into())).await {
                    return SessionEnd::Lost(format!("Socket Mode ping: {e}"));
                }
                continue;
            }
            Ok(None) => return SessionEnd::Lost("Socket Mode connection closed".into()),
            Ok(Some(Err(e))) => return SessionEnd::Lost(format!("Socket Mode: {e}")),
            Ok(Some(Ok(frame))) => frame,
        };
        pinged = false;
        let text = match frame {
            Message::Text(t) => t,
            Message::Close(c) => {
                return SessionEnd::Lost(format!("Socket Mode connection closed: {c:?}"));
            }
            _ => continue,
        };
        let Some((ack, frame)) = decode_frame(text.as_str()) else {
            tracing::warn!("slack: unreadable Socket Mode frame ignored");
            continue;
        };
        // Ack first: Slack wants it within 3 seconds, whatever we do next.
        if let Some(id) = ack {
            let ack = json!({ "envelope_id": id }).to_string();
            if let Err(e) = ws.send(Message::Text(ack.into())).await {
                return SessionEnd::Lost(format!("Socket Mode ack: {e}"));
            }
        }
        match frame {
            Frame::Hello => status("socket mode connected".into()),
            Frame::Disconnect(reason) => {
                let _ = ws.close(None).await;
                return SessionEnd::Reconnect(reason);
            }
            Frame::Event { event_id, event } => {
                let fresh = event_id.as_deref().is_none_or(|id| channel.first_sight(id));
                if fresh && events.try_send(event).is_err() {
                    tracing::warn!("slack: event queue full, event dropped");
                }
            }
            Frame::Other => {}
        }
    }
}

/// What one Socket Mode frame asks of the session.
#[derive(Debug, PartialEq)]
pub enum Frame {
    Hello,
    /// Slack's routine "reconnect now", with its reason.
    Disconnect(String),
    /// An Events API delivery: its `event_id` (for deduplication) and the inner `event`.
    Event {
        event_id: Option<String>,
        event: Value,
    },
    Other,
}

/// Decode one text frame into the envelope id to acknowledge and what it
/// asks; `None` when it is not JSON. Pure, so it can be fuzzed and tested.
pub fn decode_frame(text: &str) -> Option<(Option<String>, Frame)> {
    let envelope = serde_json::from_str::<Value>(text).ok()?;
    let ack = envelope["envelope_id"].as_str().map(str::to_string);
    let frame = match envelope["type"].as_str().unwrap_or_default() {
        "hello" => Frame::Hello,
        "disconnect" => Frame::Disconnect(
            envelope["reason"]
                .as_str()
                .unwrap_or("unspecified")
                .to_string(),
        ),
        "events_api" => {
            let payload = &envelope["payload"];
            Frame::Event {
                event_id: payload["event_id"].as_str().map(str::to_string),
                event: payload["event"].clone(),
            }
        }
        _ => Frame::Other,
    };
    Some((ack, frame))
}

#[cfg(test)]
mod tests {
    use super::{Frame, decode_frame};
    use serde_json::json;

    #[test]
    fn frames_decode_to_ack_and_kind() {
        let text = json!({"envelope_id":"e1","type":"events_api",
            "payload":{"event_id":"Ev1","event":{"type":"message"}}})
        .to_string();
        let (ack, frame) = decode_frame(&text).unwrap();
        assert_eq!(ack.as_deref(), Some("e1"));
        assert_eq!(
            frame,
            Frame::Event {
                event_id: Some("Ev1".into()),
                event: json!({"type":"message"})
            }
        );
        let (_, frame) = decode_frame(r#"{"type":"disconnect"}"#).unwrap();
        assert_eq!(frame, Frame::Disconnect("unspecified".into()));
        assert_eq!(decode_frame("[1,2]").unwrap().1, Frame::Other);
        assert!(decode_frame("not json").is_none());
    }
}
