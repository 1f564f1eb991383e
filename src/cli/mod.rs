//! The command line: clap definitions and dispatch. Each component owns the
//! subcommands it serves (`config::cli`, `cron::cli`, ...); this file only
//! wires them up. `anyhow` lives here and no deeper.

pub mod table;

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

/// Options every subcommand understands.
#[derive(Debug, Clone, clap::Args)]
pub struct Global {
    /// Config file (default ~/.zeroclaw/config.toml). Clients find the daemon's
    /// control socket through it, so two configs mean two independent daemons.
    #[arg(long, short = 'c', global = true, env = "ZEROCLAW_CONFIG")]
    pub config: Option<PathBuf>,
}

/// zeroclaw: an AI-assistant daemon for Telegram, Discord, Slack, webhooks and cron.
#[derive(Debug, Parser)]
#[command(name = "zeroclaw", version, about, long_about = None)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the daemon (foreground unless --background).
    Daemon(crate::daemon::cli::DaemonArgs),
    /// Run only the HTTP gateway (with logger and control socket).
    Gateway(crate::daemon::cli::GatewayArgs),
    /// Show the running daemon and its supervision tree (exit 3 if not running).
    Status {
        #[arg(long)]
        json: bool,
    },
    /// Restart one child of the running daemon, e.g. `channel:telegram`.
    Restart {
        child: String,
        #[arg(long)]
        json: bool,
    },
    /// Re-read the config and apply the difference (like SIGHUP).
    Reload {
        #[arg(long)]
        json: bool,
    },
    /// Stop the running daemon gracefully and wait until it is gone.
    Stop {
        #[arg(long)]
        json: bool,
    },
    /// Check config, directories, socket, port and credentials.
    Doctor {
        #[arg(long)]
        json: bool,
    },
    /// Inspect and create the config file.
    #[command(subcommand)]
    Config(crate::config::cli::ConfigCommand),
    /// Scheduled jobs.
    #[command(subcommand)]
    Cron(crate::cron::cli::CronCommand),
    /// Conversation memory per session.
    #[command(subcommand)]
    Memory(crate::agent::memory_cli::MemoryCommand),
    /// Several instances on one PostgreSQL database (`[cluster]`).
    #[command(subcommand)]
    Cluster(crate::cluster::cli::ClusterCommand),
    /// Chat channels.
    #[command(subcommand)]
    Channel(crate::channels::cli::ChannelCommand),
    /// Model Context Protocol servers: their state and tools.
    #[command(subcommand)]
    Mcp(crate::mcp::cli::McpCommand),
    /// Credentials of providers and channels.
    #[command(subcommand)]
    Auth(crate::agent::cli::AuthCommand),
    /// Install the systemd unit or OpenRC script.
    #[command(subcommand)]
    Service(crate::service::cli::ServiceCommand),
    /// Print shell completions.
    Completions { shell: clap_complete::Shell },
    /// Print the man page (roff).
    Man,
}

/// Parse, dispatch, and turn errors into a message and an exit code.
pub fn main() -> ExitCode {
    crate::secrets::mask_panics();
    let cli = Cli::parse();
    match dispatch(cli) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("error: {}", crate::secrets::redact(&format!("{e:#}")));
            ExitCode::from(1)
        }
    }
}

fn dispatch(cli: Cli) -> anyhow::Result<u8> {
    let g = &cli.global;
    match cli.command {
        Command::Daemon(args) => crate::daemon::cli::run_daemon(g, args),
        Command::Gateway(args) => crate::daemon::cli::run_gateway(g, args),
        Command::Status { json } => crate::daemon::cli::status(g, json),
        Command::Restart { child, json } => crate::daemon::cli::restart(g, &child, json),
        Command::Reload { json } => crate::daemon::cli::reload(g, json),
        Command::Stop { json } => crate::daemon::cli::stop(g, json),
        Command::Doctor { json } => crate::daemon::cli::doctor(g, json),
        Command::Config(c) => crate::config::cli::run(g, c),
        Command::Cron(c) => crate::cron::cli::run(g, c),
        Command::Channel(c) => crate::channels::cli::run(g, c),
        Command::Mcp(c) => crate::mcp::cli::run(g, c),
        Command::Cluster(c) => crate::cluster::cli::run(g, c),
        Command::Memory(c) => crate::agent::memory_cli::run(g, c),
        Command::Auth(c) => crate::agent::cli::run(g, c),
        Command::Service(c) => crate::service::cli::run(g, c),
        Command::Completions { shell } => {
            use clap::CommandFactory;
            clap_complete::generate(
                shell,
                &mut Cli::command(),
                "zeroclaw",
                &mut std::io::stdout(),
            );
            Ok(0)
        }
        Command::Man => {
            use clap::CommandFactory;
            clap_mangen::Man::new(Cli::command()).render(&mut std::io::stdout())?;
            Ok(0)
        }
    }
}
