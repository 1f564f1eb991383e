//! `zeroclaw config ...`.

use crate::cli::Global;

#[derive(Debug, clap::Subcommand)]
pub enum ConfigCommand {
    /// Print the effective config as TOML, secrets as "***".
    Show,
    /// Validate the config: exit 0, or 1 listing every error.
    Check,
    /// Write a commented template (refuses to overwrite).
    Init,
}

pub fn run(global: &Global, command: ConfigCommand) -> anyhow::Result<u8> {
    let _ = (global, command);
    anyhow::bail!("not implemented yet")
}
