//! Discord gateway protocol pieces that need no connection: payloads,
//! intents and what each close code means. Hand-written rather than
//! twilight-gateway: the channel needs a handful of opcodes, the crate would
//! pull twilight-model (a large build on this project's small machines) and
//! hide the resume/zombie decisions the tests must observe; tokio-tungstenite
//! is already a dependency for Slack.

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
}
