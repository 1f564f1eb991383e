//! SIGHUP and `reload`: re-read the config and apply only the difference.

use super::tree::{self, Mode};
use super::{Ctx, notify};
use crate::config::{self, Config};
use serde_json::{Value, json};

/// Re-read, validate, apply. On invalid config the daemon keeps the old one
/// and the errors are returned (and logged).
pub async fn reload(ctx: &Ctx, mode: Mode) -> Result<Value, String> {
    notify::reloading();
    let result = apply(ctx, mode).await;
    match &result {
        Ok(report) => tracing::info!(%report, "config reloaded"),
        Err(errors) => tracing::error!("reload refused, keeping the running config:\n{errors}"),
    }
    let status = match ctx.tree.get() {
        Some(handle) => super::run::summary(handle).await,
        None => String::new(),
    };
    notify::ready(&status);
    result
}

async fn apply(ctx: &Ctx, mode: Mode) -> Result<Value, String> {
    let old = ctx.config();
    let mut new = match config::load(ctx.config_path.as_deref()) {
        Ok(loaded) => loaded.config,
        Err(e) => return Err(e.to_string()),
    };
    if let Ok(cwd) = std::env::current_dir() {
        super::run::absolutize_paths(&mut new, &cwd);
    }
    // `[daemon]` (socket, state dir, pid file) can't move under a live process.
    // `[daemon]` (socket, state dir, pid file) can't move under a live
    // process, and the logging pipeline is installed once per process.
    let needs_restart: Vec<&str> = [
        ("daemon", old.daemon != new.daemon),
        ("logging", old.logging != new.logging),
    ]
    .into_iter()
    .filter_map(|(section, changed)| changed.then_some(section))
    .collect();
    // Command-line overrides stay as they were at start.
    carry_overrides(&old, &mut new);
    if *old == new {
        return Ok(
            json!({"changed": [], "added": [], "removed": [], "requires_restart": needs_restart}),
        );
    }

    if old.provider != new.provider
        || old.providers != new.providers
        || old.agent != new.agent
        || old.tools != new.tools
    {
        match crate::agent::Agent::new(&new, ctx.workdir.clone()) {
            Ok(agent) => ctx.set_agent(agent),
            Err(e) => return Err(format!("agent: {e}")),
        }
    }
    ctx.set_config(new.clone());

    let Some(handle) = ctx.tree.get() else {
        return Err("the tree is not running".into());
    };
    let before: Vec<String> = handle
        .snapshot()
        .await
        .map_err(|e| e.to_string())?
        .children
        .into_iter()
        .map(|c| c.name)
        .collect();
    let specs = tree::children(ctx, mode)?;
    let wanted: Vec<String> = specs.iter().map(|s| s.name.clone()).collect();
    let (mut changed, mut added, mut removed) = (Vec::new(), Vec::new(), Vec::new());
    // Removals first, so a renamed job never runs twice.
    for name in before.iter().filter(|n| !wanted.contains(n)) {
        handle.remove_child(name).await.map_err(|e| e.to_string())?;
        removed.push(name.clone());
    }
    for spec in specs {
        let name = spec.name.clone();
        if !before.contains(&name) {
            handle.add_child(spec).await.map_err(|e| e.to_string())?;
            added.push(name);
        } else if child_changed(&old, &new, &name) {
            handle
                .replace_child(spec)
                .await
                .map_err(|e| e.to_string())?;
            changed.push(name);
        }
    }
    Ok(json!({
        "changed": changed,
        "added": added,
        "removed": removed,
        "requires_restart": needs_restart,
    }))
}

/// Keep what a live process cannot change (reported as `requires_restart`).
fn carry_overrides(old: &Config, new: &mut Config) {
    new.daemon = old.daemon.clone();
    new.logging = old.logging.clone();
}

/// Did the part of the config this child reads change?
fn child_changed(old: &Config, new: &Config, child: &str) -> bool {
    if tree::policy_for(old, child) != tree::policy_for(new, child) {
        return true;
    }
    match child {
        "gateway" => {
            old.gateway != new.gateway
                || old.channel.telegram.as_ref().map(|t| &t.webhook_secret)
                    != new.channel.telegram.as_ref().map(|t| &t.webhook_secret)
                || old.channel.slack.as_ref().map(|s| &s.signing_secret)
                    != new.channel.slack.as_ref().map(|s| &s.signing_secret)
        }
        "channel:telegram" => old.channel.telegram != new.channel.telegram,
        "channel:discord" => old.channel.discord != new.channel.discord,
        "channel:slack" => old.channel.slack != new.channel.slack,
        "control" | "logger" => false,
        other => match other.strip_prefix("cron:") {
            Some(job) => {
                let find = |c: &Config| c.cron.jobs.iter().find(|j| j.name == job).cloned();
                find(old) != find(new)
                    || old.cron.max_concurrent != new.cron.max_concurrent
                    || old.cron.max_output != new.cron.max_output
            }
            None => false,
        },
    }
}
