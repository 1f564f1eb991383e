//! Tools from Model Context Protocol servers (docs/architecture.md, "MCP
//! servers"): each `[mcp.servers.<name>]` is a child `mcp:<name>` that holds
//! a session with its server through `rmcp`, the official Rust SDK; the
//! agent offers and calls the tools the children publish in the [`McpHub`].

pub mod actor;
pub mod cli;
pub mod content;
pub mod control;
pub mod doctor;
pub mod hub;
pub mod names;
pub mod session;
pub mod stdio;

pub use hub::{McpHub, McpTool};

use crate::component::{ChildName, Component, StatusBoard};
use crate::config::Config;
use actor::{McpActor, McpArgs};
use std::path::PathBuf;
use zeroclaw_actors::{ChildSpec, RestartPolicy};

/// The MCP servers as a component of the tree: one child per server.
pub struct Mcp {
    hub: McpHub,
    status: StatusBoard,
    /// The daemon's workdir: a server's when it sets none.
    workdir: PathBuf,
}

impl Mcp {
    pub fn new(hub: McpHub, status: &StatusBoard, workdir: PathBuf) -> Self {
        Self {
            hub,
            status: status.clone(),
            workdir,
        }
    }
}

impl Component for Mcp {
    fn children(&self, config: &Config) -> Vec<ChildName> {
        config
            .mcp
            .servers
            .keys()
            .map(|n| ChildName::mcp(n))
            .collect()
    }

    fn spec(&self, child: &ChildName, config: &Config, policy: RestartPolicy) -> Option<ChildSpec> {
        let ChildName::Mcp(server) = child else {
            return None;
        };
        let entry = config.mcp.servers.get(server)?.clone();
        let args = McpArgs {
            server: server.clone(),
            workdir: entry
                .workdir
                .clone()
                .unwrap_or_else(|| self.workdir.clone()),
            config: entry,
            hub: self.hub.clone(),
            status: self.status.line(child.clone()),
        };
        Some(ChildSpec::actor(child.to_string(), policy, move || {
            (McpActor, args.clone())
        }))
    }

    /// A server reads its own table only.
    fn restart_needed(&self, child: &ChildName, old: &Config, new: &Config) -> bool {
        let ChildName::Mcp(server) = child else {
            return false;
        };
        old.mcp.servers.get(server) != new.mcp.servers.get(server)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::McpServerConfig;

    #[test]
    fn one_child_per_server_restarted_only_when_its_table_changes() {
        let mcp = Mcp::new(McpHub::default(), &StatusBoard::new(), std::env::temp_dir());
        let mut old = Config::default();
        for name in ["a", "b"] {
            old.mcp.servers.insert(
                name.into(),
                McpServerConfig {
                    command: Some("x".into()),
                    ..Default::default()
                },
            );
        }
        assert_eq!(
            mcp.children(&old),
            vec![ChildName::mcp("a"), ChildName::mcp("b")]
        );
        let mut new = old.clone();
        if let Some(b) = new.mcp.servers.get_mut("b") {
            b.tools = vec!["*".into()];
        }
        assert!(!mcp.restart_needed(&ChildName::mcp("a"), &old, &new));
        assert!(mcp.restart_needed(&ChildName::mcp("b"), &old, &new));
        let spec = mcp.spec(&ChildName::mcp("a"), &new, RestartPolicy::default());
        assert_eq!(spec.map(|s| s.name), Some("mcp:a".to_string()));
        assert!(
            mcp.spec(&ChildName::mcp("gone"), &new, RestartPolicy::default())
                .is_none()
        );
    }
}
