//! SIGHUP and `reload`: re-read the config and apply only the difference.
//! Which children restart is each component's answer
//! ([`Component::restart_needed`](crate::component::Component::restart_needed)).

use super::notify;
use super::tree::{Tree, policy_for};
use super::wiring::Shared;
use crate::config::{self, Config};
use crate::control::protocol::ReloadReport;
use zeroclaw_actors::SupervisorHandle;

/// What a reload works on: the shared dependencies, the components, the tree.
pub struct Reloader<'a> {
    pub shared: &'a Shared,
    pub tree: &'a Tree,
    pub handle: &'a SupervisorHandle,
}

impl Reloader<'_> {
    /// Re-read, validate, apply. On invalid config the daemon keeps the old
    /// one and the errors are returned (and logged).
    pub async fn reload(&self) -> Result<ReloadReport, String> {
        notify::reloading();
        let result = self.apply().await;
        match &result {
            Ok(report) => tracing::info!(%report, "config reloaded"),
            Err(errors) => {
                tracing::error!("reload refused, keeping the running config:\n{errors}")
            }
        }
        notify::ready(&super::run::summary(self.handle).await);
        result
    }

    /// A cluster's leader picks up the runtime jobs other instances added
    /// or removed (they share the store, not the tree): when the stored set
    /// differs from the one in memory, re-read it and apply the difference.
    pub async fn sync_runtime_jobs(&self) {
        let Some(cron) = self
            .tree
            .cron()
            .filter(|_| self.shared.leadership.is_leader())
        else {
            return;
        };
        let handle = cron.handle();
        let rows = match handle.store.runtime_jobs().await {
            Ok(rows) => rows,
            Err(e) => return tracing::warn!(error = %e, "cluster: cannot read the runtime jobs"),
        };
        let stored: Vec<(String, bool)> = rows
            .iter()
            .map(|r| (r.name.clone(), r.done_at.is_some()))
            .collect();
        let mut known: Vec<(String, bool)> = handle
            .runtime
            .all()
            .iter()
            .map(|j| (j.job.name.clone(), j.done_at.is_some()))
            .collect();
        let mut sorted = stored.clone();
        sorted.sort();
        known.sort();
        if sorted != known {
            tracing::info!("cluster: runtime jobs changed on another instance; applying");
            self.follow_role().await;
        }
    }

    /// The role changed: start the leader-only children (a new leader) or
    /// stop them (a leader that stepped down), with the config in force.
    pub async fn follow_role(&self) {
        let leader = self.shared.leadership.is_leader();
        if leader && let Some(cron) = self.tree.cron() {
            let handle = cron.handle();
            match handle.store.runtime_jobs().await {
                Ok(rows) => handle.runtime.reload(&rows),
                Err(e) => tracing::warn!(error = %e, "cluster: cannot re-read the runtime jobs"),
            }
        }
        let config = self.shared.config.get();
        let mut report = ReloadReport::default();
        match self.apply_children(&config, &config, &mut report).await {
            Ok(()) => tracing::info!(
                role = if leader { "leader" } else { "follower" },
                started = ?report.added,
                stopped = ?report.removed,
                "cluster: role changed"
            ),
            Err(e) => tracing::error!(error = %e, "cluster: cannot apply the new role to the tree"),
        }
        notify::ready(&super::run::summary(self.handle).await);
    }

    async fn apply(&self) -> Result<ReloadReport, String> {
        let shared = self.shared;
        let old = shared.config.get();
        let mut new = match config::load(shared.config_path.as_deref()) {
            Ok(loaded) => loaded.config,
            Err(e) => return Err(e.to_string()),
        };
        if let Ok(cwd) = std::env::current_dir() {
            super::run::absolutize_paths(&mut new, &cwd);
        }
        // `[daemon]` (socket, state dir, pid file) can't move under a live
        // process, and the logging pipeline is installed once per process.
        let requires_restart: Vec<String> = [
            ("daemon", old.daemon != new.daemon),
            ("logging", old.logging != new.logging),
        ]
        .into_iter()
        .filter(|(_, changed)| *changed)
        .map(|(section, _)| section.to_string())
        .collect();
        // Command-line overrides stay as they were at start.
        carry_overrides(&old, &mut new);
        let mut report = ReloadReport {
            requires_restart,
            ..ReloadReport::default()
        };
        if *old == new {
            return Ok(report);
        }

        if old.provider != new.provider
            || old.providers != new.providers
            || old.agent != new.agent
            || old.tools != new.tools
        {
            match crate::agent::Agent::new(&new, shared.workdir.clone()) {
                Ok(agent) => shared.set_agent(agent),
                Err(e) => return Err(format!("agent: {e}")),
            }
        }
        shared.config.set(new.clone());
        self.apply_children(&old, &new, &mut report).await?;
        Ok(report)
    }

    async fn apply_children(
        &self,
        old: &Config,
        new: &Config,
        report: &mut ReloadReport,
    ) -> Result<(), String> {
        let handle = self.handle;
        let before: Vec<String> = handle
            .snapshot()
            .await
            .map_err(|e| e.to_string())?
            .children
            .into_iter()
            .map(|c| c.name)
            .collect();
        let wanted = self.tree.children(new);
        let wanted_names: Vec<String> = wanted.iter().map(|(n, _)| n.to_string()).collect();
        // Removals first, so a renamed job never runs twice.
        for name in before.iter().filter(|n| !wanted_names.contains(n)) {
            handle.remove_child(name).await.map_err(|e| e.to_string())?;
            report.removed.push(name.clone());
        }
        for (child, component) in wanted {
            let name = child.to_string();
            let policy = policy_for(new, &child);
            let added = !before.contains(&name);
            let changed = !added
                && (policy_for(old, &child) != policy
                    || component.restart_needed(&child, old, new));
            if !added && !changed {
                continue;
            }
            let Some(spec) = component.spec(&child, new, policy) else {
                continue;
            };
            if added {
                handle.add_child(spec).await.map_err(|e| e.to_string())?;
                report.added.push(name);
            } else {
                handle
                    .replace_child(spec)
                    .await
                    .map_err(|e| e.to_string())?;
                report.changed.push(name);
            }
        }
        Ok(())
    }
}

/// Keep what a live process cannot change (reported as `requires_restart`).
fn carry_overrides(old: &Config, new: &mut Config) {
    new.daemon = old.daemon.clone();
    new.logging = old.logging.clone();
}
