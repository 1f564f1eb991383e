//! `schedule`, `list_scheduled` and `cancel_scheduled`: reminders a chat
//! makes for itself, delivered back to it. Offered together when a channel
//! names `"schedule"` in its `tools`.
//!
//! The agent knows nothing of cron: it is handed a [`Scheduler`] (cron's
//! runtime jobs implement it) and the chat the conversation belongs to. A
//! chat sees and cancels only its own jobs; the limits are cron's.

use crate::agent::message::ToolSpec;
use crate::agent::tools::ToolOutput;
use futures_util::future::BoxFuture;
use serde::Deserialize;
use serde_json::{Value, json};

/// The name in `tools = [...]` that offers the three tools.
pub const SCHEDULE: &str = "schedule";
pub const LIST: &str = "list_scheduled";
pub const CANCEL: &str = "cancel_scheduled";

/// A reminder asked for by the model: exactly one of `at`, `cron`, `every`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Reminder {
    pub message: String,
    #[serde(default)]
    pub at: Option<String>,
    #[serde(default)]
    pub cron: Option<String>,
    #[serde(default)]
    pub every: Option<String>,
    #[serde(default)]
    pub timezone: Option<String>,
}

/// What the tools do, for one chat (`telegram:<chat id>`); the error is a
/// sentence for the model.
pub trait Scheduler: Send + Sync {
    fn schedule(&self, chat: String, reminder: Reminder) -> BoxFuture<'_, Result<Value, String>>;
    fn list(&self, chat: String) -> BoxFuture<'_, Result<Value, String>>;
    fn cancel(&self, chat: String, id: String) -> BoxFuture<'_, Result<Value, String>>;
}

/// Whether `name` is one of the three tools.
pub fn is_schedule_tool(name: &str) -> bool {
    [SCHEDULE, LIST, CANCEL].contains(&name)
}

/// The three specs, offered for `"schedule"`.
pub fn specs() -> Vec<ToolSpec> {
    vec![
        ToolSpec {
            name: SCHEDULE.into(),
            description: "Schedule a reminder for this chat. The message is the prompt you \
                          will be given at that time; your answer then is sent to this chat. \
                          Give exactly one of `at` (RFC 3339 time with offset, or a duration \
                          from now such as \"20m\"), `cron` (5-field cron expression) or \
                          `every` (interval such as \"1h\", at least 1 minute)."
                .into(),
            schema: json!({
                "type": "object",
                "properties": {
                    "message": {"type": "string"},
                    "at": {"type": "string"},
                    "cron": {"type": "string"},
                    "every": {"type": "string"},
                    "timezone": {"type": "string", "description": "IANA zone; default the assistant's"}
                },
                "required": ["message"]
            }),
        },
        ToolSpec {
            name: LIST.into(),
            description: "List the reminders scheduled from this chat.".into(),
            schema: json!({"type": "object", "properties": {}}),
        },
        ToolSpec {
            name: CANCEL.into(),
            description: "Cancel a reminder of this chat by its id (from list_scheduled).".into(),
            schema: json!({
                "type": "object",
                "properties": {"id": {"type": "string"}},
                "required": ["id"]
            }),
        },
    ]
}

/// The chat a session delivers to, or why reminders cannot be made there.
fn chat_of(session: &str) -> Result<String, String> {
    match session.split_once(':') {
        Some(("telegram" | "discord" | "slack", id)) if !id.is_empty() => Ok(session.to_string()),
        _ => Err("reminders can be scheduled only from a Telegram, Discord or Slack chat".into()),
    }
}

/// Run one of the three tools for the conversation `session`.
pub async fn call(
    scheduler: Option<&dyn Scheduler>,
    session: &str,
    name: &str,
    input: &Value,
) -> ToolOutput {
    let Some(scheduler) = scheduler else {
        return ToolOutput::error("scheduling is not available in this daemon");
    };
    let chat = match chat_of(session) {
        Ok(c) => c,
        Err(e) => return ToolOutput::error(e),
    };
    let result = match name {
        SCHEDULE => match serde_json::from_value::<Reminder>(input.clone()) {
            Ok(r) => scheduler.schedule(chat, r).await,
            Err(e) => Err(format!(
                "bad arguments: {e}; give `message` and exactly one of `at`, `cron`, `every`"
            )),
        },
        LIST => scheduler.list(chat).await,
        _ => match input["id"].as_str() {
            Some(id) => scheduler.cancel(chat, id.to_string()).await,
            None => Err("bad arguments: give the `id` of the reminder to cancel".into()),
        },
    };
    match result {
        Ok(v) => ToolOutput {
            content: v.to_string(),
            is_error: false,
        },
        Err(e) => ToolOutput::error(e),
    }
}
