//! Tools the model may call. Which ones are offered is decided per request
//! (`tools = ["shell"]` on a cron job or channel); none by default.

pub mod doctor;
pub mod reaper;
pub mod sandbox;
pub mod schedule;
pub mod shell;
pub mod web_fetch;
pub mod web_search;

use crate::agent::http::ClientError;
use crate::agent::message::ToolSpec;
use crate::config::ToolsConfig;
use serde_json::Value;
use shell::ShellTool;
use std::path::Path;
use web_fetch::WebFetchTool;
use web_search::WebSearchTool;

/// Names accepted in `tools = [...]`.
pub const KNOWN: &[&str] = &["shell", "web_fetch", "web_search", "schedule"];

/// What a tool call produced, fed back to the model as a tool result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToolOutput {
    pub content: String,
    /// Refused, failed or non-zero exit: tells the model, not the user.
    pub is_error: bool,
}

impl ToolOutput {
    pub fn error(content: impl Into<String>) -> Self {
        Self {
            content: content.into(),
            is_error: true,
        }
    }
}

/// Every tool, configured.
#[derive(Debug, Clone)]
pub struct Toolbox {
    shell: ShellTool,
    web_fetch: WebFetchTool,
    web_search: WebSearchTool,
}

impl Toolbox {
    pub fn new(config: &ToolsConfig, workdir: &Path) -> Result<Self, ClientError> {
        Ok(Self {
            shell: ShellTool::new(&config.shell, workdir),
            web_fetch: WebFetchTool::new(&config.web_fetch)?,
            web_search: WebSearchTool::new(&config.web_search)?,
        })
    }

    /// The spec of a tool, `None` for an unknown name.
    pub fn spec(&self, name: &str) -> Option<ToolSpec> {
        match name {
            "shell" => Some(self.shell.spec()),
            "web_fetch" => Some(self.web_fetch.spec()),
            "web_search" => Some(self.web_search.spec()),
            _ => None,
        }
    }

    /// Run a tool the model asked for; an unknown or unoffered tool is an
    /// error result for the model, not a failure of the request.
    pub async fn call(&self, name: &str, offered: &[ToolSpec], input: &Value) -> ToolOutput {
        if !offered.iter().any(|t| t.name == name) {
            return ToolOutput::error(format!("tool `{name}` is not available here"));
        }
        let mut output = match name {
            "shell" => self.shell.call(input).await,
            "web_fetch" => self.web_fetch.call(input).await,
            "web_search" => self.web_search.call(input).await,
            other => ToolOutput::error(format!("tool `{other}` is not available here")),
        };
        // The model reads untrusted text and may repeat anything it is
        // handed: no secret of the daemon reaches it.
        output.content = crate::secrets::redact_string(output.content);
        output
    }
}
