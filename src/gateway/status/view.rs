//! What the status page shows, built from the same sources as `status`,
//! `cron list` and `cron runs`; and the hub that pushes it to every open
//! `/status/events` stream when it changes.
//!
//! One hub per gateway reads the tree every [`TICK`] while at least one
//! stream is open, and stops when the last one closes: fifty open pages
//! cost what one does. The jobs and their runs (database reads) are read
//! again only when a run started or ended, a button was pressed, or
//! [`CRON_REFRESH`] passed (for `zeroclaw cron enable` from the shell).

use crate::control::call::Call;
use crate::cron::RunRecord;
use crate::cron::control::{CronReply, RUNS_DEFAULT_LIMIT, answer};
use crate::cron::view::JobView;
use crate::gateway::state::{GatewayState, TreeView};
use serde::Serialize;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, SystemTime};
use tokio::sync::watch;

/// How often the hub looks for a change: a restart or a finished run
/// reaches the page well within a second.
pub const TICK: Duration = Duration::from_millis(250);
/// The longest the jobs go without being read again while a page is open.
pub const CRON_REFRESH: Duration = Duration::from_secs(5);
/// Error text of a run shown on the page is cut to this many characters.
const ERROR_CHARS: usize = 300;

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Child {
    pub name: String,
    pub state: zeroclaw_actors::ChildState,
    pub restarts: u64,
    /// Restarts an operator asked for (`zeroclaw restart`), apart from `restarts`.
    pub restarts_requested: u64,
    pub uptime_secs: Option<u64>,
    pub last_exit: Option<String>,
    pub next_restart_ms: Option<u64>,
    pub detail: Option<String>,
    /// RFC 3339 of the last completed poll or event (channels).
    pub last_activity: Option<String>,
    pub idle_secs: Option<u64>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct View {
    pub version: &'static str,
    pub uptime_secs: u64,
    pub children: Vec<Child>,
    pub jobs: Vec<JobView>,
    pub runs: Vec<RunRecord>,
    /// Set when the tree or the jobs could not be read.
    pub error: Option<String>,
}

impl View {
    /// The view without what changes by the passing of time alone: two
    /// views with the same key need not be sent twice (the page counts
    /// uptimes and idle times on by itself).
    fn key(&self) -> View {
        let mut v = self.clone();
        v.uptime_secs = 0;
        for c in &mut v.children {
            c.uptime_secs = c.uptime_secs.map(|_| 0);
            c.idle_secs = None;
        }
        v
    }
}

/// The jobs and recent runs, or why they could not be read.
#[derive(Debug, Clone, Default, PartialEq)]
struct CronPart {
    jobs: Vec<JobView>,
    runs: Vec<RunRecord>,
    error: Option<String>,
}

/// Build the view now.
pub async fn build(state: &GatewayState) -> View {
    let cron = cron_part(state).await;
    with_tree(state, &cron).await
}

/// The tree now, with the jobs as last read.
async fn with_tree(state: &GatewayState, cron: &CronPart) -> View {
    let mut error = cron.error.clone();
    let activities = state.ctx().activities();
    let children = match state.tree().await {
        TreeView::Snapshot(snap) => snap
            .children
            .iter()
            .map(|c| child(state, c, &activities))
            .collect(),
        TreeView::NoTree => Vec::new(),
        TreeView::Unreachable(e) => {
            error = Some(e);
            Vec::new()
        }
    };
    View {
        version: crate::VERSION,
        uptime_secs: state.ctx().started.elapsed().as_secs(),
        children,
        jobs: cron.jobs.clone(),
        runs: cron.runs.clone(),
        error,
    }
}

async fn cron_part(state: &GatewayState) -> CronPart {
    let mut part = CronPart::default();
    let Some(cron) = state.ctx().cron() else {
        return part;
    };
    match answer(cron, Call::CronList {}).await {
        Ok(CronReply::Jobs { jobs, .. }) => part.jobs = jobs,
        Ok(_) => {}
        Err(e) => part.error = Some(e.message),
    }
    let recent = Call::CronRuns {
        id: None,
        name: None,
        limit: Some(RUNS_DEFAULT_LIMIT as u64),
    };
    match answer(cron, recent).await {
        Ok(CronReply::Runs { runs }) => part.runs = runs.into_iter().map(slim).collect(),
        Ok(_) => {}
        Err(e) => part.error = Some(e.message),
    }
    part
}

fn child(
    state: &GatewayState,
    c: &zeroclaw_actors::ChildSnapshot,
    activities: &[(String, SystemTime)],
) -> Child {
    let activity = activities
        .iter()
        .find(|(n, _)| *n == c.name)
        .map(|(_, at)| crate::component::Activity::at(*at));
    Child {
        name: c.name.clone(),
        state: c.state,
        restarts: c.restarts,
        restarts_requested: c.restarts_requested,
        uptime_secs: c.uptime_secs,
        last_exit: c
            .last_exit
            .as_ref()
            .map(|e| format!("{}: {}", format!("{:?}", e.kind).to_lowercase(), e.message)),
        next_restart_ms: c.next_restart_ms,
        detail: state.ctx().detail(&c.name),
        last_activity: activity.as_ref().map(|a| a.last_activity.clone()),
        idle_secs: activity.map(|a| a.idle_secs),
    }
}

/// A run as the page lists it: no output, the error cut short.
fn slim(mut r: RunRecord) -> RunRecord {
    r.output = None;
    r.error = r.error.map(|e| e.chars().take(ERROR_CHARS).collect());
    r
}

/// One rendered view (JSON) shared by every stream.
#[derive(Debug, Default)]
pub struct Frame {
    pub json: String,
}

/// The pushes of one gateway.
pub struct Hub {
    tx: watch::Sender<Arc<Frame>>,
    running: AtomicBool,
    /// Set by a button: read the jobs again at the next tick.
    poked: AtomicBool,
    /// `true` once the gateway stops: every stream ends.
    closed: watch::Sender<bool>,
}

impl Default for Hub {
    fn default() -> Self {
        Self {
            tx: watch::Sender::new(Arc::new(Frame::default())),
            running: AtomicBool::new(false),
            poked: AtomicBool::new(false),
            closed: watch::Sender::new(false),
        }
    }
}

impl Hub {
    /// A receiver of every new view; starts the hub's reader if it is idle.
    /// The gateway is stopping: end every stream.
    pub fn close(&self) {
        self.closed.send_replace(true);
    }

    /// Turns `true` when the gateway stops.
    pub fn closed(&self) -> watch::Receiver<bool> {
        self.closed.subscribe()
    }

    /// The jobs changed (a button of the page): read them at the next tick.
    pub fn poke(&self) {
        self.poked.store(true, Ordering::Release);
    }

    pub fn subscribe(&self, state: &GatewayState) -> watch::Receiver<Arc<Frame>> {
        let mut rx = self.tx.subscribe();
        rx.mark_changed();
        if !self.running.swap(true, Ordering::AcqRel) {
            let state = state.clone();
            tokio::spawn(async move { run(state).await });
        }
        rx
    }
}

async fn run(state: GatewayState) {
    let hub = state.status_hub();
    let mut last: Option<View> = None;
    let mut cron = CronPart::default();
    // (generation, when) of the last read of the jobs; `None` = never read.
    let mut read: Option<(u64, tokio::time::Instant)> = None;
    loop {
        if hub.tx.receiver_count() == 0 {
            hub.running.store(false, Ordering::Release);
            // A stream that subscribed while this was stopping sees
            // `running` false and starts another reader, or is served here.
            if hub.tx.receiver_count() == 0 || hub.running.swap(true, Ordering::AcqRel) {
                return;
            }
        }
        let generation = state.metrics().cron_generation();
        let stale = match read {
            None => true,
            Some((g, at)) => g != generation || at.elapsed() >= CRON_REFRESH,
        };
        if hub.poked.swap(false, Ordering::AcqRel) || stale {
            cron = cron_part(&state).await;
            read = Some((generation, tokio::time::Instant::now()));
        }
        let view = with_tree(&state, &cron).await;
        let key = view.key();
        if last.as_ref() != Some(&key) {
            match serde_json::to_string(&view) {
                Ok(json) => {
                    hub.tx.send_replace(Arc::new(Frame { json }));
                }
                Err(e) => tracing::warn!(error = %e, "status view did not serialise"),
            }
            last = Some(key);
        }
        tokio::time::sleep(TICK).await;
    }
}
