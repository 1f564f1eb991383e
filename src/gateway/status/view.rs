//! What the status page shows, built from the same sources as `status`,
//! `cron list` and `cron runs`. [`super::hub`] decides when to build it.

use crate::control::call::Call;
use crate::cron::RunRecord;
use crate::cron::control::{CronReply, RUNS_DEFAULT_LIMIT, answer};
use crate::cron::view::JobView;
use crate::gateway::state::{GatewayState, TreeView};
use serde::Serialize;
use std::time::SystemTime;
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
    pub(super) fn key(&self) -> View {
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
pub(super) struct CronPart {
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
pub(super) async fn with_tree(state: &GatewayState, cron: &CronPart) -> View {
    let mut error = cron.error.clone();
    let activities = state.ctx().activities();
    let children = match state.tree_now().await {
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

pub(super) async fn cron_part(state: &GatewayState) -> CronPart {
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
