//! Exits and automatic restarts: carrying out what `restart.rs` decides
//! (`docs/architecture.md`, "The restart decision").

use super::restart::{Down, GiveUp, Next, NoRestart};
use super::waiters::Settle;
use super::{Msg, State, state::Phase};
use crate::policy::{ExitKind, OnGiveUp};
use crate::supervisor::SupervisorExit;
use ractor::{ActorId, ActorRef};
use std::time::Duration;
use tokio::time::Instant;

impl State {
    /// ractor reported that the actor `id` ended.
    pub(super) fn child_exited(
        &mut self,
        myself: &ActorRef<Msg>,
        id: ActorId,
        kind: ExitKind,
        message: String,
    ) {
        let Some(name) = self.by_cell.get(&id).cloned() else {
            // Probably a child whose `SpawnDone` is still in the mailbox.
            self.orphans.keep(id, kind, message);
            return;
        };
        let Some(child) = self.children.get(&name) else {
            self.by_cell.remove(&id);
            return;
        };
        match &child.phase {
            Phase::Running { cell, .. } if cell.get_id() == id => {
                self.on_exit(myself, &name, kind, message);
            }
            // Stopping on purpose: `StopDone` will follow; no restart.
            Phase::Stopping { .. } => {
                tracing::debug!(tree = %self.namespace, child = %name, ?kind, %message, "stopped child exited");
            }
            _ => {
                self.by_cell.remove(&id);
            }
        }
    }

    /// A child ended (or failed to start): apply its policy.
    pub(super) fn on_exit(
        &mut self,
        myself: &ActorRef<Msg>,
        name: &str,
        kind: ExitKind,
        message: String,
    ) {
        let now = Instant::now();
        let shutting_down = self.stopping.is_some();
        let Some(child) = self.children.get_mut(name) else {
            return;
        };
        let mut ran_for = None;
        if let Phase::Running { cell, since } = &child.phase {
            self.by_cell.remove(&cell.get_id());
            ran_for = Some(now.saturating_duration_since(*since));
        }
        let policy = &child.spec.policy;
        let verdict = child
            .history
            .exited(policy, kind, &message, ran_for, shutting_down, now);
        let (tree, cause, restart) = (&self.namespace, verdict.kind, policy.restart);
        child.phase = match verdict.down {
            Down::Stopped => Phase::Stopped,
            Down::Failed => Phase::Failed,
        };
        match verdict.next {
            Next::Stay(NoRestart::ShuttingDown) => {}
            Next::Stay(NoRestart::Fatal) => {
                tracing::error!(tree = %tree, child = %name, %message,
                    "child stopped with a fatal reason; marked failed, not restarted");
            }
            Next::Stay(NoRestart::Policy) => {
                tracing::warn!(tree = %tree, child = %name, ?cause, %message,
                    ?restart, "child exited; policy says no restart");
            }
            Next::Restart(delay) => {
                tracing::warn!(tree = %tree, child = %name, ?cause, %message,
                    delay = ?delay, count = child.history.restarts + 1, "child exited; restarting");
                if delay.is_zero() {
                    self.restart_now(myself, name);
                } else {
                    self.back_off(myself, name, delay, now);
                }
            }
        }
    }

    /// Wait `delay` before restarting; the timer reports with `RestartDue`.
    fn back_off(&mut self, myself: &ActorRef<Msg>, name: &str, delay: Duration, now: Instant) {
        let generation = self.generation();
        let Some(child) = self.children.get_mut(name) else {
            return;
        };
        let me = myself.clone();
        let child_name = name.to_string();
        let timer = tokio::spawn(async move {
            tokio::time::sleep(delay).await;
            let _ = me.cast(Msg::RestartDue {
                name: child_name,
                generation,
            });
        });
        child.phase = Phase::Backoff {
            generation,
            until: now + delay,
            timer: timer.abort_handle(),
        };
    }

    /// A backoff timer fired; it may be stale.
    pub(super) fn restart_due(&mut self, myself: &ActorRef<Msg>, name: String, generation: u64) {
        let due = self.stopping.is_none()
            && self.children.get(&name).is_some_and(
                |c| matches!(c.phase, Phase::Backoff { generation: g, .. } if g == generation),
            );
        if due {
            self.restart_now(myself, &name);
        }
    }

    /// An automatic restart: check the start limit, then spawn.
    fn restart_now(&mut self, myself: &ActorRef<Msg>, name: &str) {
        let Some(child) = self.children.get_mut(name) else {
            return;
        };
        match child.history.admit(&child.spec.policy, Instant::now()) {
            Ok(()) => self.start(myself, name),
            Err(give_up) => self.give_up(myself, name, give_up),
        }
    }

    /// The start limit was hit: leave the child `failed`, and end the tree
    /// if its policy says so.
    fn give_up(&mut self, myself: &ActorRef<Msg>, name: &str, give_up: GiveUp) {
        let Some(child) = self.children.get_mut(name) else {
            return;
        };
        let GiveUp { reason, on_give_up } = give_up;
        child.phase = Phase::Failed;
        tracing::error!(tree = %self.namespace, child = %name, restarts = child.history.restarts,
            on_give_up = ?on_give_up, %reason, "giving up on child");
        child.waiters.settle(Settle::Done(myself));
        if on_give_up == OnGiveUp::Exit {
            self.begin_shutdown(
                myself,
                SupervisorExit::GaveUp {
                    child: name.to_string(),
                    reason,
                },
            );
        }
    }
}
