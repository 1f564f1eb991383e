//! Discord gateway protocol pieces that need no connection: payloads,
//! intents and what each close code means. Hand-written rather than
//! twilight-gateway: the channel needs a handful of opcodes, the crate would
//! pull twilight-model (a large build on this project's small machines) and
//! hide the resume/zombie decisions the tests must observe; tokio-tungstenite
//! is already a dependency for Slack.

use crate::channels::wire::lenient;
use serde::Deserialize;
use serde_json::{Value, json};

/// GUILD_MESSAGES | DIRECT_MESSAGES | MESSAGE_CONTENT.
pub const INTENTS: u64 = (1 << 9) | (1 << 12) | (1 << 15);

pub mod op {
    pub const DISPATCH: u64 = 0;
    pub const HEARTBEAT: u64 = 1;
    pub const IDENTIFY: u64 = 2;
    pub const RESUME: u64 = 6;
    pub const RECONNECT: u64 = 7;
    pub const INVALID_SESSION: u64 = 9;
    pub const HELLO: u64 = 10;
    pub const HEARTBEAT_ACK: u64 = 11;
}

/// What to do after a connection ends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Next {
    /// Reconnect and RESUME the session (missed events are replayed).
    Resume,
    /// Reconnect with a fresh IDENTIFY.
    Identify,
    /// Stop: the token or the configuration is refused; retrying cannot help.
    Stop(String),
}

/// The meaning of a gateway close code (Discord's "Gateway Close Event Codes").
pub fn after_close(code: u16) -> Next {
    match code {
        4004 => Next::Stop("bot token rejected by the gateway (close 4004)".into()),
        4010 => Next::Stop("invalid shard (close 4010)".into()),
        4011 => Next::Stop("sharding required (close 4011): the bot is in too many guilds".into()),
        4012 => Next::Stop("invalid API version (close 4012)".into()),
        4013 => Next::Stop("invalid intents (close 4013)".into()),
        4014 => Next::Stop(
            "disallowed intents (close 4014): enable the MESSAGE CONTENT intent for the bot in the Discord developer portal".into(),
        ),
        4007 | 4009 => Next::Identify,
        _ => Next::Resume,
    }
}

pub fn identify(token: &str) -> Value {
    json!({
        "op": op::IDENTIFY,
        "d": {
            "token": token,
            "intents": INTENTS,
            "properties": {"os": std::env::consts::OS, "browser": "zeroclaw", "device": "zeroclaw"},
        }
    })
}

pub fn resume(token: &str, session_id: &str, seq: Option<u64>) -> Value {
    json!({"op": op::RESUME, "d": {"token": token, "session_id": session_id, "seq": seq}})
}

pub fn heartbeat(seq: Option<u64>) -> Value {
    json!({"op": op::HEARTBEAT, "d": seq})
}

/// `<base>?v=10&encoding=json`, keeping the base's path.
pub fn connect_url(base: &str) -> Result<String, String> {
    let mut url = reqwest::Url::parse(base).map_err(|e| format!("gateway url `{base}`: {e}"))?;
    url.set_query(Some("v=10&encoding=json"));
    Ok(url.to_string())
}

/// One gateway payload, as far as the channel reads it.
#[derive(Debug)]
pub enum Payload {
    /// op 10, with the heartbeat interval in ms (if it is readable).
    Hello {
        heartbeat_interval: Option<u64>,
    },
    /// op 0: event `name` with sequence number `seq`.
    Dispatch {
        seq: Option<u64>,
        name: String,
        event: Dispatch,
    },
    Heartbeat,
    HeartbeatAck,
    Reconnect,
    InvalidSession {
        resumable: bool,
    },
    /// An op the channel does not use (`None`: no readable op).
    Other(Option<u64>),
}

/// The dispatches the channel acts on.
#[derive(Debug)]
pub enum Dispatch {
    Ready(Ready),
    Resumed,
    MessageCreate(MessageCreate),
    /// Any other event, or a MESSAGE_CREATE without a channel or content.
    Other,
}

#[derive(Debug, Default, Deserialize)]
pub struct Ready {
    #[serde(default, deserialize_with = "lenient")]
    pub session_id: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    pub resume_gateway_url: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    pub user: Option<User>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct User {
    #[serde(default, deserialize_with = "lenient")]
    pub id: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    pub username: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    pub bot: Option<bool>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct MessageCreate {
    pub channel_id: String,
    pub content: String,
    #[serde(default, deserialize_with = "lenient")]
    pub guild_id: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    pub author: Option<User>,
}

/// The envelope every payload comes in.
#[derive(Deserialize)]
struct Envelope {
    #[serde(default, deserialize_with = "lenient")]
    op: Option<u64>,
    #[serde(default)]
    d: Value,
    #[serde(default, deserialize_with = "lenient")]
    s: Option<u64>,
    #[serde(default, deserialize_with = "lenient")]
    t: Option<String>,
}

#[derive(Deserialize)]
struct Hello {
    #[serde(default, deserialize_with = "lenient")]
    heartbeat_interval: Option<u64>,
}

/// Decode one text frame; `None` when it is not JSON. Unknown ops, unknown
/// events and odd shapes decode to `Other`, never to an error. Pure, so it
/// can be fuzzed and tested.
pub fn decode(text: &str) -> Option<Payload> {
    let value: Value = serde_json::from_str(text).ok()?;
    if !value.is_object() {
        return Some(Payload::Other(None));
    }
    let p: Envelope = serde_json::from_value(value).ok()?;
    Some(match p.op {
        Some(op::HELLO) => Payload::Hello {
            heartbeat_interval: serde_json::from_value::<Hello>(p.d)
                .ok()
                .and_then(|h| h.heartbeat_interval),
        },
        Some(op::DISPATCH) => {
            let name = p.t.unwrap_or_default();
            let event = match name.as_str() {
                "READY" => Dispatch::Ready(serde_json::from_value(p.d).unwrap_or_default()),
                "RESUMED" => Dispatch::Resumed,
                "MESSAGE_CREATE" => serde_json::from_value(p.d)
                    .map(Dispatch::MessageCreate)
                    .unwrap_or(Dispatch::Other),
                _ => Dispatch::Other,
            };
            Payload::Dispatch {
                seq: p.s,
                name,
                event,
            }
        }
        Some(op::HEARTBEAT) => Payload::Heartbeat,
        Some(op::HEARTBEAT_ACK) => Payload::HeartbeatAck,
        Some(op::RECONNECT) => Payload::Reconnect,
        Some(op::INVALID_SESSION) => Payload::InvalidSession {
            resumable: p.d == Value::Bool(true),
        },
        other => Payload::Other(other),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn close_codes() {
        assert!(matches!(after_close(4004), Next::Stop(_)));
        for c in 4010..=4014 {
            assert!(matches!(after_close(c), Next::Stop(_)), "{c}");
        }
        assert_eq!(after_close(4007), Next::Identify);
        assert_eq!(after_close(4009), Next::Identify);
        assert_eq!(after_close(4000), Next::Resume);
        assert_eq!(after_close(1006), Next::Resume);
    }

    #[test]
    fn intents_and_urls() {
        assert_eq!(INTENTS, 37376);
        assert_eq!(
            connect_url("wss://gateway.discord.gg").unwrap(),
            "wss://gateway.discord.gg/?v=10&encoding=json"
        );
        assert_eq!(
            connect_url("ws://127.0.0.1:9/gateway").unwrap(),
            "ws://127.0.0.1:9/gateway?v=10&encoding=json"
        );
        assert!(connect_url("not a url").is_err());
    }

    #[test]
    fn payloads_decode_typed_and_tolerate_odd_input() {
        let hello = decode(r#"{"op":10,"d":{"heartbeat_interval":41250,"_trace":[]}}"#);
        assert!(matches!(
            hello,
            Some(Payload::Hello {
                heartbeat_interval: Some(41250)
            })
        ));
        let msg = decode(
            r#"{"op":0,"s":3,"t":"MESSAGE_CREATE","d":{"channel_id":"1","content":"hi",
                "author":{"id":"9","bot":"yes"},"guild_id":5,"new_field":{}}}"#,
        );
        let Some(Payload::Dispatch {
            seq: Some(3),
            event: Dispatch::MessageCreate(m),
            ..
        }) = msg
        else {
            panic!("{msg:?}");
        };
        assert_eq!((m.channel_id.as_str(), m.content.as_str()), ("1", "hi"));
        assert_eq!(m.guild_id, None);
        let author = m.author.unwrap();
        assert_eq!((author.id.as_deref(), author.bot), (Some("9"), None));
        let no_content = decode(r#"{"op":0,"t":"MESSAGE_CREATE","d":{"channel_id":"1"}}"#);
        assert!(matches!(
            no_content,
            Some(Payload::Dispatch {
                event: Dispatch::Other,
                ..
            })
        ));
        let ready = decode(r#"{"op":0,"t":"READY","d":"odd"}"#);
        assert!(matches!(
            ready,
            Some(Payload::Dispatch {
                event: Dispatch::Ready(Ready {
                    session_id: None,
                    ..
                }),
                ..
            })
        ));
        assert!(matches!(
            decode(r#"{"op":9,"d":true}"#),
            Some(Payload::InvalidSession { resumable: true })
        ));
        assert!(matches!(
            decode(r#"{"op":"ten"}"#),
            Some(Payload::Other(None))
        ));
        assert!(matches!(decode("[10]"), Some(Payload::Other(None))));
        assert!(decode("not json").is_none());
    }
}
