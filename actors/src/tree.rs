//! The supervisor actor: children's lifecycles, restarts, start limits, stop order.
//!
//! Everything slow happens outside the actor's mailbox: a spawn runs in its own
//! task and reports back with [`Msg::SpawnDone`], a graceful stop runs in its own
//! task and reports back with [`Msg::StopDone`], a backoff is a timer that sends
//! [`Msg::RestartDue`]. The actor itself only does bookkeeping, so `snapshot()`
//! answers while a child is starting or stopping.
//!
//! Every asynchronous report carries the child name and a generation number that
//! is unique in the tree; a report whose generation no longer matches the
//! child's phase is stale (the child was restarted, removed or replaced since)
//! and is ignored.

use crate::panics;
use crate::policy::{ExitKind, OnGiveUp};
use crate::snapshot::{ChildSnapshot, ChildState, LastExit, TreeSnapshot};
use crate::spec::{ChildSpec, SpawnContext};
use crate::supervisor::{SupervisorError, SupervisorExit};
use futures_util::FutureExt;
use ractor::{
    Actor, ActorCell, ActorId, ActorProcessingErr, ActorRef, ActorStatus, RpcReplyPort, SpawnErr,
    SupervisionEvent,
};
use std::collections::{HashMap, VecDeque};
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{oneshot, watch};
use tokio::task::AbortHandle;
use tokio::time::Instant;

/// How long to wait for a killed child to finish dying before moving on.
const KILL_GRACE: Duration = Duration::from_secs(5);
/// Exit reports from actors the tree does not (yet) know, kept until the
/// matching `SpawnDone` arrives (supervision events overtake ordinary messages).
const ORPHAN_CAPACITY: usize = 256;

pub(crate) type Reply = RpcReplyPort<Result<(), SupervisorError>>;

/// The supervisor's mailbox.
pub(crate) enum Msg {
    Snapshot(RpcReplyPort<TreeSnapshot>),
    Add(ChildSpec, Reply),
    Remove(String, Reply),
    Restart(String, Reply),
    Replace(ChildSpec, Reply),
    Shutdown,
    SpawnDone {
        name: String,
        generation: u64,
        outcome: SpawnOutcome,
    },
    RestartDue {
        name: String,
        generation: u64,
    },
    StopDone {
        name: String,
        generation: u64,
    },
    Tick,
}

pub(crate) enum SpawnOutcome {
    Started(ActorCell),
    Failed(SpawnErr),
    /// The spawn function itself panicked (outside ractor's `pre_start` guard).
    Panicked(String),
    TimedOut(Duration),
}

pub(crate) struct Args {
    pub namespace: Arc<str>,
    pub children: Vec<ChildSpec>,
    pub tick: Option<(Duration, Arc<dyn Fn() + Send + Sync>)>,
    pub booted: oneshot::Sender<()>,
    pub exit: watch::Sender<Option<SupervisorExit>>,
}

pub(crate) struct Supervisor;

/// What to do once a child being stopped is down.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum AfterStop {
    Stay,
    Start,
    Remove,
}

enum Phase {
    Starting {
        generation: u64,
    },
    Running {
        cell: ActorCell,
        since: Instant,
    },
    Backoff {
        generation: u64,
        until: Instant,
        timer: AbortHandle,
    },
    Failed,
    Stopped,
    Stopping {
        generation: u64,
        cell_id: ActorId,
        then: AfterStop,
    },
}

struct Child {
    spec: ChildSpec,
    registered_name: String,
    phase: Phase,
    /// Automatic restarts since the tree started (systemd's `NRestarts`).
    restarts: u64,
    /// Consecutive automatic restarts: the backoff step.
    attempt: u32,
    /// Start times inside the start-limit window.
    starts: VecDeque<Instant>,
    last_exit: Option<(ExitKind, String, Instant)>,
    /// Callers of add/restart/replace/remove waiting for this child.
    waiters: Vec<Reply>,
    /// Operations that arrived while the child was starting; replayed after.
    deferred: Vec<Msg>,
}

struct Boot {
    queue: VecDeque<String>,
    current: Option<String>,
    done: oneshot::Sender<()>,
}

struct Stopping {
    exit: SupervisorExit,
    /// Children still to stop; the last one is stopped first.
    remaining: Vec<String>,
}

/// Sends the tree's exit reason when the state is dropped, whatever happens,
/// so `wait()` never hangs even if the supervisor itself failed.
struct ExitSignal {
    namespace: Arc<str>,
    tx: watch::Sender<Option<SupervisorExit>>,
    exit: Option<SupervisorExit>,
}

impl Drop for ExitSignal {
    fn drop(&mut self) {
        let exit = self.exit.take().unwrap_or_else(|| SupervisorExit::GaveUp {
            child: self.namespace.to_string(),
            reason: "the supervisor itself stopped unexpectedly".to_string(),
        });
        self.tx.send_replace(Some(exit));
    }
}

pub(crate) struct State {
    namespace: Arc<str>,
    children: HashMap<String, Child>,
    order: Vec<String>,
    by_cell: HashMap<ActorId, String>,
    orphans: VecDeque<(ActorId, ExitKind, String)>,
    next_generation: u64,
    boot: Option<Boot>,
    stopping: Option<Stopping>,
    tick: Option<(Duration, Arc<dyn Fn() + Send + Sync>)>,
    tick_task: Option<AbortHandle>,
    exit: ExitSignal,
}

pub(crate) fn registered_name(namespace: &str, child: &str) -> String {
    format!("{namespace}/{child}")
}

impl Actor for Supervisor {
    type Msg = Msg;
    type State = State;
    type Arguments = Args;

    async fn pre_start(
        &self,
        _myself: ActorRef<Msg>,
        args: Args,
    ) -> Result<State, ActorProcessingErr> {
        let mut state = State {
            namespace: Arc::clone(&args.namespace),
            children: HashMap::with_capacity(args.children.len()),
            order: Vec::with_capacity(args.children.len()),
            by_cell: HashMap::with_capacity(args.children.len()),
            orphans: VecDeque::new(),
            next_generation: 0,
            boot: None,
            stopping: None,
            tick: args.tick,
            tick_task: None,
            exit: ExitSignal {
                namespace: Arc::clone(&args.namespace),
                tx: args.exit,
                exit: None,
            },
        };
        for spec in args.children {
            state.insert(spec);
        }
        state.boot = Some(Boot {
            queue: state.order.iter().cloned().collect(),
            current: None,
            done: args.booted,
        });
        Ok(state)
    }

    async fn post_start(
        &self,
        myself: ActorRef<Msg>,
        state: &mut State,
    ) -> Result<(), ActorProcessingErr> {
        if let Some((period, _)) = &state.tick {
            // tokio's interval panics on a zero period; a zero tick means "as
            // often as possible", which 1 ms approximates without spinning.
            let period = (*period).max(Duration::from_millis(1));
            let task = myself.send_interval(period, || Msg::Tick);
            state.tick_task = Some(task.abort_handle());
        }
        tracing::info!(tree = %state.namespace, children = state.order.len(), "supervision tree starting");
        state.advance_boot(&myself);
        Ok(())
    }

    async fn post_stop(
        &self,
        _myself: ActorRef<Msg>,
        state: &mut State,
    ) -> Result<(), ActorProcessingErr> {
        if let Some(task) = state.tick_task.take() {
            task.abort();
        }
        Ok(())
    }

    async fn handle(
        &self,
        myself: ActorRef<Msg>,
        msg: Msg,
        state: &mut State,
    ) -> Result<(), ActorProcessingErr> {
        match msg {
            Msg::Snapshot(reply) => {
                let _ = reply.send(state.snapshot());
            }
            Msg::Add(spec, reply) => state.add(&myself, spec, reply),
            Msg::Remove(name, reply) => state.remove(&myself, name, reply),
            Msg::Restart(name, reply) => state.restart_on_request(&myself, name, None, reply),
            Msg::Replace(spec, reply) => {
                let name = spec.name.clone();
                state.restart_on_request(&myself, name, Some(spec), reply)
            }
            Msg::Shutdown => state.begin_shutdown(&myself, SupervisorExit::Shutdown),
            Msg::SpawnDone {
                name,
                generation,
                outcome,
            } => state.spawn_done(&myself, name, generation, outcome),
            Msg::RestartDue { name, generation } => state.restart_due(&myself, name, generation),
            Msg::StopDone { name, generation } => state.stop_done(&myself, name, generation),
            Msg::Tick => {
                if let Some((_, tick)) = &state.tick {
                    tick();
                }
            }
        }
        Ok(())
    }

    /// Replaces ractor's default, which would stop the supervisor on any child exit.
    async fn handle_supervisor_evt(
        &self,
        myself: ActorRef<Msg>,
        event: SupervisionEvent,
        state: &mut State,
    ) -> Result<(), ActorProcessingErr> {
        match event {
            SupervisionEvent::ActorTerminated(cell, _, reason) => {
                let message = reason.unwrap_or_else(|| "stopped".to_string());
                state.child_exited(&myself, cell.get_id(), ExitKind::Success, message);
            }
            SupervisionEvent::ActorFailed(cell, err) => {
                let message = err.to_string();
                let kind = if panics::take_panic(&message) {
                    ExitKind::Abort
                } else {
                    ExitKind::Failure
                };
                state.child_exited(&myself, cell.get_id(), kind, message);
            }
            _ => {}
        }
        Ok(())
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

impl State {
    fn insert(&mut self, spec: ChildSpec) {
        let name = spec.name.clone();
        let child = Child {
            registered_name: registered_name(&self.namespace, &name),
            spec,
            phase: Phase::Stopped,
            restarts: 0,
            attempt: 0,
            starts: VecDeque::new(),
            last_exit: None,
            waiters: Vec::new(),
            deferred: Vec::new(),
        };
        self.children.insert(name.clone(), child);
        self.order.push(name);
    }

    fn generation(&mut self) -> u64 {
        self.next_generation += 1;
        self.next_generation
    }

    fn snapshot(&self) -> TreeSnapshot {
        let now = Instant::now();
        let children = self
            .order
            .iter()
            .filter_map(|name| self.children.get(name).map(|c| (name, c)))
            .map(|(name, child)| {
                let (state, uptime_secs, next_restart_ms) = match &child.phase {
                    Phase::Starting { .. } => (ChildState::Starting, None, None),
                    Phase::Running { since, .. } => (
                        ChildState::Running,
                        Some(now.saturating_duration_since(*since).as_secs()),
                        None,
                    ),
                    Phase::Backoff { until, .. } => (
                        ChildState::Backoff,
                        None,
                        Some(
                            u64::try_from(until.saturating_duration_since(now).as_millis())
                                .unwrap_or(u64::MAX),
                        ),
                    ),
                    Phase::Failed => (ChildState::Failed, None, None),
                    Phase::Stopped | Phase::Stopping { .. } => (ChildState::Stopped, None, None),
                };
                ChildSnapshot {
                    name: name.clone(),
                    state,
                    restarts: child.restarts,
                    last_exit: child
                        .last_exit
                        .as_ref()
                        .map(|(kind, message, at)| LastExit {
                            kind: *kind,
                            message: message.clone(),
                            secs_ago: now.saturating_duration_since(*at).as_secs(),
                        }),
                    uptime_secs,
                    next_restart_ms,
                }
            })
            .collect();
        TreeSnapshot { children }
    }

    // ----- starting -------------------------------------------------------

    /// Start the next child of the initial sequence, one at a time, in order.
    fn advance_boot(&mut self, myself: &ActorRef<Msg>) {
        loop {
            let Some(boot) = self.boot.as_mut() else {
                return;
            };
            if self.stopping.is_some() {
                self.finish_boot();
                return;
            }
            let Some(name) = boot.queue.pop_front() else {
                self.finish_boot();
                return;
            };
            let startable = self
                .children
                .get(&name)
                .is_some_and(|c| matches!(c.phase, Phase::Stopped) && c.last_exit.is_none());
            if startable {
                boot.current = Some(name.clone());
                self.start(myself, &name);
                return;
            }
        }
    }

    fn finish_boot(&mut self) {
        if let Some(boot) = self.boot.take() {
            let _ = boot.done.send(());
            tracing::info!(tree = %self.namespace, "supervision tree started");
        }
    }

    /// Spawn a child in its own task; the result comes back as `SpawnDone`.
    fn start(&mut self, myself: &ActorRef<Msg>, name: &str) {
        let generation = self.generation();
        let Some(child) = self.children.get_mut(name) else {
            return;
        };
        child.starts.push_back(Instant::now());
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
            let attempt = AssertUnwindSafe(async move { spawn(ctx).await }).catch_unwind();
            let outcome = match tokio::time::timeout(timeout, attempt).await {
                Err(_) => SpawnOutcome::TimedOut(timeout),
                Ok(Err(payload)) => {
                    let message = payload
                        .downcast_ref::<&str>()
                        .map(|s| (*s).to_string())
                        .or_else(|| payload.downcast_ref::<String>().cloned())
                        .unwrap_or_else(|| "spawn function panicked".to_string());
                    panics::take_panic(&message);
                    SpawnOutcome::Panicked(message)
                }
                Ok(Ok(Err(err))) => SpawnOutcome::Failed(err),
                Ok(Ok(Ok(cell))) => SpawnOutcome::Started(cell),
            };
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

    fn spawn_done(
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
        let outcome = match outcome {
            SpawnOutcome::Started(cell) if !linked_to(&cell, myself) => {
                // Without the link no exit would ever reach us and the child
                // would show `running` forever: refuse it loudly instead.
                cell.kill();
                SpawnOutcome::Failed(SpawnErr::StartupFailed(
                    "the spawn function did not link the actor to its supervisor \
                     (use spawn_linked with ctx.supervisor, or ChildSpec::actor)"
                        .into(),
                ))
            }
            other => other,
        };
        match outcome {
            SpawnOutcome::Started(cell) => {
                let id = cell.get_id();
                let early_exit = self
                    .orphans
                    .iter()
                    .position(|(orphan, _, _)| *orphan == id)
                    .and_then(|i| self.orphans.remove(i));
                self.by_cell.insert(id, name.clone());
                if let Some(child) = self.children.get_mut(&name) {
                    child.phase = Phase::Running {
                        cell,
                        since: Instant::now(),
                    };
                    tracing::debug!(tree = %self.namespace, child = %name, "child running");
                }
                if let Some((_, kind, message)) = early_exit {
                    self.on_exit(myself, &name, kind, message);
                }
            }
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
            for waiter in child.waiters.drain(..) {
                let _ = waiter.send(Ok(()));
            }
            for msg in child.deferred.drain(..) {
                let _ = myself.cast(msg);
            }
        }
        let booting_this = self
            .boot
            .as_ref()
            .is_some_and(|b| b.current.as_deref() == Some(name.as_str()));
        if booting_this {
            self.advance_boot(myself);
        }
        if self.stopping.is_some() {
            self.continue_shutdown(myself);
        }
    }

    // ----- exits and restarts ---------------------------------------------

    fn child_exited(
        &mut self,
        myself: &ActorRef<Msg>,
        id: ActorId,
        kind: ExitKind,
        message: String,
    ) {
        let Some(name) = self.by_cell.get(&id).cloned() else {
            // Probably a child whose `SpawnDone` is still in the mailbox.
            if self.orphans.len() == ORPHAN_CAPACITY {
                self.orphans.pop_front();
            }
            self.orphans.push_back((id, kind, message));
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
    fn on_exit(&mut self, myself: &ActorRef<Msg>, name: &str, kind: ExitKind, message: String) {
        let now = Instant::now();
        let shutting_down = self.stopping.is_some();
        let namespace = Arc::clone(&self.namespace);
        let Some(child) = self.children.get_mut(name) else {
            return;
        };
        if let Phase::Running { cell, since } = &child.phase {
            self.by_cell.remove(&cell.get_id());
            if now.saturating_duration_since(*since) > child.spec.policy.start_limit_interval {
                // systemd: a unit that stayed up past the window starts a new run.
                child.attempt = 0;
            }
        }
        // systemd's RestartPreventExitStatus=: the child said a restart cannot help.
        let fatal = message.starts_with(crate::FATAL_PREFIX);
        let kind = if fatal { ExitKind::Failure } else { kind };
        child.last_exit = Some((kind, message.clone(), now));
        let restart = child.spec.policy.restart;
        let down = if kind == ExitKind::Success {
            Phase::Stopped
        } else {
            Phase::Failed
        };
        if shutting_down {
            child.phase = down;
            return;
        }
        if fatal {
            tracing::error!(tree = %namespace, child = %name, %message,
                "child stopped with a fatal reason; marked failed, not restarted");
            child.phase = down;
            return;
        }
        if !restart.restarts_after(kind) {
            tracing::warn!(tree = %namespace, child = %name, cause = ?kind, %message,
                ?restart, "child exited; policy says no restart");
            child.phase = down;
            return;
        }
        let delay = child.spec.policy.delay_for(child.attempt);
        child.attempt = child.attempt.saturating_add(1);
        tracing::warn!(tree = %namespace, child = %name, cause = ?kind, %message,
            delay = ?delay, count = child.restarts + 1, "child exited; restarting");
        if delay.is_zero() {
            child.phase = down;
            self.restart_now(myself, name);
        } else {
            self.next_generation += 1;
            let generation = self.next_generation;
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
    }

    fn restart_due(&mut self, myself: &ActorRef<Msg>, name: String, generation: u64) {
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
        let now = Instant::now();
        let Some(child) = self.children.get_mut(name) else {
            return;
        };
        let policy = &child.spec.policy;
        let burst = policy.start_limit_burst;
        let interval = policy.start_limit_interval;
        // systemd: a zero burst or interval disables the start limit.
        if burst > 0 && !interval.is_zero() {
            while child
                .starts
                .front()
                .is_some_and(|t| now.saturating_duration_since(*t) >= interval)
            {
                child.starts.pop_front();
            }
            if child.starts.len() >= burst as usize {
                self.give_up(myself, name);
                return;
            }
        }
        child.restarts += 1;
        self.start(myself, name);
    }

    fn give_up(&mut self, myself: &ActorRef<Msg>, name: &str) {
        let Some(child) = self.children.get_mut(name) else {
            return;
        };
        let policy = child.spec.policy.clone();
        let last = child
            .last_exit
            .as_ref()
            .map(|(kind, message, _)| format!("; last exit: {kind:?}: {message}"))
            .unwrap_or_default();
        let reason = format!(
            "start limit hit: more than {} starts within {:?}{last}",
            policy.start_limit_burst, policy.start_limit_interval
        );
        let on_give_up = policy.on_give_up;
        child.phase = Phase::Failed;
        tracing::error!(tree = %self.namespace, child = %name, restarts = child.restarts,
            on_give_up = ?on_give_up, %reason, "giving up on child");
        for waiter in child.waiters.drain(..) {
            let _ = waiter.send(Ok(()));
        }
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

    // ----- runtime operations ---------------------------------------------

    fn add(&mut self, myself: &ActorRef<Msg>, spec: ChildSpec, reply: Reply) {
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
            child.waiters.push(reply);
        }
        self.start(myself, &name);
    }

    fn remove(&mut self, myself: &ActorRef<Msg>, name: String, reply: Reply) {
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
            Phase::Starting { .. } => child.deferred.push(Msg::Remove(name, reply)),
            Phase::Running { .. } => {
                child.waiters.push(reply);
                self.stop_child(myself, &name, AfterStop::Remove);
            }
            Phase::Stopping { then, .. } => {
                *then = AfterStop::Remove;
                child.waiters.push(reply);
            }
            Phase::Backoff { timer, .. } => {
                timer.abort();
                child.waiters.push(reply);
                self.forget(&name);
            }
            Phase::Failed | Phase::Stopped => {
                child.waiters.push(reply);
                self.forget(&name);
            }
        }
    }

    fn forget(&mut self, name: &str) {
        if let Some(mut child) = self.children.remove(name) {
            self.order.retain(|n| n != name);
            for waiter in child.waiters.drain(..) {
                let _ = waiter.send(Ok(()));
            }
            for msg in child.deferred.drain(..) {
                refuse(msg, SupervisorError::UnknownChild(name.to_string()));
            }
        }
    }

    /// `restart_child` and `replace_child`: start now whatever the state, with a
    /// fresh start limit and backoff.
    fn restart_on_request(
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
            child.deferred.push(match spec {
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
        child.starts.clear();
        child.attempt = 0;
        child.waiters.push(reply);
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

    // ----- stopping -------------------------------------------------------

    /// Stop a running child in its own task: `stop`, then kill after the stop timeout.
    fn stop_child(&mut self, myself: &ActorRef<Msg>, name: &str, then: AfterStop) {
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
            let _ = me.cast(Msg::StopDone { name, generation });
        });
    }

    fn stop_done(&mut self, myself: &ActorRef<Msg>, name: String, generation: u64) {
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
            AfterStop::Start | AfterStop::Stay => {
                for waiter in child.waiters.drain(..) {
                    let _ = waiter.send(Ok(()));
                }
            }
        }
        if self.stopping.is_some() {
            self.continue_shutdown(myself);
        }
    }

    fn begin_shutdown(&mut self, myself: &ActorRef<Msg>, exit: SupervisorExit) {
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
    fn continue_shutdown(&mut self, myself: &ActorRef<Msg>) {
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
                Some(Phase::Starting { .. } | Phase::Stopping { .. }) => return,
                _ => {
                    stopping.remaining.pop();
                }
            }
        }
        for child in self.children.values_mut() {
            for waiter in child.waiters.drain(..) {
                let _ = waiter.send(Err(SupervisorError::NotRunning));
            }
            for msg in child.deferred.drain(..) {
                refuse(msg, SupervisorError::NotRunning);
            }
        }
        if let Some(stopping) = self.stopping.as_ref() {
            tracing::info!(tree = %self.namespace, reason = ?stopping.exit, "supervision tree stopped");
            self.exit.exit = Some(stopping.exit.clone());
        }
        myself.stop(None);
    }
}

/// Answer a queued operation that will not run.
fn refuse(msg: Msg, err: SupervisorError) {
    match msg {
        Msg::Add(_, reply)
        | Msg::Remove(_, reply)
        | Msg::Restart(_, reply)
        | Msg::Replace(_, reply) => {
            let _ = reply.send(Err(err));
        }
        _ => {}
    }
}
