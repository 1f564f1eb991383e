//! `cron.add` and `cron.remove`: runtime jobs, each added to and removed
//! from the running tree as a child of its own through the supervisor's
//! runtime operations (the other children are left alone).
//!
//! A request is checked in full before anything is written; the store
//! refuses a taken name in the same transaction that adds the job, and a
//! child that cannot be added takes its row back with it.

use super::control::{CronControl, CronReply};
use super::runtime::{NewJob, RuntimeJob, build};
use super::{Cron, CronHandle, job_id};
use crate::component::ChildName;
use crate::config::Config;
use crate::control::protocol::ControlError;
use crate::store::AddJob;
use serde::Serialize;
use zeroclaw_actors::{RestartPolicy, SupervisorError, TreeReader};

/// What `cron.add` / `cron.remove` need of the tree: it is reached by its
/// namespace, so this is built before the tree starts.
#[derive(Clone)]
pub struct TreeOps {
    pub handle: TreeReader,
    pub cron: Cron,
    /// The restart policy a child gets under a config (the daemon's rule).
    pub policy: fn(&Config, &ChildName) -> RestartPolicy,
}

/// `cron.remove`'s answer.
#[derive(Debug, Clone, Serialize)]
pub struct Removed {
    pub id: String,
    pub name: String,
}

fn tree(ctx: &CronControl) -> Result<&TreeOps, ControlError> {
    ctx.tree.as_ref().ok_or_else(|| {
        ControlError::new(
            "unavailable",
            "runtime jobs need the full daemon (`zeroclaw daemon`)",
        )
    })
}

fn internal(e: impl std::fmt::Display) -> ControlError {
    ControlError::internal(e.to_string())
}

/// Add a job made by `owner` (`None` = the operator), at most
/// `max_per_owner` not-done jobs per owner.
pub async fn add(
    ctx: &CronControl,
    new: NewJob,
    owner: Option<String>,
    max_per_owner: Option<usize>,
) -> Result<RuntimeJob, ControlError> {
    let ops = tree(ctx)?;
    let config = ctx.config.get();
    let now = chrono::Utc::now();
    if config.cron.jobs.iter().any(|j| j.name == new.name.trim()) {
        return Err(ControlError::new(
            "conflict",
            format!(
                "`{}` is a job of the config file; choose another name",
                new.name
            ),
        ));
    }
    let job = build(&new, &config, now).map_err(ControlError::bad_request)?;
    let runtime = RuntimeJob {
        job,
        owner,
        created_at: now,
        done_at: None,
    };
    let cron = &ctx.cron;
    let row = runtime.to_row().map_err(internal)?;
    match cron
        .store
        .add_job(row, max_per_owner)
        .await
        .map_err(internal)?
    {
        AddJob::Added => {}
        AddJob::NameTaken => {
            return Err(ControlError::new(
                "conflict",
                format!(
                    "a runtime job named `{}` exists already; remove it first (`zeroclaw cron remove`) or choose another name",
                    runtime.job.name
                ),
            ));
        }
        AddJob::OverQuota => {
            return Err(ControlError::new(
                "quota",
                format!(
                    "this chat has {} scheduled jobs already, the most allowed; cancel one first",
                    max_per_owner.unwrap_or_default()
                ),
            ));
        }
    }
    cron.runtime.insert(runtime.clone());
    let child = ChildName::cron(&runtime.job.name);
    let spec = ops
        .cron
        .job_spec(runtime.job.clone(), (ops.policy)(&config, &child));
    if let Err(e) = ops.handle.add_child(spec).await {
        forget(cron, &runtime.job.name).await;
        return Err(ControlError::new(
            "unavailable",
            format!("the job could not be started, nothing was kept: {e}"),
        ));
    }
    tracing::info!(job = %runtime.job.name, schedule = %runtime.job.schedule, "runtime job added");
    Ok(runtime)
}

async fn forget(cron: &CronHandle, name: &str) {
    cron.runtime.remove(name);
    if let Err(e) = cron.store.remove_job(job_id(name)).await {
        tracing::error!(job = %name, error = %e, "cannot remove the runtime job from the store");
    }
}

/// The runtime job `key` names (name or id), or why none.
pub fn find_runtime(ctx: &CronControl, key: &str) -> Result<RuntimeJob, ControlError> {
    if let Some(job) = ctx.cron.runtime.find(key) {
        return Ok(job);
    }
    let config = ctx.config.get();
    if super::resolve(&config.cron.jobs, key).is_ok() {
        return Err(ControlError::new(
            "conflict",
            format!(
                "`{key}` is a job of the config file; remove it there and reload (`zeroclaw reload`)"
            ),
        ));
    }
    let names: Vec<String> = ctx
        .cron
        .runtime
        .all()
        .into_iter()
        .map(|j| j.job.name)
        .collect();
    Err(ControlError::not_found(super::not_found_message(
        names.iter().map(String::as_str),
        key,
    )))
}

/// Remove a runtime job: its child stops and goes, its row goes; its run
/// history stays.
pub async fn remove(ctx: &CronControl, job: &RuntimeJob) -> Result<Removed, ControlError> {
    let ops = tree(ctx)?;
    let name = job.job.name.clone();
    match ops
        .handle
        .remove_child(&ChildName::cron(&name).to_string())
        .await
    {
        // A one-shot that is done is no child any more.
        Ok(()) | Err(SupervisorError::UnknownChild(_)) => {}
        Err(e) => return Err(internal(e)),
    }
    forget(&ctx.cron, &name).await;
    tracing::info!(job = %name, "runtime job removed");
    Ok(Removed { id: job.id(), name })
}

/// `cron.add` from the operator.
pub async fn add_reply(ctx: &CronControl, new: NewJob) -> Result<CronReply, ControlError> {
    let job = add(ctx, new, None, None).await?;
    super::control::job_reply(ctx, &job.job.name).await
}

/// `cron.remove` from the operator (any runtime job).
pub async fn remove_reply(ctx: &CronControl, key: &str) -> Result<CronReply, ControlError> {
    let job = find_runtime(ctx, key)?;
    Ok(CronReply::Removed {
        removed: remove(ctx, &job).await?,
    })
}
