//! Runtime operations: add, remove, restart and replace a child while the tree
//! runs (`docs/architecture.md`, "Runtime operations").

use super::state::{AfterStop, Phase};
use super::waiters::Settle;
use super::{Msg, Reply, State};
use crate::spec::ChildSpec;
use crate::supervisor::SupervisorError;
use ractor::ActorRef;

impl State {
    /// Append a child and start it; the caller is answered once the start settled.
    pub(super) fn add(&mut self, myself: &ActorRef<Msg>, spec: ChildSpec, reply: Reply) {
        if self.stopping.is_some() {
            let _ = reply.send(Err(SupervisorError::NotRunning));
            return;
        }
        if self.children.contains_key(&spec.name) {
            let _ = reply.send(Err(SupervisorError::DuplicateChild(spec.name)));
            return;
        }
        let name = spec.name.clone();
        tracing::info!(tree = %self.namespace, child = %name, "adding child");
        self.insert(spec);
        if let Some(child) = self.children.get_mut(&name) {
            child.waiters.wait(reply);
        }
        self.start(myself, &name);
    }

    /// Stop a child if it runs, then forget it.
    pub(super) fn remove(&mut self, myself: &ActorRef<Msg>, name: String, reply: Reply) {
        if self.stopping.is_some() {
            let _ = reply.send(Err(SupervisorError::NotRunning));
            return;
        }
        let Some(child) = self.children.get_mut(&name) else {
            let _ = reply.send(Err(SupervisorError::UnknownChild(name)));
            return;
        };
        tracing::info!(tree = %self.namespace, child = %name, "removing child");
        match &mut child.phase {
            Phase::Starting { .. } => child.waiters.defer(Msg::Remove(name, reply)),
            Phase::Running { .. } => {
                child.waiters.wait(reply);
                self.stop_child(myself, &name, AfterStop::Remove);
            }
            Phase::Stopping { then, .. } => {
                *then = AfterStop::Remove;
                child.waiters.wait(reply);
            }
            Phase::Backoff { timer, .. } => {
                timer.abort();
                child.waiters.wait(reply);
                self.forget(&name);
            }
            Phase::Failed | Phase::Stopped => {
                child.waiters.wait(reply);
                self.forget(&name);
            }
        }
    }

    /// Drop a child that is down from the tree.
    pub(super) fn forget(&mut self, name: &str) {
        if let Some(mut child) = self.children.remove(name) {
            self.order.retain(|n| n != name);
            child.waiters.settle(Settle::Forgotten(name));
        }
    }

    /// `restart_child` and `replace_child`: start now whatever the state, with a
    /// fresh start limit and backoff.
    pub(super) fn restart_on_request(
        &mut self,
        myself: &ActorRef<Msg>,
        name: String,
        spec: Option<ChildSpec>,
        reply: Reply,
    ) {
        if self.stopping.is_some() {
            let _ = reply.send(Err(SupervisorError::NotRunning));
            return;
        }
        let Some(child) = self.children.get_mut(&name) else {
            let _ = reply.send(Err(SupervisorError::UnknownChild(name)));
            return;
        };
        if let Phase::Starting { .. } = child.phase {
            child.waiters.defer(match spec {
                Some(spec) => Msg::Replace(spec, reply),
                None => Msg::Restart(name, reply),
            });
            return;
        }
        if let Phase::Stopping {
            then: AfterStop::Remove,
            ..
        } = child.phase
        {
            let _ = reply.send(Err(SupervisorError::UnknownChild(name)));
            return;
        }
        tracing::info!(tree = %self.namespace, child = %name, replace = spec.is_some(), "restart requested");
        if let Some(spec) = spec {
            child.spec = spec;
        }
        child.history.reset();
        child.waiters.wait(reply);
        match &mut child.phase {
            Phase::Running { .. } => self.stop_child(myself, &name, AfterStop::Start),
            Phase::Stopping { then, .. } => *then = AfterStop::Start,
            Phase::Backoff { timer, .. } => {
                timer.abort();
                self.start(myself, &name);
            }
            Phase::Failed | Phase::Stopped | Phase::Starting { .. } => self.start(myself, &name),
        }
    }
}
