//! `zeroclaw channel ...`.

use crate::cli::Global;
use crate::config::Config;
use crate::control::call::Call;
use crate::control::client::{self, ClientError};
use crate::control::protocol::{ChildStatus, StatusReply, state_name};
use anyhow::Context;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};

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
    match command {
        ChannelCommand::List { json } => list(global, json),
        ChannelCommand::Doctor { json } => doctor(global, json),
        ChannelCommand::BindTelegram { user_id } => bind_telegram(global, &user_id),
    }
}

fn config_path(global: &Global) -> PathBuf {
    global
        .config
        .clone()
        .unwrap_or_else(crate::config::default_path)
}

fn load(global: &Global) -> anyhow::Result<Config> {
    Ok(crate::config::load(global.config.as_deref())?.config)
}

/// The daemon's children by name, or why there are none.
fn daemon_children(socket: &Path) -> Result<Vec<ChildStatus>, String> {
    match client::call_as::<StatusReply>(socket, &Call::Status {}) {
        Ok(status) => Ok(status.children),
        Err(ClientError::NotRunning(_)) => Err("not running".into()),
        Err(e) => Err(format!("unknown ({e})")),
    }
}

fn list(global: &Global, json_out: bool) -> anyhow::Result<u8> {
    let config = load(global)?;
    let daemon = daemon_children(&config.control_socket());
    let mut out = Vec::new();
    for row in super::configured(&config) {
        let child = daemon
            .as_ref()
            .ok()
            .and_then(|c| c.iter().find(|c| c.snapshot.name == row.name).cloned());
        let (state, restarts) = match (&daemon, &child) {
            (Err(why), _) => (format!("daemon {why}"), Value::Null),
            (Ok(_), Some(c)) => (
                state_name(c.snapshot.state).to_string(),
                Value::from(c.snapshot.restarts),
            ),
            (Ok(_), None) if !row.enabled => ("disabled".to_string(), Value::Null),
            (Ok(_), None) => ("not started".to_string(), Value::Null),
        };
        out.push(json!({
            "name": row.name,
            "enabled": row.enabled,
            "mode": row.mode,
            "state": state,
            "restarts": restarts,
            "detail": child.and_then(|c| {
                c.detail
                    .or_else(|| c.snapshot.last_exit.map(|e| e.message))
            }),
        }));
    }
    if json_out {
        println!(
            "{}",
            serde_json::to_string_pretty(&json!({ "channels": out }))?
        );
        return Ok(0);
    }
    if out.is_empty() {
        println!(
            "no channels configured (add [channel.telegram], [channel.discord] or [channel.slack])"
        );
        return Ok(0);
    }
    println!(
        "{:<18} {:<8} {:<8} {:<22} {:<8} DETAIL",
        "NAME", "ENABLED", "MODE", "STATE", "RESTARTS"
    );
    for c in &out {
        println!(
            "{:<18} {:<8} {:<8} {:<22} {:<8} {}",
            c["name"].as_str().unwrap_or_default(),
            if c["enabled"] == true { "yes" } else { "no" },
            c["mode"].as_str().unwrap_or_default(),
            c["state"].as_str().unwrap_or_default(),
            c["restarts"]
                .as_u64()
                .map(|n| n.to_string())
                .unwrap_or("-".into()),
            c["detail"].as_str().unwrap_or_default(),
        );
    }
    Ok(0)
}

fn doctor(global: &Global, json_out: bool) -> anyhow::Result<u8> {
    let config = load(global)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let checks = runtime.block_on(super::doctor::run(&config));
    let failed = checks.iter().any(|c| !c.ok);
    if json_out {
        println!(
            "{}",
            serde_json::to_string_pretty(&json!({ "ok": !failed, "checks": checks }))?
        );
    } else if checks.is_empty() {
        println!("no channels enabled; nothing to probe");
    } else {
        for c in &checks {
            let mark = if c.ok { "ok  " } else { "FAIL" };
            println!("{mark} {:<9} {:<16} {}", c.channel, c.check, c.detail);
        }
    }
    Ok(if failed { 1 } else { 0 })
}

fn bind_telegram(global: &Global, user_id: &str) -> anyhow::Result<u8> {
    let id = super::telegram::bind::validate_user_id(user_id)?;
    let path = config_path(global);
    let text = std::fs::read_to_string(&path).with_context(|| {
        format!(
            "cannot read the config file {} (create it with `zeroclaw config init`)",
            path.display()
        )
    })?;
    let origin = path.display().to_string();
    let (new_text, changed) = super::telegram::bind::add_allowed_user(&text, &origin, &id)?;
    if changed {
        write_keeping_mode(&path, &new_text)?;
        println!("added Telegram user {id} to [channel.telegram] allowed_users in {origin}");
    } else {
        println!("Telegram user {id} is already in [channel.telegram] allowed_users in {origin}");
        return Ok(0);
    }
    // Tell a running daemon; the file is the source of truth either way.
    let socket = crate::config::load(Some(&path))
        .map(|l| l.config.control_socket())
        .unwrap_or_else(|_| Config::default().control_socket());
    match client::call(&socket, &Call::Reload {}) {
        Ok(_) => println!("the running daemon reloaded its config"),
        Err(ClientError::NotRunning(_)) => {
            println!("note: zeroclaw is not running; the change applies when it starts")
        }
        Err(e) => {
            eprintln!("warning: the config file changed but the daemon did not reload: {e}");
            eprintln!("run `zeroclaw reload` to apply it");
        }
    }
    Ok(0)
}

/// Replace the file atomically, keeping its permissions (it may hold secrets).
fn write_keeping_mode(path: &Path, text: &str) -> anyhow::Result<()> {
    let tmp = path.with_extension("toml.zeroclaw-tmp");
    std::fs::write(&tmp, text).with_context(|| format!("cannot write {}", tmp.display()))?;
    if let Ok(meta) = std::fs::metadata(path) {
        let _ = std::fs::set_permissions(&tmp, meta.permissions());
    }
    std::fs::rename(&tmp, path).with_context(|| format!("cannot replace {}", path.display()))?;
    Ok(())
}
