//! `zeroclaw auth ...`.

use crate::cli::Global;

#[derive(Debug, clap::Subcommand)]
pub enum AuthCommand {
    /// Which credentials are configured and where they come from.
    Status {
        #[arg(long)]
        json: bool,
        /// Make one cheap authenticated call per provider and channel.
        #[arg(long)]
        check: bool,
    },
}

pub fn run(global: &Global, command: AuthCommand) -> anyhow::Result<u8> {
    let _ = (global, command);
    anyhow::bail!("not implemented yet")
}
