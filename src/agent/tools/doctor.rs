//! `zeroclaw doctor`'s view of the tools: for each tool a job or channel
//! offers, whether it can run as configured (the search backend is asked a
//! real query, so a wrong key or address shows here, not at 9 a.m.).

use super::shell::ShellTool;
use super::web_search::WebSearchTool;
use crate::config::Config;
use std::collections::BTreeSet;
use std::path::Path;

/// One tool's verdict.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToolCheck {
    pub tool: String,
    pub ok: bool,
    pub detail: String,
    pub fix: Option<String>,
}

/// Tools named in any enabled job's or channel's `tools = [...]`.
pub fn offered(config: &Config) -> BTreeSet<String> {
    let ch = &config.channel;
    let channels = [
        ch.telegram.as_ref().map(|c| &c.tools),
        ch.discord.as_ref().map(|c| &c.tools),
        ch.slack.as_ref().map(|c| &c.tools),
    ];
    let jobs = config
        .cron
        .jobs
        .iter()
        .filter(|j| j.enabled)
        .map(|j| &j.tools);
    channels
        .into_iter()
        .flatten()
        .chain(jobs)
        .flatten()
        .cloned()
        .collect()
}

fn verdict(tool: &str, result: Result<String, (String, String)>) -> ToolCheck {
    match result {
        Ok(detail) => ToolCheck {
            tool: tool.into(),
            ok: true,
            detail,
            fix: None,
        },
        Err((detail, fix)) => ToolCheck {
            tool: tool.into(),
            ok: false,
            detail,
            fix: Some(fix),
        },
    }
}

fn shell(config: &Config, workdir: &Path) -> Result<String, (String, String)> {
    let s = &config.tools.shell;
    let dir = s.workdir.clone().unwrap_or_else(|| workdir.to_path_buf());
    if s.allowed_commands.is_empty() {
        return Err((
            "no command is allowed".into(),
            "list programs in [tools.shell] allowed_commands".into(),
        ));
    }
    if !dir.is_dir() {
        return Err((
            format!("the working directory {} does not exist", dir.display()),
            "create it, or set [tools.shell] workdir".into(),
        ));
    }
    let _ = ShellTool::new(s, workdir);
    let (confined, sandbox) = super::sandbox::describe(s.sandbox);
    if !confined && s.sandbox == crate::config::ShellSandbox::Landlock {
        return Err((
            sandbox,
            "run on a kernel with Landlock, or set [tools.shell] sandbox = \"off\" \
             (docs/security.md)"
                .into(),
        ));
    }
    Ok(format!(
        "runs {} in {}; {sandbox}",
        s.allowed_commands.join(", "),
        dir.display()
    ))
}

async fn web_search(config: &Config) -> Result<String, (String, String)> {
    let fix = "check [tools.web_search] (backend, base_url, api_key); docs/configuration.md";
    let tool = WebSearchTool::new(&config.tools.web_search)
        .map_err(|e| (e.to_string(), fix.to_string()))?;
    if let Some(problem) = tool.config_problem() {
        return Err((problem.to_string(), fix.to_string()));
    }
    if tool.runs_at_provider() {
        return Ok(format!(
            "Anthropic runs the searches ({}); web search must be enabled for the API key's organisation",
            super::web_search::ANTHROPIC_TOOL_TYPE
        ));
    }
    match tool.search("zeroclaw", 1).await {
        Ok(hits) => Ok(format!(
            "the backend answered a test query ({} result)",
            hits.len()
        )),
        Err(e) => Err((e, fix.to_string())),
    }
}

/// Every offered tool's check; `workdir` is the daemon's.
pub async fn run(config: &Config, workdir: &Path) -> Vec<ToolCheck> {
    let mut checks = Vec::new();
    for tool in offered(config) {
        let result = match tool.as_str() {
            "shell" => shell(config, workdir),
            "web_fetch" => {
                let f = &config.tools.web_fetch;
                Ok(format!(
                    "public addresses only, plus {} allowed and {} denied host(s); at most {} per page",
                    f.allowed_hosts.len(),
                    f.denied_hosts.len(),
                    f.max_bytes
                ))
            }
            "web_search" => web_search(config).await,
            other => Err((
                format!("unknown tool `{other}`"),
                format!("use one of: {}", super::KNOWN.join(", ")),
            )),
        };
        checks.push(verdict(&tool, result));
    }
    checks
}
