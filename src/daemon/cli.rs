//! `zeroclaw daemon`, `gateway`, `status`, `restart`, `reload`, `stop`, `doctor`.

use crate::cli::Global;
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
pub struct DaemonArgs {
    /// Working directory of the daemon and its tools (created if missing).
    #[arg(long)]
    pub workdir: Option<PathBuf>,
    /// Log level or tracing directives; beats RUST_LOG and [logging] level.
    #[arg(long)]
    pub log_level: Option<String>,
    /// Log file; beats [logging] file.
    #[arg(long)]
    pub log_file: Option<PathBuf>,
    /// Detach; returns once the daemon answers on its control socket.
    #[arg(long)]
    pub background: bool,
    /// Pid file, locked for the daemon's whole life.
    #[arg(long)]
    pub pid_file: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
pub struct GatewayArgs {
    #[arg(long)]
    pub host: Option<String>,
    /// 0 = any free port; the bound URL is printed on stdout.
    #[arg(long)]
    pub port: Option<u16>,
    #[command(flatten)]
    pub daemon: DaemonArgs,
}

pub fn run_daemon(_: &Global, _: DaemonArgs) -> anyhow::Result<u8> {
    anyhow::bail!("not implemented yet")
}
pub fn run_gateway(_: &Global, _: GatewayArgs) -> anyhow::Result<u8> {
    anyhow::bail!("not implemented yet")
}
pub fn status(_: &Global, _: bool) -> anyhow::Result<u8> {
    anyhow::bail!("not implemented yet")
}
pub fn restart(_: &Global, _: &str, _: bool) -> anyhow::Result<u8> {
    anyhow::bail!("not implemented yet")
}
pub fn reload(_: &Global, _: bool) -> anyhow::Result<u8> {
    anyhow::bail!("not implemented yet")
}
pub fn stop(_: &Global, _: bool) -> anyhow::Result<u8> {
    anyhow::bail!("not implemented yet")
}
pub fn doctor(_: &Global, _: bool) -> anyhow::Result<u8> {
    anyhow::bail!("not implemented yet")
}
