//! What Slack sends, typed: an Events API delivery (Socket Mode's `payload`,
//! or the body the gateway's `/webhook/slack` hands on) and the message
//! events the channel answers. Unknown fields and event types are ignored.

use crate::channels::wire::lenient;
use serde::Deserialize;
use serde::de::IgnoredAny;
use serde_json::Value;

/// An Events API delivery.
#[derive(Debug, Default, Deserialize)]
pub struct EventsPayload {
    #[serde(default, deserialize_with = "lenient")]
    pub event_id: Option<String>,
    /// The inner event, read by [`incoming`].
    #[serde(default)]
    pub event: Value,
}

impl EventsPayload {
    /// Read leniently: a body of another shape carries no event.
    pub fn read(body: Value) -> Self {
        if !body.is_object() {
            return Self::default();
        }
        serde_json::from_value(body).unwrap_or_default()
    }
}

/// A `message` event.
#[derive(Deserialize)]
struct MessageEvent<'a> {
    #[serde(rename = "type")]
    kind: &'a str,
    channel: &'a str,
    user: &'a str,
    text: &'a str,
    #[serde(default)]
    thread_ts: Option<&'a str>,
    #[serde(default)]
    bot_id: Option<IgnoredAny>,
    #[serde(default)]
    subtype: Option<IgnoredAny>,
}

/// The parts of a message event the channel answers.
#[derive(Debug, PartialEq)]
pub struct Incoming<'a> {
    pub channel: &'a str,
    pub user: &'a str,
    pub text: &'a str,
    pub thread_ts: Option<&'a str>,
}

/// A person's message in `event`, or `None` for everything the channel
/// ignores. Pure, so every event shape can be fuzzed and tested.
pub fn incoming(event: &Value) -> Option<Incoming<'_>> {
    let m = MessageEvent::deserialize(event).ok()?;
    // Only `message` events: a mention also arrives as `app_mention`, and
    // answering both would answer twice. Bots (us included) and
    // edits/joins/... carry bot_id or a subtype.
    if m.kind != "message" || m.bot_id.is_some() || m.subtype.is_some() {
        return None;
    }
    Some(Incoming {
        channel: m.channel,
        user: m.user,
        text: m.text,
        thread_ts: m.thread_ts,
    })
}

#[cfg(test)]
mod tests {
    use super::{EventsPayload, incoming};
    use serde_json::json;

    #[test]
    fn only_people_s_plain_messages_are_answered() {
        let event =
            json!({"type":"message","channel":"C1","user":"U1","text":"hi","thread_ts":"1.2"});
        let m = incoming(&event).unwrap();
        assert_eq!(
            (m.channel, m.user, m.text, m.thread_ts),
            ("C1", "U1", "hi", Some("1.2"))
        );
        let mut bot = event.clone();
        bot["bot_id"] = json!("B1");
        assert!(incoming(&bot).is_none());
        let mut edit = event.clone();
        edit["subtype"] = json!("message_changed");
        assert!(incoming(&edit).is_none());
        assert!(incoming(&json!({"type":"message","channel":"C1","user":"U1"})).is_none());
        assert!(incoming(&json!("message")).is_none());
        let mut extra = event.clone();
        extra["blocks"] = json!([{"type": "rich_text"}]);
        extra["bot_id"] = json!(null);
        assert!(incoming(&extra).is_some(), "unknown fields are ignored");
        let mut mention = event;
        mention["type"] = json!("app_mention");
        assert!(incoming(&mention).is_none());
    }

    #[test]
    fn payloads_read_leniently() {
        let p = EventsPayload::read(json!({"event_id": "Ev1", "event": {"type": "x"}, "new": 1}));
        assert_eq!(p.event_id.as_deref(), Some("Ev1"));
        assert_eq!(p.event["type"], "x");
        let p = EventsPayload::read(json!({"event_id": 5}));
        assert_eq!((p.event_id, p.event), (None, serde_json::Value::Null));
        assert!(EventsPayload::read(json!([1])).event.is_null());
    }
}
