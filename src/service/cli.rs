//! `zeroclaw service install|uninstall|status`.

use super::advice;
use super::files::{self, InstallOutcome, State, UninstallOutcome};
use super::layout::{self, Plan};
use super::template::{InitSystem, Scope};
use crate::cli::Global;
use anyhow::Context;
use serde_json::json;
use std::path::PathBuf;

#[derive(Debug, clap::Subcommand)]
pub enum ServiceCommand {
    /// Write the systemd unit or OpenRC script for this binary and config,
    /// then print the commands that enable and start it.
    Install {
        #[command(flatten)]
        target: TargetArgs,
        /// Replace a file that differs from what would be written.
        #[arg(long)]
        force: bool,
        /// Print the file instead of writing it.
        #[arg(long, conflicts_with_all = ["force", "json"])]
        print: bool,
    },
    /// Remove the file `install` wrote (recognised by its marker line).
    Uninstall {
        #[command(flatten)]
        target: TargetArgs,
        /// Also remove a file we did not write, and the links that enable it at boot.
        #[arg(long)]
        force: bool,
    },
    /// Whether the file is installed (exit 0), modified (exit 1) or absent (exit 3).
    Status {
        #[command(flatten)]
        target: TargetArgs,
    },
}

/// Which file, for which binary and config.
#[derive(Debug, clap::Args)]
pub struct TargetArgs {
    /// Init system [default: systemd if it is running, else openrc if
    /// /sbin/openrc-run exists, else systemd].
    #[arg(long, value_enum)]
    init: Option<InitArg>,
    /// A systemd user unit in ~/.config/systemd/user instead of a system service.
    #[arg(long)]
    user: bool,
    /// Prefix every path read or written with DIR (packaging, tests).
    #[arg(long, value_name = "DIR", default_value = "/")]
    root: PathBuf,
    /// The binary the service runs [default: this executable].
    #[arg(long, value_name = "PATH")]
    bin: Option<PathBuf>,
    /// Machine-readable output.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum InitArg {
    Systemd,
    Openrc,
}

pub fn run(global: &Global, command: ServiceCommand) -> anyhow::Result<u8> {
    match command {
        ServiceCommand::Install {
            target,
            force,
            print,
        } => {
            let plan = plan(global, &target)?;
            if print {
                print!("{}", files::rendered(&plan)?);
                return Ok(0);
            }
            install(&plan, force, target.json)
        }
        ServiceCommand::Uninstall { target, force } => {
            let plan = plan(global, &target)?;
            uninstall(&plan, force, target.json)
        }
        ServiceCommand::Status { target } => {
            let plan = plan(global, &target)?;
            status(&plan, target.json)
        }
    }
}

fn plan(global: &Global, args: &TargetArgs) -> anyhow::Result<Plan> {
    let root = std::path::absolute(&args.root)
        .with_context(|| format!("cannot resolve --root {}", args.root.display()))?;
    let scope = if args.user {
        Scope::User
    } else {
        Scope::System
    };
    let init = match args.init {
        Some(InitArg::Systemd) => InitSystem::Systemd,
        Some(InitArg::Openrc) => InitSystem::Openrc,
        None if args.user => InitSystem::Systemd,
        None => layout::detect_init(&root),
    };
    let binary = match &args.bin {
        Some(bin) => std::path::absolute(bin)
            .with_context(|| format!("cannot resolve --bin {}", bin.display()))?,
        None => current_binary()?,
    };
    let config = match &global.config {
        Some(c) => std::path::absolute(c)
            .with_context(|| format!("cannot resolve --config {}", c.display()))?,
        None => layout::default_config(scope),
    };
    let config_home = match dirs::config_dir() {
        Some(d) => d,
        None if args.user => anyhow::bail!(
            "cannot find your config directory for the user unit; set HOME (or XDG_CONFIG_HOME)"
        ),
        None => PathBuf::from("/nonexistent"),
    };
    let user = nix::unistd::User::from_uid(nix::unistd::getuid())
        .ok()
        .flatten()
        .map(|u| u.name)
        .or_else(|| std::env::var("USER").ok());
    Ok(Plan {
        init,
        scope,
        binary,
        config,
        root,
        config_home,
        user,
    })
}

/// This executable, as the kernel knows it (symlinks resolved).
fn current_binary() -> anyhow::Result<PathBuf> {
    let exe = std::env::current_exe().context("cannot find the path of this executable")?;
    if !exe.exists() {
        anyhow::bail!(
            "this executable ({}) was replaced or deleted while running; run the installed \
             binary, or pass --bin PATH",
            exe.display()
        );
    }
    Ok(exe)
}

fn describe(plan: &Plan) -> &'static str {
    match (plan.init, plan.scope) {
        (InitSystem::Systemd, Scope::System) => "systemd system service",
        (InitSystem::Systemd, Scope::User) => "systemd user service",
        (InitSystem::Openrc, _) => "OpenRC service",
    }
}

fn base_json(plan: &Plan, action: &str) -> serde_json::Value {
    json!({
        "action": action,
        "init": plan.init.as_str(),
        "scope": plan.scope.as_str(),
        "path": plan.on_disk(),
        "binary": plan.binary,
        "config": plan.config,
    })
}

fn install(plan: &Plan, force: bool, json_out: bool) -> anyhow::Result<u8> {
    let warnings = advice::warnings(plan);
    let outcome = files::install(plan, force)?;
    let next = advice::after_install(plan);
    if json_out {
        let mut v = base_json(plan, "install");
        v["result"] = json!(outcome.as_str());
        v["warnings"] = json!(warnings);
        v["next"] = json!(next);
        println!("{v}");
        return Ok(0);
    }
    let path = plan.on_disk();
    match outcome {
        InstallOutcome::Unchanged => {
            println!(
                "zeroclaw is already installed: {} is up to date",
                path.display()
            );
        }
        InstallOutcome::Written | InstallOutcome::Replaced => {
            let verb = if outcome == InstallOutcome::Written {
                "wrote"
            } else {
                "replaced"
            };
            println!("{verb} {} ({})", path.display(), describe(plan));
        }
    }
    println!(
        "  runs: {} daemon --config {}",
        plan.binary.display(),
        plan.config.display()
    );
    for w in &warnings {
        eprintln!("warning: {w}");
    }
    println!("next:");
    for n in &next {
        println!("  {n}");
    }
    Ok(0)
}

fn uninstall(plan: &Plan, force: bool, json_out: bool) -> anyhow::Result<u8> {
    let outcome = files::uninstall(plan, force)?;
    let next = match outcome {
        UninstallOutcome::Removed { .. } => advice::after_uninstall(plan),
        UninstallOutcome::NotInstalled => Vec::new(),
    };
    if json_out {
        let mut v = base_json(plan, "uninstall");
        match &outcome {
            UninstallOutcome::Removed { modified, links } => {
                v["result"] = json!("removed");
                v["modified"] = json!(modified);
                v["links_removed"] = json!(links);
            }
            UninstallOutcome::NotInstalled => v["result"] = json!("not-installed"),
        }
        v["next"] = json!(next);
        println!("{v}");
        return Ok(0);
    }
    let path = plan.on_disk();
    match &outcome {
        UninstallOutcome::NotInstalled => {
            println!("zeroclaw is not installed: no {}", path.display());
        }
        UninstallOutcome::Removed { modified, links } => {
            for l in links {
                println!("removed {}", l.display());
            }
            let note = if *modified {
                " (it had changed since install)"
            } else {
                ""
            };
            println!("removed {}{note}", path.display());
        }
    }
    if !next.is_empty() {
        println!("next:");
        for n in &next {
            println!("  {n}");
        }
    }
    Ok(0)
}

fn status(plan: &Plan, json_out: bool) -> anyhow::Result<u8> {
    let state = files::status(plan)?;
    let code = match state {
        State::Installed => 0,
        State::Modified(_) => 1,
        State::Absent => 3,
    };
    if json_out {
        let mut v = base_json(plan, "status");
        v["state"] = json!(state.as_str());
        v["detail"] = json!(state.why());
        println!("{v}");
        return Ok(code);
    }
    let path = plan.on_disk();
    match state {
        State::Installed => println!("installed: {} ({})", path.display(), describe(plan)),
        State::Absent => println!("absent: no {}", path.display()),
        State::Modified(_) => println!(
            "modified: {} is {}; `zeroclaw service install --print` shows what install would write",
            path.display(),
            state.why().unwrap_or("different")
        ),
    }
    Ok(code)
}
