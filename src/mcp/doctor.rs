//! `doctor`'s check of each MCP server: it starts (or is reached), answers
//! `initialize` and lists its tools, as its child would.

use crate::config::Config;
use std::path::Path;
use std::sync::Arc;

/// One server's result: `(server, Ok(detail) | Err(what went wrong))`.
pub async fn run(config: &Config, daemon_workdir: &Path) -> Vec<(String, Result<String, String>)> {
    let mut out = Vec::new();
    for (name, server) in &config.mcp.servers {
        let workdir = server
            .workdir
            .clone()
            .unwrap_or_else(|| daemon_workdir.to_path_buf());
        let result = match super::session::open(name, server, &workdir, Arc::new(|| {})).await {
            Ok(opened) => {
                let names: Vec<&str> = opened.tools.iter().map(|t| t.exposed.as_str()).collect();
                let detail = format!(
                    "{}; {} tools offered{}",
                    opened.transport,
                    names.len(),
                    if names.is_empty() {
                        " (list them in `tools`)".to_string()
                    } else {
                        format!(": {}", names.join(", "))
                    }
                );
                // Ends the session; dropping the process kills a stdio server.
                let mut service = opened.service;
                let _ = service.close().await;
                drop(opened.process);
                Ok(detail)
            }
            Err(e) => Err(e),
        };
        out.push((name.clone(), result));
    }
    out
}
