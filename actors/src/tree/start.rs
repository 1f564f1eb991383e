//! Starting children: the initial sequence in order, one spawn at a time in
//! its own task, and what a finished spawn means (`docs/architecture.md`,
//! "Start order").

use super::waiters::Settle;
use super::{Msg, SpawnOutcome, State, state::Phase};
use crate::panics;
use crate::policy::ExitKind;
use crate::spec::{SpawnContext, SpawnFn};
use futures_util::FutureExt;
use ractor::{ActorCell, ActorRef, ActorStatus, SpawnErr};
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

/// How many children of one start group start at the same time: enough to
/// overlap their spawns, few enough that one group does not flood the
/// runtime with start tasks.
const GROUP_WIDTH: usize = 64;

impl State {
    /// Start the next child of the initial sequence, in order: one at a time,
    /// or up to [`GROUP_WIDTH`] neighbours of one start group at a time.
    pub(super) fn advance_boot(&mut self, myself: &ActorRef<Msg>) {
        loop {
            let Some(boot) = self.boot.as_mut() else {
                return;
            };
            if self.stopping.is_some() {
                self.finish_boot();
                return;
            }
            let Some(name) = boot.queue.front().cloned() else {
                if boot.current.is_empty() {
                    self.finish_boot();
                }
                return;
            };
            let group = self
                .children
                .get(&name)
                .and_then(|c| c.spec.start_group.clone());
            let joins = group.is_some() && group == boot.group && boot.current.len() < GROUP_WIDTH;
            if !boot.current.is_empty() && !joins {
                return;
            }
            boot.queue.pop_front();
            // A child added, restarted or already ended meanwhile is not started twice.
            let startable = self.children.get(&name).is_some_and(|c| {
                matches!(c.phase, Phase::Stopped) && c.history.last_exit.is_none()
            });
            if startable {
                boot.current.insert(name.clone());
                boot.group = group;
                self.start(myself, &name);
            }
        }
    }

    /// Release the caller of `SupervisorHandle::start`.
    pub(super) fn finish_boot(&mut self) {
        if let Some(boot) = self.boot.take() {
            let _ = boot.done.send(());
            tracing::info!(tree = %self.namespace, "supervision tree started");
        }
    }

    /// Spawn a child in its own task; the result comes back as `SpawnDone`.
    pub(super) fn start(&mut self, myself: &ActorRef<Msg>, name: &str) {
        let generation = self.generation();
        let Some(child) = self.children.get_mut(name) else {
            return;
        };
        child.history.started(Instant::now());
        child.phase = Phase::Starting { generation };
        let ctx = SpawnContext {
            supervisor: myself.get_cell(),
            registered_name: child.registered_name.clone(),
        };
        let spawn = Arc::clone(&child.spec.spawn);
        let timeout = child.spec.policy.start_timeout;
        let me = myself.clone();
        let name = name.to_string();
        tokio::spawn(async move {
            let outcome = attempt(spawn, ctx, timeout).await;
            let msg = Msg::SpawnDone {
                name,
                generation,
                outcome,
            };
            if let Err(ractor::MessagingErr::SendErr(Msg::SpawnDone {
                outcome: SpawnOutcome::Started(cell),
                ..
            })) = me.cast(msg)
            {
                // The supervisor is gone: nobody would ever stop this child.
                cell.kill();
            }
        });
    }

    /// A spawn task reported back.
    pub(super) fn spawn_done(
        &mut self,
        myself: &ActorRef<Msg>,
        name: String,
        generation: u64,
        outcome: SpawnOutcome,
    ) {
        let current = self.children.get(&name).is_some_and(
            |c| matches!(c.phase, Phase::Starting { generation: g } if g == generation),
        );
        if !current {
            if let SpawnOutcome::Started(cell) = outcome {
                tracing::debug!(tree = %self.namespace, child = %name, "stale start; killing it");
                cell.kill();
            }
            return;
        }
        match outcome {
            SpawnOutcome::Started(cell) => self.running(myself, &name, cell),
            SpawnOutcome::Failed(err) => {
                let (kind, message) = classify_spawn_err(err);
                self.on_exit(myself, &name, kind, message);
            }
            SpawnOutcome::Panicked(message) => {
                let message = format!("spawn function panicked: {message}");
                self.on_exit(myself, &name, ExitKind::Abort, message);
            }
            SpawnOutcome::TimedOut(after) => {
                let message = format!("start did not finish within {after:?}");
                self.on_exit(myself, &name, ExitKind::Timeout, message);
            }
        }
        if let Some(child) = self.children.get_mut(&name) {
            child.waiters.settle(Settle::Done(myself));
        }
        let booting_this = self.boot.as_mut().is_some_and(|b| b.current.remove(&name));
        if booting_this {
            self.advance_boot(myself);
        }
        if self.stopping.is_some() {
            self.continue_shutdown(myself);
        }
    }

    /// The spawn returned an actor: it runs, unless it broke the link contract
    /// or already exited before we heard of it.
    fn running(&mut self, myself: &ActorRef<Msg>, name: &str, cell: ActorCell) {
        if !linked_to(&cell, myself) {
            // Without the link no exit would ever reach us and the child
            // would show `running` forever: refuse it loudly instead.
            cell.kill();
            let (kind, message) = classify_spawn_err(SpawnErr::StartupFailed(
                "the spawn function did not link the actor to its supervisor \
                 (use spawn_linked with ctx.supervisor, or ChildSpec::actor)"
                    .into(),
            ));
            self.on_exit(myself, name, kind, message);
            return;
        }
        let id = cell.get_id();
        let early_exit = self.orphans.claim(id);
        self.by_cell.insert(id, name.to_string());
        if let Some(child) = self.children.get_mut(name) {
            child.phase = Phase::Running {
                cell,
                since: Instant::now(),
            };
            tracing::debug!(tree = %self.namespace, child = %name, "child running");
        }
        if let Some((kind, message)) = early_exit {
            self.on_exit(myself, name, kind, message);
        }
    }
}

/// Run a spawn function within the start timeout, catching a panic of the
/// function itself, also before it returns its future (ractor only guards
/// `pre_start`).
async fn attempt(spawn: SpawnFn, ctx: SpawnContext, timeout: Duration) -> SpawnOutcome {
    let attempt = AssertUnwindSafe(async move { spawn(ctx).await }).catch_unwind();
    match tokio::time::timeout(timeout, attempt).await {
        Err(_) => SpawnOutcome::TimedOut(timeout),
        Ok(Err(payload)) => {
            let message = panics::payload_message(payload.as_ref())
                .unwrap_or_else(|| "spawn function panicked".to_string());
            panics::take_panic(&message);
            SpawnOutcome::Panicked(message)
        }
        Ok(Ok(Err(err))) => SpawnOutcome::Failed(err),
        Ok(Ok(Ok(cell))) => SpawnOutcome::Started(cell),
    }
}

/// Is `cell` linked to this supervisor? An actor that already began to stop
/// has unlinked itself, which is not a broken contract: its exit event is on
/// its way. The supervisor is read before the status because ractor sets
/// `Stopping` before it unlinks.
fn linked_to(cell: &ActorCell, supervisor: &ActorRef<Msg>) -> bool {
    let parent = cell.try_get_supervisor();
    if cell.get_status() >= ActorStatus::Stopping {
        return true;
    }
    parent.is_some_and(|p| p.get_id() == supervisor.get_id())
}

/// systemd's kind of a failed start, and its message.
fn classify_spawn_err(err: SpawnErr) -> (ExitKind, String) {
    match err {
        SpawnErr::StartupFailed(inner) => {
            let message = inner.to_string();
            if panics::take_panic(&message) {
                (ExitKind::Abort, format!("panicked during start: {message}"))
            } else {
                (ExitKind::Failure, format!("start failed: {message}"))
            }
        }
        other => (ExitKind::Failure, format!("start failed: {other}")),
    }
}
