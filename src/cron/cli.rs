//! `zeroclaw cron ...`.

use crate::cli::Global;

#[derive(Debug, clap::Subcommand)]
pub enum CronCommand {
    /// Every job: id, name, schedule, timezone, enabled, next run, last result.
    List {
        #[arg(long)]
        json: bool,
    },
}

pub fn run(global: &Global, command: CronCommand) -> anyhow::Result<u8> {
    let _ = (global, command);
    anyhow::bail!("not implemented yet")
}
