//! `cron.*` requests of the control socket (typed in `control::call`).
//!
//! Params (JSON object):
//! - `cron.list` `{}` → `{"daemon":"running","jobs":[JobView]}`
//! - `cron.status` `{"name"?}` → `{"job":JobView+detail}` or `{"jobs":[JobView]}`
//! - `cron.enable` / `cron.disable` `{"name"}` → `{"job":JobView}`
//! - `cron.run` `{"name","detach"?}` → `{"run":RunRecord}` (finished, or `running` with detach)
//! - `cron.runs` `{"id"?|"name"?,"limit"?}` → `{"runs":[RunRecord]}` (newest first)
//!
//! `name` accepts a job's name or its id everywhere.

use super::control_runtime::{Removed, TreeOps, add_reply, remove_reply};
use super::job::{JobLive, JobMsg};
use super::runner::DELIVERY_TIMEOUT;
use super::store::StoreError;
use super::view::mark_runtime_view;
use super::view::{JobView, Liveness, job_view, recent_runs};
use super::{CronHandle, job_id, resolve};
use crate::component::Live;
use crate::config::Config;
use crate::config::CronJob;
use crate::control::call::Call;
use crate::control::protocol::ControlError;
use ractor::rpc::CallResult;
use serde::Serialize;
use serde_json::Value;
use std::time::Duration;

/// How long a job actor may take to answer a status query.
const STATUS_TIMEOUT: Duration = Duration::from_secs(5);
/// Default and maximum of `cron.runs` `limit`.
pub const RUNS_DEFAULT_LIMIT: usize = 20;
pub const RUNS_MAX_LIMIT: usize = 10_000;

/// What the `cron.*` requests read: the job store and the config in force,
/// and the running tree for `cron.add` / `cron.remove` (`None` outside one).
#[derive(Clone)]
pub struct CronControl {
    pub cron: CronHandle,
    pub config: Live<Config>,
    pub tree: Option<TreeOps>,
}

impl CronControl {
    fn config(&self) -> std::sync::Arc<Config> {
        self.config.get()
    }
}

/// What a `cron.*` request answers.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum CronReply {
    /// `cron.list`, `cron.status` without a name.
    Jobs {
        daemon: &'static str,
        jobs: Vec<JobView>,
    },
    /// `cron.status <name>` (with `daemon`), `cron.enable`, `cron.disable`.
    Job {
        #[serde(skip_serializing_if = "Option::is_none")]
        daemon: Option<&'static str>,
        job: Option<Box<JobView>>,
    },
    Run {
        run: super::RunRecord,
    },
    Runs {
        runs: Vec<super::RunRecord>,
    },
    /// `cron.remove`.
    Removed {
        removed: Removed,
    },
}

/// `None` when `method` is not a cron method; otherwise the reply as the
/// wire's `result`.
pub async fn handle(
    ctx: &CronControl,
    method: &str,
    params: Value,
) -> Option<Result<Value, ControlError>> {
    if !method.starts_with("cron.") {
        return None;
    }
    let reply = match Call::from_wire(method, params) {
        Ok(call) => answer(ctx, call).await,
        Err(e) => Err(e),
    };
    Some(
        reply.and_then(|r| {
            serde_json::to_value(r).map_err(|e| ControlError::internal(e.to_string()))
        }),
    )
}

/// Answer one of cron's requests.
pub async fn answer(ctx: &CronControl, call: Call) -> Result<CronReply, ControlError> {
    let cron = ctx.cron.clone();
    match call {
        Call::CronList {} | Call::CronStatus { name: None } => list(ctx, &cron).await,
        Call::CronStatus { name: Some(name) } => status(ctx, &cron, &name).await,
        Call::CronEnable { name } => set_enabled(ctx, &cron, &name, true).await,
        Call::CronDisable { name } => set_enabled(ctx, &cron, &name, false).await,
        Call::CronRun { name, detach } => run(ctx, &cron, &name, detach).await,
        Call::CronRuns { id, name, limit } => runs(ctx, &cron, id, name, limit).await,
        Call::CronAdd(new) => add_reply(ctx, new).await,
        Call::CronRemove { name } => remove_reply(ctx, &name).await,
        other => Err(ControlError::internal(format!(
            "`{}` is not a cron request",
            other.method()
        ))),
    }
}

/// A job of the config, else a runtime job, by name or id.
fn find(ctx: &CronControl, key: &str) -> Result<CronJob, ControlError> {
    let config = ctx.config();
    match resolve(&config.cron.jobs, key) {
        Ok(job) => Ok(job.clone()),
        Err(msg) => match ctx.cron.runtime.find(key) {
            Some(r) => Ok(r.job),
            None => Err(ControlError::not_found(msg)),
        },
    }
}

/// Every job: the config's, then the runtime ones it does not shadow.
fn all_jobs(ctx: &CronControl) -> Vec<CronJob> {
    let mut jobs = ctx.config().cron.jobs.clone();
    // Shadowed = named like a job of the config; looked up by name, not
    // against the growing list (a daemon may hold many thousands).
    let config: std::collections::HashSet<String> = jobs.iter().map(|j| j.name.clone()).collect();
    jobs.extend(
        ctx.cron
            .runtime
            .all()
            .into_iter()
            .filter(|r| !config.contains(&r.job.name))
            .map(|r| r.job),
    );
    jobs
}

/// `{"job": JobView}` of the job named `name`.
pub(super) async fn job_reply(ctx: &CronControl, name: &str) -> Result<CronReply, ControlError> {
    let job = find(ctx, name)?;
    let mut v = views(&ctx.cron, vec![job], false).await?;
    Ok(CronReply::Job {
        daemon: None,
        job: v.pop().map(Box::new),
    })
}

/// What the job's actor says of itself: as it published it after its last
/// message when that is all there is to know, else asked in its order.
async fn live(cron: &CronHandle, job: &str) -> Option<JobLive> {
    let actor = cron.job_ref(job)?;
    if let Some(live) = cron.board.idle(job, actor.get_id()) {
        return Some(live);
    }
    match actor.call(JobMsg::Status, Some(STATUS_TIMEOUT)).await {
        Ok(CallResult::Success(l)) => Some(l),
        _ => None,
    }
}

async fn views(
    cron: &CronHandle,
    jobs: Vec<CronJob>,
    detail: bool,
) -> Result<Vec<JobView>, ControlError> {
    let lives = futures_util::future::join_all(jobs.iter().map(|j| live(cron, &j.name))).await;
    let ids = jobs.iter().map(|j| job_id(&j.name)).collect();
    let facts = cron
        .store
        .job_facts(ids, recent_runs(detail))
        .await
        .map_err(|e| ControlError::internal(e.to_string()))?;
    let now = chrono::Utc::now();
    jobs.iter()
        .zip(lives)
        .zip(facts)
        .map(|((j, l), f)| {
            let mut v = job_view(j, Some(&f), &Liveness::Daemon(l), detail, now)?;
            mark_runtime(cron, &mut v);
            Ok(v)
        })
        .collect::<Result<Vec<_>, StoreError>>()
        .map_err(|e| ControlError::internal(e.to_string()))
}

/// Every job (each view carries its failures in a row, so `cron status` without a name is the same).
async fn list(ctx: &CronControl, cron: &CronHandle) -> Result<CronReply, ControlError> {
    let views = views(cron, all_jobs(ctx), false).await?;
    Ok(CronReply::Jobs {
        daemon: "running",
        jobs: views,
    })
}

async fn status(
    ctx: &CronControl,
    cron: &CronHandle,
    key: &str,
) -> Result<CronReply, ControlError> {
    let job = find(ctx, key)?;
    let mut v = views(cron, vec![job], true).await?;
    Ok(CronReply::Job {
        daemon: Some("running"),
        job: v.pop().map(Box::new),
    })
}

async fn set_enabled(
    ctx: &CronControl,
    cron: &CronHandle,
    name: &str,
    enabled: bool,
) -> Result<CronReply, ControlError> {
    let job = find(ctx, name)?;
    let id = job_id(&job.name);
    // Matching the config = no override: the config is the source again.
    let over = (enabled != job.enabled).then_some(enabled);
    let name = job.name.clone();
    cron.store
        .set_override(id, name, over, chrono::Utc::now())
        .await
        .map_err(|e| ControlError::internal(e.to_string()))?;
    if let Some(actor) = cron.job_ref(&job.name) {
        let sent = actor
            .call(
                |reply| JobMsg::SetEnabled {
                    enabled,
                    reply: Some(reply),
                },
                Some(STATUS_TIMEOUT),
            )
            .await;
        if !matches!(sent, Ok(CallResult::Success(_))) {
            tracing::warn!(job = %job.name, "job actor did not confirm enable/disable; it applies at its next start");
        }
    }
    let mut v = views(cron, vec![job], false).await?;
    Ok(CronReply::Job {
        daemon: None,
        job: v.pop().map(Box::new),
    })
}

async fn run(
    ctx: &CronControl,
    cron: &CronHandle,
    name: &str,
    detach: bool,
) -> Result<CronReply, ControlError> {
    let job = find(ctx, name)?;
    let Some(actor) = cron.job_ref(&job.name) else {
        return Err(ControlError::new(
            "unavailable",
            format!(
                "job `{}` has no running actor (see `zeroclaw status` for `cron:{}`)",
                job.name, job.name
            ),
        ));
    };
    // Waiting includes a possible queue behind `[cron] max_concurrent`.
    let wait = if detach {
        Duration::from_secs(60)
    } else {
        job.timeout + DELIVERY_TIMEOUT + Duration::from_secs(60)
    };
    match actor
        .call(
            |reply| JobMsg::RunNow {
                wait: !detach,
                reply,
            },
            Some(wait),
        )
        .await
    {
        Ok(CallResult::Success(Ok(record))) => Ok(CronReply::Run { run: record }),
        Ok(CallResult::Success(Err(e))) => Err(ControlError::new("conflict", e)),
        Ok(CallResult::Timeout) => Err(ControlError::new(
            "timeout",
            format!(
                "job `{}` did not finish within {}; it may still be running (`zeroclaw cron runs --name ...`)",
                job.name,
                humantime::format_duration(wait)
            ),
        )),
        Ok(CallResult::SenderError) | Err(_) => Err(ControlError::new(
            "unavailable",
            format!("job `{}` stopped before the run finished", job.name),
        )),
    }
}

async fn runs(
    ctx: &CronControl,
    cron: &CronHandle,
    id: Option<String>,
    name: Option<String>,
    limit: Option<u64>,
) -> Result<CronReply, ControlError> {
    let limit = match limit {
        None => RUNS_DEFAULT_LIMIT,
        Some(n) => usize::try_from(n)
            .ok()
            .filter(|n| *n >= 1)
            .ok_or_else(|| ControlError::bad_request("param `limit` must be a positive integer"))?
            .min(RUNS_MAX_LIMIT),
    };
    let key = match (id, name) {
        (Some(_), Some(_)) => {
            return Err(ControlError::bad_request("give `id` or `name`, not both"));
        }
        (a, b) => a.or(b),
    };
    let config = ctx.config();
    let filter = match key {
        None => None,
        Some(k) => match resolve(&config.cron.jobs, &k) {
            Ok(j) => Some(job_id(&j.name)),
            // A job removed from the config still has its history.
            Err(msg) => {
                let known = known_job_id(cron, &k)
                    .await
                    .map_err(|e| ControlError::internal(e.to_string()))?;
                Some(known.ok_or_else(|| ControlError::not_found(msg))?)
            }
        },
    };
    let runs = cron
        .store
        .runs(filter, limit)
        .await
        .map_err(|e| ControlError::internal(e.to_string()))?;
    Ok(CronReply::Runs { runs })
}

/// The id of a job with history under `key` (an id, or a name whose id it is).
async fn known_job_id(cron: &CronHandle, key: &str) -> Result<Option<String>, StoreError> {
    for id in [key.to_string(), job_id(key)] {
        if let Some(r) = cron.store.runs(Some(id), 1).await?.first() {
            return Ok(Some(r.job_id.clone()));
        }
    }
    Ok(None)
}

/// A runtime job's view says so, and a one-shot that is done says that.
fn mark_runtime(cron: &CronHandle, view: &mut JobView) {
    if let Some(r) = cron.runtime.get(&view.name) {
        mark_runtime_view(view, &r);
    }
}
