//! What the supervisor knows: every child's phase and history, the start
//! sequence, the stop sequence, and the picture `snapshot()` returns.

use super::restart::RestartState;
use super::waiters::Waiters;
use super::{Args, Tick, registered_name};
use crate::policy::ExitKind;
use crate::snapshot::{ChildSnapshot, ChildState, LastExit, TreeSnapshot};
use crate::spec::ChildSpec;
use crate::supervisor::SupervisorExit;
use ractor::{ActorCell, ActorId};
use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;
use tokio::sync::{oneshot, watch};
use tokio::task::AbortHandle;
use tokio::time::Instant;

/// What to do once a child being stopped is down.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum AfterStop {
    Stay,
    Start,
    Remove,
}

/// Where a child is in its lifecycle; each phase holds what leaving it needs
/// (the cell to stop, the timer to cancel, the generation a report must match).
pub(super) enum Phase {
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

pub(super) struct Child {
    pub spec: ChildSpec,
    pub registered_name: String,
    pub phase: Phase,
    pub history: RestartState,
    pub waiters: Waiters,
}

/// The initial start sequence: one child at a time, in order, or several
/// neighbours of one start group at a time.
pub(super) struct Boot {
    pub queue: VecDeque<String>,
    /// The children whose first start is under way.
    pub current: HashSet<String>,
    /// Their start group (`None`: one child alone).
    pub group: Option<Arc<str>>,
    pub done: oneshot::Sender<()>,
}

/// The stop sequence, once the tree is stopping.
pub(super) struct Stopping {
    pub exit: SupervisorExit,
    /// Children still to stop; the last one is stopped first.
    pub remaining: Vec<String>,
}

/// Sends the tree's exit reason when the state is dropped, whatever happens,
/// so `wait()` never hangs even if the supervisor itself failed.
pub(super) struct ExitSignal {
    namespace: Arc<str>,
    tx: watch::Sender<Option<SupervisorExit>>,
    pub exit: Option<SupervisorExit>,
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

/// Exit reports from actors the tree does not (yet) know, kept until the
/// matching `SpawnDone` arrives (supervision events overtake ordinary messages).
pub(super) struct Orphans(VecDeque<(ActorId, ExitKind, String)>);

impl Orphans {
    const CAPACITY: usize = 256;

    pub fn keep(&mut self, id: ActorId, kind: ExitKind, message: String) {
        if self.0.len() == Self::CAPACITY {
            self.0.pop_front();
        }
        self.0.push_back((id, kind, message));
    }

    /// The exit `id` reported before its start was known, if any.
    pub fn claim(&mut self, id: ActorId) -> Option<(ExitKind, String)> {
        let i = self.0.iter().position(|(orphan, _, _)| *orphan == id)?;
        self.0.remove(i).map(|(_, kind, message)| (kind, message))
    }
}

/// The supervisor actor's state.
pub(crate) struct State {
    pub(super) namespace: Arc<str>,
    pub(super) children: HashMap<String, Child>,
    pub(super) order: Vec<String>,
    pub(super) by_cell: HashMap<ActorId, String>,
    pub(super) orphans: Orphans,
    next_generation: u64,
    pub(super) boot: Option<Boot>,
    pub(super) stopping: Option<Stopping>,
    pub(super) tick: Option<Tick>,
    pub(super) tick_task: Option<AbortHandle>,
    pub(super) exit: ExitSignal,
    /// Moved after every step that may change [`State::snapshot`].
    pub(super) changes: crate::Changes,
}

impl State {
    /// The state before anything started: every child `stopped`, in order.
    pub(super) fn new(args: Args) -> Self {
        let count = args.children.len();
        let namespace = Arc::clone(&args.namespace);
        let mut state = State {
            namespace: Arc::clone(&args.namespace),
            children: HashMap::with_capacity(count),
            order: Vec::with_capacity(count),
            by_cell: HashMap::with_capacity(count),
            orphans: Orphans(VecDeque::new()),
            next_generation: 0,
            boot: None,
            stopping: None,
            tick: args.tick,
            tick_task: None,
            exit: ExitSignal {
                namespace: args.namespace,
                tx: args.exit,
                exit: None,
            },
            changes: crate::changes::of_tree(&namespace),
        };
        for spec in args.children {
            state.insert(spec);
        }
        state.boot = Some(Boot {
            queue: state.order.iter().cloned().collect(),
            current: HashSet::new(),
            group: None,
            done: args.booted,
        });
        state
    }

    /// Append a child, `stopped`, at the end of the start order.
    pub(super) fn insert(&mut self, spec: ChildSpec) {
        let name = spec.name.clone();
        let child = Child {
            registered_name: registered_name(&self.namespace, &name),
            spec,
            phase: Phase::Stopped,
            history: RestartState::default(),
            waiters: Waiters::default(),
        };
        self.children.insert(name.clone(), child);
        self.order.push(name);
    }

    /// Tell the tree's readers that its picture may have changed.
    pub(super) fn changed(&self) {
        self.changes.bump();
    }

    /// A number no earlier report of this tree carries.
    pub(super) fn generation(&mut self) -> u64 {
        self.next_generation += 1;
        self.next_generation
    }

    pub(super) fn snapshot(&self) -> TreeSnapshot {
        let now = Instant::now();
        let children = self
            .order
            .iter()
            .filter_map(|name| self.children.get(name))
            .map(|child| child.snapshot(now))
            .collect();
        TreeSnapshot { children }
    }
}

impl Child {
    fn snapshot(&self, now: Instant) -> ChildSnapshot {
        let (state, uptime_secs, next_restart_ms) = match &self.phase {
            Phase::Starting { .. } => (ChildState::Starting, None, None),
            Phase::Running { since, .. } => (
                ChildState::Running,
                Some(now.saturating_duration_since(*since).as_secs()),
                None,
            ),
            Phase::Backoff { until, .. } => {
                let left = until.saturating_duration_since(now).as_millis();
                let left = u64::try_from(left).unwrap_or(u64::MAX);
                (ChildState::Backoff, None, Some(left))
            }
            Phase::Failed => (ChildState::Failed, None, None),
            Phase::Stopped | Phase::Stopping { .. } => (ChildState::Stopped, None, None),
        };
        let last_exit = self.history.last_exit.as_ref().map(|e| LastExit {
            kind: e.kind,
            message: e.message.clone(),
            secs_ago: now.saturating_duration_since(e.at).as_secs(),
        });
        ChildSnapshot {
            name: self.spec.name.clone(),
            state,
            restarts: self.history.restarts,
            restarts_requested: self.history.requested,
            last_exit,
            uptime_secs,
            next_restart_ms,
        }
    }
}
