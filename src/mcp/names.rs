//! How a server's tools are named to the model and in `tools = [...]`:
//! `<server>__<tool>` for one tool, `mcp:<server>` for all of a server's
//! allowed tools (docs/configuration.md, "MCP servers").

use crate::config::Config;

/// Longest tool name the providers accept.
pub const MAX_NAME: usize = 64;
/// Between the server's name and its tool's in an exposed name.
pub const SEPARATOR: &str = "__";
/// Prefix of a `tools` entry naming every allowed tool of a server.
pub const SERVER_PREFIX: &str = "mcp:";

/// The name the model sees for `tool` of `server`: characters outside
/// `A-Za-z0-9_-` become `_`, cut to [`MAX_NAME`].
pub fn exposed(server: &str, tool: &str) -> String {
    let mut name: String = format!("{server}{SEPARATOR}{tool}")
        .chars()
        .map(|c| match c {
            'A'..='Z' | 'a'..='z' | '0'..='9' | '_' | '-' => c,
            _ => '_',
        })
        .collect();
    name.truncate(MAX_NAME);
    name
}

/// What a `tools` entry names, if it names an MCP server or one of its tools.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reference<'a> {
    /// `mcp:<server>`.
    Server(&'a str),
    /// `<server>__<tool>` (the tool part as exposed).
    Tool(&'a str, &'a str),
}

/// Parse a `tools` entry; `None` for a built-in tool's name.
pub fn reference(entry: &str) -> Option<Reference<'_>> {
    if let Some(server) = entry.strip_prefix(SERVER_PREFIX) {
        return Some(Reference::Server(server));
    }
    let (server, tool) = entry.split_once(SEPARATOR)?;
    Some(Reference::Tool(server, tool))
}

/// A server name usable in tool names: non-empty, `A-Za-z0-9_-` only, no `__`.
pub fn valid_server_name(name: &str) -> bool {
    !name.is_empty()
        && !name.contains(SEPARATOR)
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// Why a `tools` entry naming an MCP server or tool cannot be offered under
/// `config`, as far as the config can tell (a server allowing `*` may have
/// any tool); `None` when it can, or when it is no MCP entry.
pub fn problem(config: &Config, entry: &str) -> Option<String> {
    let servers = &config.mcp.servers;
    let configured = || {
        let names: Vec<&str> = servers.keys().map(String::as_str).collect();
        match names.is_empty() {
            true => "no [mcp.servers.<name>] is configured".to_string(),
            false => format!("configured servers: {}", names.join(", ")),
        }
    };
    match reference(entry)? {
        Reference::Server(server) => match servers.get(server) {
            None => Some(format!("unknown MCP server `{server}` ({})", configured())),
            Some(_) => None,
        },
        Reference::Tool(server, _) => {
            let Some(s) = servers.get(server) else {
                return Some(format!(
                    "unknown MCP server `{server}` in `{entry}` ({})",
                    configured()
                ));
            };
            if s.tools
                .iter()
                .any(|t| t == "*" || exposed(server, t) == entry)
            {
                return None;
            }
            Some(format!(
                "MCP server `{server}` does not allow `{entry}`: add the tool to its `tools` \
                 (now {}) or use `mcp:{server}` for every tool it allows",
                match s.tools.is_empty() {
                    true => "empty, so none is offered".to_string(),
                    false => format!("[{}]", s.tools.join(", ")),
                }
            ))
        }
    }
}

/// Whether `entry` names a configured MCP server or one of its allowed tools.
pub fn configured(config: &Config, entry: &str) -> bool {
    reference(entry).is_some() && problem(config, entry).is_none()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exposed_names_are_what_providers_accept() {
        assert_eq!(exposed("everything", "get-sum"), "everything__get-sum");
        assert_eq!(exposed("fs", "read.file/v2"), "fs__read_file_v2");
        let long = exposed("s", &"x".repeat(100));
        assert_eq!(long.len(), MAX_NAME);
        assert_eq!(exposed("s", "é"), "s___");
    }

    #[test]
    fn entries_name_a_server_a_tool_or_a_builtin() {
        assert_eq!(
            reference("mcp:everything"),
            Some(Reference::Server("everything"))
        );
        assert_eq!(
            reference("everything__get-sum"),
            Some(Reference::Tool("everything", "get-sum"))
        );
        assert_eq!(reference("web_fetch"), None);
        assert!(valid_server_name("my-server_2"));
        assert!(!valid_server_name("a__b"));
        assert!(!valid_server_name("a.b"));
        assert!(!valid_server_name(""));
    }
}
