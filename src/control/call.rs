//! The requests of the control protocol, typed: the CLI builds a [`Call`],
//! the daemon decodes the wire's `method` and `params` into one. The wire
//! form is serde's adjacently tagged enum, which is exactly
//! docs/control-protocol.md's `{"method": .., "params": {..}}`.

use super::protocol::ControlError;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One request, without its `id` (`version` is answered by the server itself).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "method", content = "params")]
pub enum Call {
    #[serde(rename = "status")]
    Status {},
    #[serde(rename = "restart")]
    Restart { child: String },
    #[serde(rename = "reload")]
    Reload {},
    #[serde(rename = "shutdown")]
    Shutdown {},
    #[serde(rename = "channel.list")]
    ChannelList {},
    #[serde(rename = "channel.doctor")]
    ChannelDoctor {},
    /// `name` is a job's name or id everywhere.
    #[serde(rename = "cron.list")]
    CronList {},
    /// Without a name: every job, as `cron.list`.
    #[serde(rename = "cron.status")]
    CronStatus {
        #[serde(default)]
        name: Option<String>,
    },
    #[serde(rename = "cron.enable")]
    CronEnable { name: String },
    #[serde(rename = "cron.disable")]
    CronDisable { name: String },
    /// With `detach`, the reply comes once the run is recorded `running`.
    #[serde(rename = "cron.run")]
    CronRun {
        name: String,
        #[serde(default)]
        detach: bool,
    },
    /// `id` or `name` (not both) filters; newest first, `limit` rows.
    #[serde(rename = "cron.runs")]
    CronRuns {
        #[serde(default)]
        id: Option<String>,
        #[serde(default)]
        name: Option<String>,
        #[serde(default)]
        limit: Option<u64>,
    },
    /// Every configured MCP server, its state and the tools it offers now.
    #[serde(rename = "mcp.list")]
    McpList {},
    /// Call `tool` (the server's own name) of MCP server `server`.
    #[serde(rename = "mcp.call")]
    McpCall {
        server: String,
        tool: String,
        #[serde(default)]
        arguments: Value,
    },
    /// A runtime job (exactly one of `schedule`, `at`, `every`).
    #[serde(rename = "cron.add")]
    CronAdd(crate::cron::NewJob),
    /// A runtime job, by name or id.
    #[serde(rename = "cron.remove")]
    CronRemove { name: String },
    #[serde(rename = "memory.list")]
    MemoryList {},
    #[serde(rename = "memory.show")]
    MemoryShow { session: String },
    #[serde(rename = "memory.clear")]
    MemoryClear { session: String },
}

/// Every method [`Call`] knows, as the wire spells it.
pub const METHODS: &[&str] = &[
    "status",
    "restart",
    "reload",
    "shutdown",
    "channel.list",
    "channel.doctor",
    "cron.list",
    "cron.status",
    "cron.enable",
    "cron.disable",
    "cron.run",
    "cron.runs",
    "mcp.list",
    "mcp.call",
    "cron.add",
    "cron.remove",
    "memory.list",
    "memory.show",
    "memory.clear",
];

impl Call {
    /// Decode a request's `method` and `params` (omitted or `null` = `{}`).
    pub fn from_wire(method: &str, params: Value) -> Result<Self, ControlError> {
        if !METHODS.contains(&method) {
            return Err(ControlError::new(
                "unknown_method",
                format!("unknown method `{method}`; see docs/control-protocol.md"),
            ));
        }
        let params = match params {
            Value::Null => Value::Object(Default::default()),
            other => other,
        };
        let wire = serde_json::json!({ "method": method, "params": params });
        serde_json::from_value(wire).map_err(|e| {
            ControlError::bad_request(format!(
                "bad params for `{method}`: {e}; see docs/control-protocol.md"
            ))
        })
    }

    /// The method as the wire spells it.
    pub fn method(&self) -> &'static str {
        match self {
            Self::Status {} => "status",
            Self::Restart { .. } => "restart",
            Self::Reload {} => "reload",
            Self::Shutdown {} => "shutdown",
            Self::ChannelList {} => "channel.list",
            Self::ChannelDoctor {} => "channel.doctor",
            Self::CronList {} => "cron.list",
            Self::CronStatus { .. } => "cron.status",
            Self::CronEnable { .. } => "cron.enable",
            Self::CronDisable { .. } => "cron.disable",
            Self::CronRun { .. } => "cron.run",
            Self::CronRuns { .. } => "cron.runs",
            Self::McpList {} => "mcp.list",
            Self::McpCall { .. } => "mcp.call",
            Self::CronAdd(_) => "cron.add",
            Self::CronRemove { .. } => "cron.remove",
            Self::MemoryList {} => "memory.list",
            Self::MemoryShow { .. } => "memory.show",
            Self::MemoryClear { .. } => "memory.clear",
        }
    }

    /// The request line's `params` object.
    pub fn params(&self) -> Value {
        match serde_json::to_value(self) {
            Ok(Value::Object(mut wire)) => wire.remove("params").unwrap_or(Value::Null),
            _ => Value::Null,
        }
    }

    /// Whether this is one of cron's requests (served by cron's handler).
    pub fn is_cron(&self) -> bool {
        self.method().starts_with("cron.")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_method_round_trips_through_the_wire() {
        let calls = [
            Call::Status {},
            Call::Restart {
                child: "channel:telegram".into(),
            },
            Call::Reload {},
            Call::Shutdown {},
            Call::ChannelList {},
            Call::ChannelDoctor {},
            Call::CronList {},
            Call::CronStatus { name: None },
            Call::CronEnable { name: "x".into() },
            Call::CronDisable { name: "x".into() },
            Call::CronRun {
                name: "x".into(),
                detach: true,
            },
            Call::CronRuns {
                id: None,
                name: Some("x".into()),
                limit: Some(5),
            },
            Call::McpList {},
            Call::McpCall {
                server: "everything".into(),
                tool: "echo".into(),
                arguments: json!({"message": "hi"}),
            },
            Call::CronAdd(crate::cron::NewJob {
                name: "提醒".into(),
                at: Some("20m".into()),
                message: "back up".into(),
                ..Default::default()
            }),
            Call::CronRemove { name: "x".into() },
            Call::MemoryList {},
            Call::MemoryShow {
                session: "telegram:1".into(),
            },
            Call::MemoryClear {
                session: "telegram:1".into(),
            },
        ];
        assert_eq!(calls.len(), METHODS.len());
        for call in calls {
            let back = Call::from_wire(call.method(), call.params()).unwrap();
            assert_eq!(back, call);
        }
    }

    #[test]
    fn the_wire_form_is_the_documented_one() {
        let restart = Call::Restart {
            child: "gateway".into(),
        };
        assert_eq!(
            serde_json::to_value(&restart).unwrap(),
            json!({"method": "restart", "params": {"child": "gateway"}})
        );
        assert_eq!(Call::Status {}.params(), json!({}));
        assert_eq!(
            Call::from_wire("status", Value::Null).unwrap(),
            Call::Status {}
        );
    }

    #[test]
    fn bad_requests_say_what_is_wrong() {
        let e = Call::from_wire("nope", json!({})).unwrap_err();
        assert_eq!(e.code, "unknown_method");
        let e = Call::from_wire("restart", json!({})).unwrap_err();
        assert_eq!(e.code, "bad_request");
        assert!(e.message.contains("child"), "{}", e.message);
        let e = Call::from_wire("cron.status", json!({"name": 3})).unwrap_err();
        assert_eq!(e.code, "bad_request");
    }
}
