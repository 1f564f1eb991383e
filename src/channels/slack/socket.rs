//! Socket Mode: the websocket loop, run in a task owned by the actor.
//!
//! Every envelope is acknowledged at once (Slack redelivers what is not
//! acked within 3 s), events are deduplicated by `event_id` and handed to the
//! actor's worker. A `disconnect` frame (Slack's routine "reconnect now") and
//! a connection gone silent (no frame, not even a pong, for twice
//! `idle_timeout`) are handled in place with a fresh connection; a connection
//! that drops, or a new one that cannot be opened, is transient trouble that
//! the channel retries in place with backoff.

use super::channel::Slack;
use super::events::EventsPayload;
use crate::channels::platform::{Fault, Link};
use crate::channels::wire::lenient;
use futures_util::{SinkExt, StreamExt};
use serde::Deserialize;
use serde_json::{Value, json};
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message;

/// A websocket upgrade that has not completed by then was black-holed.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(20);

/// How one websocket session ended.
enum SessionEnd {
    /// Slack asked us to reconnect (`disconnect` frame).
    Reconnect(String),
    Lost(String),
}

/// Run Socket Mode until the connection is lost or a token rejected; says why.
pub async fn run(slack: &Slack, link: &Link<Value>, idle_timeout: Duration) -> Fault {
    loop {
        let url = match slack.api.open_connection().await {
            Ok(url) => url,
            Err(e) => return Fault::from_call("apps.connections.open", e),
        };
        let connecting = tokio::time::timeout(
            CONNECT_TIMEOUT,
            crate::channels::websocket::connect(url.as_str()),
        );
        let ws = match connecting.await {
            Ok(Ok(ws)) => ws,
            Ok(Err(e)) => {
                return Fault::Transient {
                    reason: format!("Socket Mode connect: {e}"),
                    wait: None,
                };
            }
            Err(_) => {
                return Fault::Transient {
                    reason: format!("Socket Mode connect: no answer within {CONNECT_TIMEOUT:?}"),
                    wait: None,
                };
            }
        };
        match session(ws, slack, link, idle_timeout).await {
            SessionEnd::Reconnect(reason) => {
                tracing::info!("slack: reconnecting Socket Mode ({reason})");
            }
            // A dropped connection is transient: the channel reconnects in place.
            SessionEnd::Lost(reason) => {
                return Fault::Transient { reason, wait: None };
            }
        }
    }
}

async fn session<S>(
    mut ws: tokio_tungstenite::WebSocketStream<S>,
    slack: &Slack,
    link: &Link<Value>,
    idle_timeout: Duration,
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
        // Any frame, a pong included, is work completed.
        link.touch();
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
            Frame::Hello => link.status("socket mode connected"),
            Frame::Disconnect(reason) => {
                let _ = ws.close(None).await;
                return SessionEnd::Reconnect(reason);
            }
            Frame::Event { event_id, event } => {
                if slack.first_sight(event_id.as_deref()).await {
                    link.offer(event);
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

/// A Socket Mode envelope, as far as the channel reads it.
#[derive(Deserialize)]
struct Envelope {
    #[serde(default, deserialize_with = "lenient")]
    envelope_id: Option<String>,
    #[serde(default, rename = "type", deserialize_with = "lenient")]
    kind: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    reason: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    payload: Option<EventsPayload>,
}

/// Decode one text frame into the envelope id to acknowledge and what it
/// asks; `None` when it is not JSON. Unknown types and odd shapes decode to
/// `Other`. Pure, so it can be fuzzed and tested.
pub fn decode_frame(text: &str) -> Option<(Option<String>, Frame)> {
    let value = serde_json::from_str::<Value>(text).ok()?;
    if !value.is_object() {
        return Some((None, Frame::Other));
    }
    let envelope: Envelope = serde_json::from_value(value).ok()?;
    let frame = match envelope.kind.as_deref().unwrap_or_default() {
        "hello" => Frame::Hello,
        "disconnect" => Frame::Disconnect(envelope.reason.unwrap_or_else(|| "unspecified".into())),
        "events_api" => {
            let payload = envelope.payload.unwrap_or_default();
            Frame::Event {
                event_id: payload.event_id,
                event: payload.event,
            }
        }
        _ => Frame::Other,
    };
    Some((envelope.envelope_id, frame))
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
        // Odd shapes and unknown fields: still acknowledged, never an error.
        let (ack, frame) =
            decode_frame(r#"{"envelope_id":"e2","type":"events_api","payload":7,"new":1}"#)
                .unwrap();
        assert_eq!(ack.as_deref(), Some("e2"));
        assert_eq!(
            frame,
            Frame::Event {
                event_id: None,
                event: serde_json::Value::Null
            }
        );
        let (ack, frame) = decode_frame(r#"{"envelope_id":3,"type":"slash_commands"}"#).unwrap();
        assert_eq!((ack, frame), (None, Frame::Other));
    }
}
