//! `zeroclaw channel ...`.

use crate::cli::Global;

#[derive(Debug, clap::Subcommand)]
pub enum ChannelCommand {
    /// Configured channels, with state from the running daemon.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Probe each channel's credentials and webhook.
    Doctor {
        #[arg(long)]
        json: bool,
    },
    /// Allow a Telegram user id (edits the config file, keeps comments).
    BindTelegram { user_id: String },
}

pub fn run(global: &Global, command: ChannelCommand) -> anyhow::Result<u8> {
    let _ = (global, command);
    anyhow::bail!("not implemented yet")
}
