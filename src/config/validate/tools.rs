//! Rules of what the agent may use: providers, the tool lists of jobs and
//! channels, and each tool's own table.

use super::{Findings, PROVIDERS, is_set, job_path, p};
use crate::config::document::Seg;
use crate::config::schema::Config;
use crate::config::unknown::closest;

pub(super) fn tools(config: &Config, f: &mut Findings) {
    if config.tools.shell.sandbox == crate::config::schema::ShellSandbox::Off {
        f.warn(
            p(&["tools", "shell", "sandbox"]),
            "sandbox = \"off\": shell commands run without Landlock and can read every file \
             the daemon can (docs/security.md); remove the line where the kernel has Landlock",
        );
    }
}

pub(super) fn provider_name_error(name: &str) -> String {
    let hint = match closest(name, PROVIDERS.iter().copied()) {
        Some(close) => format!("; did you mean `{close}`?"),
        None => String::new(),
    };
    format!(
        "unknown provider `{name}` (one of: {}){hint}",
        PROVIDERS.join(", ")
    )
}

/// A built-in provider, or a `[providers.<name>]` table with a `base_url`
/// (any OpenAI-compatible server: vLLM, llama.cpp, LocalAI, ...).
pub(super) fn provider_known(config: &Config, name: &str) -> bool {
    PROVIDERS.contains(&name)
        || config
            .providers
            .get(name)
            .is_some_and(|e| e.base_url.is_some())
}

pub(super) fn providers(config: &Config, f: &mut Findings) {
    // `[provider] name = "vllm"` with its own base_url is a custom server too.
    if !provider_known(config, &config.provider.name) && config.provider.base_url.is_none() {
        f.error(
            p(&["provider", "name"]),
            provider_name_error(&config.provider.name),
        );
    }
    for name in config.providers.keys() {
        if !provider_known(config, name) {
            f.error(
                p(&["providers", name]),
                format!(
                    "{}; a custom provider needs the `base_url` of its OpenAI-compatible server",
                    provider_name_error(name)
                ),
            );
        }
    }
}

/// The provider answering where `path` (a `tools` list) is: a cron job's own
/// or the default one.
pub(super) fn provider_of<'c>(config: &'c Config, path: &[Seg]) -> &'c str {
    let job = match path {
        [Seg::Key(c), Seg::Key(j), Seg::Index(i), ..] if c == "cron" && j == "jobs" => {
            config.cron.jobs.get(*i)
        }
        _ => None,
    };
    job.and_then(|j| j.provider.as_deref())
        .filter(|p| !p.trim().is_empty())
        .unwrap_or(&config.provider.name)
}

/// Every `tools = [...]` names a tool the agent has, and a tool it names
/// can run as configured.
pub(super) fn tool_lists(config: &Config, f: &mut Findings) {
    let known = crate::agent::tools::KNOWN;
    let ch = &config.channel;
    let mut lists: Vec<(Vec<Seg>, &[String])> = [
        ("telegram", ch.telegram.as_ref().map(|c| &c.tools)),
        ("discord", ch.discord.as_ref().map(|c| &c.tools)),
        ("slack", ch.slack.as_ref().map(|c| &c.tools)),
    ]
    .into_iter()
    .filter_map(|(name, tools)| Some((p(&["channel", name, "tools"]), tools?.as_slice())))
    .collect();
    for (i, job) in config.cron.jobs.iter().enumerate() {
        lists.push((job_path(i, "tools"), &job.tools));
    }
    let search = &config.tools.web_search;
    for (path, tools) in lists {
        for tool in tools {
            if let Some(problem) = super::mcp::tool_entry(config, tool) {
                if let Some(problem) = problem {
                    f.error(path.clone(), problem);
                }
            } else if !known.contains(&tool.as_str()) {
                let hint = match closest(tool, known.iter().copied()) {
                    Some(close) => format!("; did you mean `{close}`?"),
                    None => String::new(),
                };
                f.error(
                    path.clone(),
                    format!("unknown tool `{tool}` (one of: {}){hint}", known.join(", ")),
                );
            } else if tool == "web_search"
                && search.backend == Some(crate::config::schema_web::SearchBackend::Anthropic)
                && provider_of(config, &path) != "anthropic"
            {
                f.error(
                    path.clone(),
                    "web_search with backend = \"anthropic\" runs inside Anthropic's models, \
                     but this provider is not anthropic; use backend \"searxng\" or \"brave\"",
                );
            } else if tool == "web_search" && search.backend.is_none() {
                f.error(
                    path.clone(),
                    "web_search is offered but no search backend is configured; set \
                     [tools.web_search] backend = \"searxng\" (with base_url) or \"brave\" \
                     (with api_key)",
                );
            }
        }
    }
    use crate::config::schema_web::SearchBackend;
    match search.backend {
        Some(SearchBackend::Searxng) if search.base_url.is_none() => f.error(
            p(&["tools", "web_search", "base_url"]),
            "backend = \"searxng\" needs base_url, the instance's address (e.g. \
             \"http://127.0.0.1:8888\")",
        ),
        Some(SearchBackend::Brave) if !is_set(&search.api_key) => f.error(
            p(&["tools", "web_search", "api_key"]),
            "backend = \"brave\" needs api_key (e.g. api_key = \"${BRAVE_API_KEY}\")",
        ),
        _ => {}
    }
    if let Some(url) = &search.base_url
        && reqwest::Url::parse(url).is_err()
    {
        f.error(
            p(&["tools", "web_search", "base_url"]),
            format!("base_url `{url}` is not an absolute URL (e.g. \"http://127.0.0.1:8888\")"),
        );
    }
}
