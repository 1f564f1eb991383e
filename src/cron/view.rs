//! What `cron list` / `cron status` show, built the same way whether the
//! daemon answers (live actor state) or the CLI reads the database itself.

use super::job::{JobLive, RunningView};
use super::job_id;
use super::runtime::RuntimeJob;
use super::schedule::{Schedule, parse_timezone};
use super::store::{RunRecord, Store, StoreError};
use crate::config::CronJob;
use crate::store::JobFacts;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Runs shown by `cron status NAME`.
pub const STATUS_RECENT_RUNS: usize = 10;
/// Fire times shown by `cron status NAME`.
pub const STATUS_UPCOMING: usize = 5;

/// One job as the operator sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobView {
    pub id: String,
    pub name: String,
    pub schedule: String,
    pub timezone: String,
    pub enabled: bool,
    /// `config` or `override` (set by `cron enable/disable`, kept across restarts).
    pub enabled_source: String,
    pub config_enabled: bool,
    /// `idle`, `running`, `down` (its actor is not running) or `daemon stopped`.
    pub state: String,
    pub next_run: Option<DateTime<Utc>>,
    pub last_run: Option<RunRecord>,
    pub failures_in_a_row: u32,
    /// `config` (a `[[cron.jobs]]` entry) or `runtime` (`cron add`, a chat).
    #[serde(default = "config_source")]
    pub source: String,
    /// The chat that made a runtime job.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<JobDetail>,
}

fn config_source() -> String {
    "config".into()
}

/// A runtime job's view: its source and owner, and `done` for a one-shot
/// that ran or was missed (it is no child of the tree any more).
pub fn mark_runtime_view(view: &mut JobView, job: &RuntimeJob) {
    view.source = "runtime".into();
    view.owner = job.owner.clone();
    if job.done_at.is_some() {
        view.state = "done".into();
        view.next_run = None;
    }
}

/// Extra fields of `cron status NAME`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobDetail {
    pub upcoming: Vec<DateTime<Utc>>,
    pub recent_runs: Vec<RunRecord>,
    pub running: Option<RunningView>,
    pub message: String,
    pub provider: Option<String>,
    pub model: Option<String>,
    pub tools: Vec<String>,
    pub deliver_to: Option<String>,
    pub timeout: String,
}

/// Where the live part of a view comes from.
#[derive(Debug, Clone)]
pub enum Liveness {
    /// The daemon answered; `None` = this job's actor is not running.
    Daemon(Option<JobLive>),
    /// No daemon: database and config only.
    Stopped,
}

/// Runs a view reads: `STATUS_RECENT_RUNS` with `detail`.
pub fn recent_runs(detail: bool) -> usize {
    if detail { STATUS_RECENT_RUNS } else { 0 }
}

/// What the offline CLI reads for a view; `store = None` when no database
/// exists yet.
pub fn offline_facts(
    job: &CronJob,
    store: Option<&Store>,
    detail: bool,
) -> Result<Option<JobFacts>, StoreError> {
    store
        .map(|s| s.job_facts(&job_id(&job.name), recent_runs(detail)))
        .transpose()
}

/// Build a view from what the store holds of the job (`None` = nothing).
pub fn job_view(
    job: &CronJob,
    facts: Option<&JobFacts>,
    live: &Liveness,
    detail: bool,
    now: DateTime<Utc>,
) -> Result<JobView, StoreError> {
    let id = job_id(&job.name);
    let over = facts.and_then(|f| f.over);
    let tz = parse_timezone(job.timezone.as_deref()).ok();
    let schedule = tz.and_then(|tz| Schedule::parse(&job.schedule, tz).ok());
    let live_state = match live {
        Liveness::Daemon(l) => l.as_ref(),
        Liveness::Stopped => None,
    };
    let enabled = live_state
        .map(|l| l.enabled)
        .unwrap_or_else(|| over.unwrap_or(job.enabled));
    let state = match live {
        Liveness::Stopped => "daemon stopped",
        Liveness::Daemon(None) => "down",
        Liveness::Daemon(Some(l)) if l.running.is_some() => "running",
        Liveness::Daemon(Some(_)) => "idle",
    };
    let next_run = match live_state {
        Some(l) => l.next_fire,
        None if enabled => schedule.as_ref().and_then(|s| s.next_after(now)),
        None => None,
    };
    let (last_run, failures, recent) = match facts {
        Some(f) => (f.last_run.clone(), f.failures_in_a_row, f.recent.clone()),
        None => (None, 0, Vec::new()),
    };
    let detail = detail.then(|| JobDetail {
        upcoming: if enabled {
            schedule
                .as_ref()
                .map(|s| s.upcoming(now, STATUS_UPCOMING))
                .unwrap_or_default()
        } else {
            Vec::new()
        },
        recent_runs: recent,
        running: live_state.and_then(|l| l.running.clone()),
        message: job.message.clone(),
        provider: job.provider.clone(),
        model: job.model.clone(),
        tools: job.tools.clone(),
        deliver_to: job.deliver_to.clone(),
        timeout: humantime::format_duration(job.timeout).to_string(),
    });
    Ok(JobView {
        id,
        name: job.name.clone(),
        schedule: job.schedule.clone(),
        timezone: tz
            .map(|t| t.name().to_string())
            .unwrap_or_else(|| job.timezone.clone().unwrap_or_default()),
        enabled,
        enabled_source: if over.is_some() { "override" } else { "config" }.into(),
        config_enabled: job.enabled,
        state: state.into(),
        next_run,
        last_run,
        failures_in_a_row: failures,
        source: config_source(),
        owner: None,
        detail,
    })
}
