//! `[mcp.servers.<name>]`: a usable transport, a name usable in tool names,
//! and `tools` entries naming servers and tools that exist.

use super::{Findings, p};
use crate::config::schema::Config;
use crate::mcp::names;

/// Headers the MCP transport sets itself; the SDK refuses them as custom ones.
const RESERVED_HEADERS: &[&str] = &["accept", "mcp-session-id", "last-event-id"];

/// The longest `start_timeout`: the supervisor gives a start 30 s.
const MAX_START: std::time::Duration = std::time::Duration::from_secs(25);

pub(super) fn servers(config: &Config, f: &mut Findings) {
    for (name, s) in &config.mcp.servers {
        let at = |key: &str| p(&["mcp", "servers", name, key]);
        if !names::valid_server_name(name) {
            f.error(
                p(&["mcp", "servers", name]),
                format!(
                    "MCP server name `{name}` cannot be part of a tool name: use letters, digits, \
                     `-` and `_` only, and no `__`"
                ),
            );
        }
        match (&s.command, &s.url) {
            (Some(_), Some(_)) => f.error(
                at("url"),
                "set either `command` (stdio) or `url` (Streamable HTTP), not both",
            ),
            (None, None) => f.error(
                p(&["mcp", "servers", name]),
                "set `command` (a program speaking MCP on stdio) or `url` (a Streamable HTTP endpoint)",
            ),
            (Some(c), None) if c.trim().is_empty() => f.error(at("command"), "`command` is empty"),
            (None, Some(u)) if !(u.starts_with("http://") || u.starts_with("https://")) => {
                f.error(at("url"), format!("`{u}` is not an http:// or https:// URL"))
            }
            _ => {}
        }
        if s.command.is_none() && (!s.args.is_empty() || !s.env.is_empty()) {
            f.error(
                at("args"),
                "`args` and `env` are for a stdio server (`command`)",
            );
        }
        if s.url.is_none() && !s.headers.is_empty() {
            f.error(at("headers"), "`headers` are for an HTTP server (`url`)");
        }
        for header in s.headers.keys() {
            if RESERVED_HEADERS.contains(&header.to_ascii_lowercase().as_str()) {
                f.error(
                    at("headers"),
                    format!("header `{header}` is set by the MCP transport itself; remove it"),
                );
            }
        }
        for (key, value) in s.headers.iter().chain(&s.env) {
            if value.expose().contains("${") {
                f.error(
                    at(if s.headers.contains_key(key) {
                        "headers"
                    } else {
                        "env"
                    }),
                    format!(
                        "`{key}`: `${{VAR}}` is read from the environment only when it is the \
                         whole value; put the whole value in the variable (e.g. \
                         `{key} = \"${{MY_{key}}}\"` with MY_{key}=\"Bearer ...\")"
                    ),
                );
            }
        }
        if s.start_timeout > MAX_START || s.start_timeout.is_zero() {
            f.error(
                at("start_timeout"),
                "start_timeout must be between 1ms and 25s (the supervisor allows a start 30s)",
            );
        }
        if s.timeout.is_zero() {
            f.error(at("timeout"), "timeout must be longer than 0s");
        }
        if s.tools.is_empty() {
            f.warn(
                at("tools"),
                format!(
                    "MCP server `{name}` offers no tool: list the ones the model may call in \
                     `tools` (`[\"*\"]` for all)"
                ),
            );
        }
    }
}

/// Why a `tools` entry naming an MCP server or tool is wrong, if it is one.
pub(super) fn tool_entry(config: &Config, entry: &str) -> Option<Option<String>> {
    names::reference(entry)?;
    Some(names::problem(config, entry))
}
