//! One run of a job, off the job actor: `running` row → permit → runner
//! under the job's timeout → result row. And the fire times a stopped or
//! stalled job missed.

use super::job::{Env, JobMsg};
use super::runner::RunOutcome;
use super::schedule::Schedule;
use super::store::{RunRecord, RunStatus};
use crate::store::Finish;
use chrono::{DateTime, Utc};
use ractor::{ActorRef, RpcReplyPort};

/// At most this many `missed` rows are written per job after downtime (the
/// most recent ones); the count of older ones goes into the last row's error.
pub const MAX_MISSED_RECORDS: usize = 100;

/// Fire times examined when catching up (an every-second job down for a
/// day has 86,400; beyond this the count is reported as "more than").
const MAX_MISSED_SCAN: usize = 1_000_000;

/// One run, off the actor: `running` row → permit → runner under timeout →
/// record. The row comes first: a fire is accounted for (and, in a
/// cluster, claimed) the moment it is due, and the rows of many jobs due at
/// once share one commit instead of queueing one by one behind the limiter
/// (docs/performance.md, "Group commit"). A run waiting for its permit is
/// `running`; its `timeout` counts from the permit.
pub(super) async fn run_task(
    env: Env,
    me: ActorRef<JobMsg>,
    token: u64,
    scheduled_at: Option<DateTime<Utc>>,
    mut reply: Option<(bool, RpcReplyPort<Result<RunRecord, String>>)>,
) {
    let started_at = Utc::now();
    let (id, name) = (env.id.clone(), env.job.name.clone());
    let begun = env
        .store()
        .begin_run(id, name, scheduled_at, started_at)
        .await;
    let run_id = match begun {
        Ok(id) => id,
        Err(e @ crate::store::StoreError::NotClaimed { .. }) => {
            // A cluster's other instance owns this fire time: not ours to run.
            tracing::info!(job = %env.job.name, reason = %e, "fire time not run here");
            if let Some((_, port)) = reply {
                let _ = port.send(Err(e.to_string()));
            }
            let _ = me.cast(JobMsg::RunDone { token });
            return;
        }
        Err(e) => {
            tracing::error!(job = %env.job.name, error = %e, "cannot record the run; not running it");
            env.deps.metrics.cron_run(&env.job.name, "error");
            if let Some((_, port)) = reply {
                let _ = port.send(Err(format!("cannot record the run: {e}")));
            }
            let _ = me.cast(JobMsg::RunDone { token });
            return;
        }
    };
    let _ = me.cast(JobMsg::RunBegun { token, run_id });
    let mut record = RunRecord {
        id: run_id,
        job_id: env.id.clone(),
        job_name: env.job.name.clone(),
        scheduled_at,
        started_at: Some(started_at),
        finished_at: None,
        status: RunStatus::Running,
        output: None,
        error: None,
    };
    if let Some((false, _)) = reply
        && let Some((_, port)) = reply.take()
    {
        let _ = port.send(Ok(record.clone()));
    }
    tracing::info!(job = %env.job.name, run = run_id, "cron run started");
    env.deps.metrics.cron_started();
    let permit = env.deps.cron.semaphore.clone().acquire_owned().await;

    let outcome = if permit.is_err() {
        RunOutcome::error("the cron run limiter is closed (daemon shutting down)")
    } else {
        let mut inner = tokio::spawn(env.runner.run(env.id.clone(), env.job.clone()));
        match tokio::time::timeout(env.job.timeout, &mut inner).await {
            Ok(Ok(outcome)) => outcome,
            Ok(Err(join)) => RunOutcome::error(format!("the run failed unexpectedly: {join}")),
            Err(_) => {
                inner.abort();
                RunOutcome {
                    status: RunStatus::Timeout,
                    output: None,
                    error: Some(format!(
                        "timed out after {} (the job's `timeout`)",
                        humantime::format_duration(env.job.timeout)
                    )),
                }
            }
        }
    };
    drop(permit);

    let finished_at = Utc::now();
    let config = env.deps.config.get();
    let max_output = usize::try_from(config.cron.max_output.as_u64()).unwrap_or(usize::MAX);
    let keep = config.cron.max_runs_per_job.max(1);
    let stored = env
        .store()
        .finish_run(Finish {
            run_id,
            job_id: env.id.clone(),
            at: finished_at,
            status: outcome.status,
            output: outcome.output.clone(),
            error: outcome.error.clone(),
            max_output,
            keep,
        })
        .await;
    let took = (finished_at - started_at).to_std().unwrap_or_default();
    env.deps
        .metrics
        .cron_finished(&env.job.name, outcome.status.as_str(), took);
    match &outcome.error {
        Some(e) => {
            tracing::warn!(job = %env.job.name, run = run_id, status = %outcome.status, error = %e, "cron run finished")
        }
        None => {
            tracing::info!(job = %env.job.name, run = run_id, status = %outcome.status, "cron run finished")
        }
    }
    match stored {
        Ok(Some(r)) => record = r,
        Ok(None) | Err(_) => {
            if let Err(e) = &stored {
                tracing::error!(job = %env.job.name, run = run_id, error = %e, "cannot record the run result");
            }
            record.finished_at = Some(finished_at);
            record.status = outcome.status;
            record.output = outcome.output;
            record.error = outcome.error;
        }
    }
    if scheduled_at.is_some() && super::interval::is_one_shot(&env.job.schedule) {
        env.deps
            .cron
            .one_shot_done(&env.job.name, finished_at)
            .await;
    }
    // Done before the reply, so a caller's next query sees the job idle.
    let _ = me.cast(JobMsg::RunDone { token });
    if let Some((_, port)) = reply {
        let _ = port.send(Ok(record));
    }
}

/// Fire times in `(after, before)`: the newest `MAX_MISSED_RECORDS` and how many in all.
pub fn missed_between(
    schedule: &Schedule,
    after: DateTime<Utc>,
    before: DateTime<Utc>,
) -> (Vec<DateTime<Utc>>, usize) {
    let mut kept = std::collections::VecDeque::with_capacity(MAX_MISSED_RECORDS);
    let mut total = 0;
    let mut at = after;
    while total < MAX_MISSED_SCAN {
        match schedule.next_after(at) {
            Some(t) if t < before => {
                total += 1;
                if kept.len() == MAX_MISSED_RECORDS {
                    kept.pop_front();
                }
                kept.push_back(t);
                at = t;
            }
            _ => break,
        }
    }
    (kept.into(), total)
}
