//! `[mcp.servers.<name>]`: Model Context Protocol servers whose tools the
//! agent may offer (docs/configuration.md; confinement: docs/security.md).

use super::schema::ShellSandbox;
use super::types::Secret;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

/// `[mcp]`: every server by the name its child (`mcp:<name>`) and its tools
/// (`<name>__<tool>`) carry.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct McpConfig {
    pub servers: BTreeMap<String, McpServerConfig>,
}

/// One server: either a program spoken to over stdio (`command`) or a
/// Streamable HTTP endpoint (`url`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct McpServerConfig {
    /// The program (stdio transport), found on `PATH` when not a path.
    pub command: Option<String>,
    pub args: Vec<String>,
    /// The server's whole environment besides `PATH`, `LANG`, `TZ`, `LC_*`
    /// and `HOME`: nothing else of the daemon's reaches it.
    pub env: BTreeMap<String, Secret>,
    /// Where the program runs, read-write for it; default the daemon's workdir.
    pub workdir: Option<PathBuf>,
    /// Readable (and executable) besides the system directories: where the
    /// server's own code lives when it is not under `/usr`.
    pub read_paths: Vec<PathBuf>,
    /// Writable besides `workdir`.
    pub write_paths: Vec<PathBuf>,
    /// How a stdio server is confined, as `[tools.shell] sandbox`.
    pub sandbox: ShellSandbox,
    /// The endpoint (Streamable HTTP transport).
    pub url: Option<String>,
    /// Sent with every HTTP request (`Authorization = "Bearer ${TOKEN}"`).
    pub headers: BTreeMap<String, Secret>,
    /// The server's tools that may be offered (`["*"]` for all); none by
    /// default, so adding a server exposes nothing by accident.
    pub tools: Vec<String>,
    /// One tool call; past it the model gets a tool error.
    #[serde(with = "humantime_serde")]
    pub timeout: Duration,
    /// Start to listed tools (process start, `initialize`, `tools/list`);
    /// past it the start has failed and the child backs off.
    #[serde(with = "humantime_serde")]
    pub start_timeout: Duration,
}

impl Default for McpServerConfig {
    fn default() -> Self {
        Self {
            command: None,
            args: Vec::new(),
            env: BTreeMap::new(),
            workdir: None,
            read_paths: Vec::new(),
            write_paths: Vec::new(),
            sandbox: ShellSandbox::default(),
            url: None,
            headers: BTreeMap::new(),
            tools: Vec::new(),
            timeout: Duration::from_secs(60),
            start_timeout: Duration::from_secs(20),
        }
    }
}

impl McpServerConfig {
    /// Whether the server's tool `tool` (its own name) may be offered.
    pub fn allows(&self, tool: &str) -> bool {
        self.tools.iter().any(|t| t == "*" || t == tool)
    }
}
