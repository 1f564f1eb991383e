//! Stopping: one child (stop, then kill after its stop timeout) and the whole
//! tree in reverse start order, child by child (`docs/architecture.md`,
//! "Stop order").

use super::state::{AfterStop, Phase, Stopping};
use super::waiters::Settle;
use super::{Msg, State};
use crate::supervisor::SupervisorExit;
use ractor::{ActorCell, ActorRef};
use std::sync::Arc;
use std::time::Duration;

/// How long to wait for a killed child to finish dying before moving on.
const KILL_GRACE: Duration = Duration::from_secs(5);

impl State {
    /// Stop a running child in its own task: `stop`, then kill after the stop timeout.
    pub(super) fn stop_child(&mut self, myself: &ActorRef<Msg>, name: &str, then: AfterStop) {
        let generation = self.generation();
        let namespace = Arc::clone(&self.namespace);
        let Some(child) = self.children.get_mut(name) else {
            return;
        };
        let Phase::Running { cell, .. } = &child.phase else {
            return;
        };
        let cell = cell.clone();
        let stop_timeout = child.spec.policy.stop_timeout;
        child.phase = Phase::Stopping {
            generation,
            cell_id: cell.get_id(),
            then,
        };
        let me = myself.clone();
        let name = name.to_string();
        tokio::spawn(async move {
            stop_or_kill(&cell, stop_timeout, &namespace, &name).await;
            let _ = me.cast(Msg::StopDone { name, generation });
        });
    }

    /// A stop task reported back: the child is down; do what was asked after.
    pub(super) fn stop_done(&mut self, myself: &ActorRef<Msg>, name: String, generation: u64) {
        let Some(child) = self.children.get_mut(&name) else {
            return;
        };
        let Phase::Stopping {
            generation: g,
            cell_id,
            then,
        } = child.phase
        else {
            return;
        };
        if g != generation {
            return;
        }
        self.by_cell.remove(&cell_id);
        child.phase = Phase::Stopped;
        match then {
            AfterStop::Remove => self.forget(&name),
            AfterStop::Start if self.stopping.is_none() => self.start(myself, &name),
            AfterStop::Start | AfterStop::Stay => child.waiters.settle(Settle::Done(myself)),
        }
        if self.stopping.is_some() {
            self.continue_shutdown(myself);
        }
    }

    /// Stop the tree: no more restarts, then every child in reverse order.
    pub(super) fn begin_shutdown(&mut self, myself: &ActorRef<Msg>, exit: SupervisorExit) {
        if self.stopping.is_some() {
            return;
        }
        tracing::info!(tree = %self.namespace, reason = ?exit, "stopping supervision tree");
        for child in self.children.values_mut() {
            if let Phase::Backoff { timer, .. } = &child.phase {
                timer.abort();
                child.phase = Phase::Stopped;
            }
        }
        self.stopping = Some(Stopping {
            exit,
            remaining: self.order.clone(),
        });
        self.finish_boot();
        self.continue_shutdown(myself);
    }

    /// Stop children one by one, last started first; end the supervisor after.
    pub(super) fn continue_shutdown(&mut self, myself: &ActorRef<Msg>) {
        loop {
            let Some(stopping) = self.stopping.as_mut() else {
                return;
            };
            let Some(name) = stopping.remaining.last().cloned() else {
                break;
            };
            match self.children.get(&name).map(|c| &c.phase) {
                Some(Phase::Running { .. }) => {
                    self.stop_child(myself, &name, AfterStop::Stay);
                    return;
                }
                // Wait for the start or stop in flight to report back.
                Some(Phase::Starting { .. } | Phase::Stopping { .. }) => return,
                _ => {
                    stopping.remaining.pop();
                }
            }
        }
        for child in self.children.values_mut() {
            child.waiters.settle(Settle::TreeStopped);
        }
        if let Some(stopping) = self.stopping.as_ref() {
            tracing::info!(tree = %self.namespace, reason = ?stopping.exit, "supervision tree stopped");
            self.exit.exit = Some(stopping.exit.clone());
        }
        myself.stop(None);
    }
}

/// Ask `cell` to stop; kill it if it is not down within `stop_timeout`.
async fn stop_or_kill(cell: &ActorCell, stop_timeout: Duration, namespace: &str, name: &str) {
    cell.stop(Some("stopped by its supervisor".to_string()));
    if cell.wait(Some(stop_timeout)).await.is_err() {
        tracing::warn!(tree = %namespace, child = %name, ?stop_timeout,
            "child did not stop in time; killing it");
        cell.kill();
        if cell.wait(Some(KILL_GRACE)).await.is_err() {
            tracing::error!(tree = %namespace, child = %name,
                "child still not dead after kill; moving on");
        }
    }
}
