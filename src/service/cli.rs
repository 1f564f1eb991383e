//! `zeroclaw service ...`.

use crate::cli::Global;

#[derive(Debug, clap::Subcommand)]
pub enum ServiceCommand {
    /// Write the systemd unit or OpenRC script for this binary and config.
    Install,
}

pub fn run(global: &Global, command: ServiceCommand) -> anyhow::Result<u8> {
    let _ = (global, command);
    anyhow::bail!("not implemented yet")
}
