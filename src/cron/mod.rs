//! Cron: schedules, one actor per job, the run history store.
//!
//! The daemon calls, in order:
//! 1. [`init`] once at start (opens the database, turns runs left `running` by
//!    a previous process into `interrupted`, stores a [`CronHandle`] in `ctx.cron`);
//! 2. [`child_specs`] for the tree's `cron:<name>` children;
//! 3. on reload, [`child_spec`] for each added or changed job (diffed by name:
//!    `add_child` / `replace_child`) and `remove_child(&child_name(job))` for
//!    removed ones;
//! 4. [`control::handle`] from the control dispatcher.

pub mod cli;
pub mod control;
pub mod id;
pub mod job;
pub mod runner;
pub mod schedule;
pub mod store;
pub mod view;

pub use id::job_id;
pub use job::{JobActor, JobArgs, JobLive, JobMsg};
pub use runner::{AgentRunner, RunOutcome, Runner};
pub use store::{RunRecord, RunStatus, Store, StoreError, StoreHandle};

use crate::config::{Config, CronJob};
use crate::daemon::Ctx;
use ractor::{Actor, ActorRef};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use tokio::sync::Semaphore;
use zeroclaw_actors::{ChildSpec, RestartPolicy, SpawnContext};

/// What all job actors and the control handlers share (lives in `ctx.cron`).
#[derive(Clone)]
pub struct CronHandle {
    pub store: StoreHandle,
    /// `[cron] max_concurrent` runs across all jobs (fixed at start; a reload
    /// that changes it takes effect at the next daemon start).
    pub semaphore: Arc<Semaphore>,
    /// Job name → the registry name its actor was last spawned under.
    registered: Arc<Mutex<BTreeMap<String, String>>>,
}

impl CronHandle {
    /// Open the database at `config.cron_db()` and recover from a previous process.
    pub fn open(config: &Config) -> Result<Self, StoreError> {
        let store = Store::open(&config.cron_db())?;
        let n = store.recover_interrupted(chrono::Utc::now())?;
        if n > 0 {
            tracing::warn!(
                runs = n,
                "cron runs interrupted by the previous daemon's end marked `interrupted`"
            );
        }
        Ok(Self::with_store(store, config.cron.max_concurrent))
    }

    pub fn with_store(store: Store, max_concurrent: usize) -> Self {
        Self {
            store: StoreHandle::new(store),
            semaphore: Arc::new(Semaphore::new(max_concurrent.max(1))),
            registered: Arc::new(Mutex::new(BTreeMap::new())),
        }
    }

    /// Remember where a job's actor is registered (called by its spawn function).
    pub fn register(&self, job_name: &str, registry_name: &str) {
        if let Ok(mut m) = self.registered.lock() {
            m.insert(job_name.to_string(), registry_name.to_string());
        }
    }

    /// Apply enable/disable overrides persisted while no daemon answered: a
    /// CLI `cron enable|disable` can land in the database after the job
    /// actors read it and before the control socket is up. Called once the
    /// daemon is ready; a job whose state already matches is left alone.
    pub async fn resync_overrides(&self, jobs: &[CronJob]) -> Result<(), StoreError> {
        let overrides = self.store.call(|s| s.overrides()).await?;
        for job in jobs {
            let enabled = overrides
                .get(&id::job_id(&job.name))
                .copied()
                .unwrap_or(job.enabled);
            if let Some(actor) = self.job_ref(&job.name) {
                let _ = actor.cast(JobMsg::SetEnabled {
                    enabled,
                    reply: None,
                });
            }
        }
        Ok(())
    }

    /// The live actor of a job, if it runs now.
    pub fn job_ref(&self, job_name: &str) -> Option<ActorRef<JobMsg>> {
        let name = self.registered.lock().ok()?.get(job_name).cloned()?;
        ractor::registry::where_is(name).map(ActorRef::from)
    }
}

/// Open the store and publish the handle in `ctx.cron` (idempotent).
pub fn init(ctx: &Ctx) -> Result<CronHandle, StoreError> {
    if let Some(h) = ctx.cron.get() {
        return Ok(h.clone());
    }
    let handle = CronHandle::open(&ctx.config())?;
    // A concurrent init lost the race: use the winner's handle.
    Ok(ctx.cron.get_or_init(|| handle).clone())
}

/// The tree child name of a job.
pub fn child_name(job: &CronJob) -> String {
    format!("cron:{}", job.name)
}

/// One child per `[[cron.jobs]]` entry, in config order. Calls [`init`].
pub fn child_specs(
    ctx: &Ctx,
    policy_for: impl Fn(&str) -> RestartPolicy,
) -> Result<Vec<ChildSpec>, StoreError> {
    init(ctx)?;
    Ok(ctx
        .config()
        .cron
        .jobs
        .iter()
        .map(|job| child_spec(ctx, job.clone(), policy_for(&child_name(job))))
        .collect())
}

/// The child of one job, with the production runner (agent → delivery).
pub fn child_spec(ctx: &Ctx, job: CronJob, policy: RestartPolicy) -> ChildSpec {
    let runner: Arc<dyn Runner> = Arc::new(AgentRunner::new(ctx.clone()));
    child_spec_with_runner(ctx, job, policy, runner)
}

/// The child of one job with any runner (tests, benchmarks).
pub fn child_spec_with_runner(
    ctx: &Ctx,
    job: CronJob,
    policy: RestartPolicy,
    runner: Arc<dyn Runner>,
) -> ChildSpec {
    let ctx = ctx.clone();
    ChildSpec::new(child_name(&job), policy, move |sc: SpawnContext| {
        let ctx = ctx.clone();
        let job = job.clone();
        let runner = runner.clone();
        async move {
            let (actor, _) = spawn_job(&ctx, job, runner, &sc).await?;
            Ok(actor.get_cell())
        }
    })
}

/// Spawn a job actor linked to `sc.supervisor` under `sc.registered_name`.
pub async fn spawn_job(
    ctx: &Ctx,
    job: CronJob,
    runner: Arc<dyn Runner>,
    sc: &SpawnContext,
) -> Result<(ActorRef<JobMsg>, tokio::task::JoinHandle<()>), ractor::SpawnErr> {
    if let Some(h) = ctx.cron.get() {
        h.register(&job.name, &sc.registered_name);
    }
    let args = JobArgs {
        ctx: ctx.clone(),
        job,
        runner,
    };
    Actor::spawn_linked(
        Some(sc.registered_name.clone()),
        JobActor,
        args,
        sc.supervisor.clone(),
    )
    .await
}

/// Every problem in `[[cron.jobs]]` beyond what serde checks (schedule,
/// timezone, `deliver_to`, duplicate names or ids), one sentence each, for
/// config validation.
pub fn validate_jobs(jobs: &[CronJob]) -> Vec<String> {
    let mut problems = Vec::new();
    let mut seen: BTreeMap<String, &str> = BTreeMap::new();
    for (i, job) in jobs.iter().enumerate() {
        let at = format!("[[cron.jobs]] #{} (`{}`)", i + 1, job.name);
        if job.name.trim().is_empty() {
            problems.push(format!("{at}: `name` is empty"));
        }
        if let Err(e) = schedule::validate(&job.schedule) {
            problems.push(format!("{at}: invalid schedule `{}`: {e}", job.schedule));
        }
        if let Err(e) = schedule::parse_timezone(job.timezone.as_deref()) {
            problems.push(format!("{at}: {e}"));
        }
        if let Some(t) = &job.deliver_to
            && let Err(e) = runner::parse_target(t)
        {
            problems.push(format!("{at}: {e}"));
        }
        if job.timeout.is_zero() {
            problems.push(format!("{at}: `timeout` must be more than 0s"));
        }
        let id = job_id(&job.name);
        match seen.get(&id) {
            Some(other) if *other == job.name => {
                problems.push(format!("{at}: another job has the same name"))
            }
            Some(other) => problems.push(format!(
                "{at}: its id {id} collides with job `{other}`; rename one of them"
            )),
            None => {
                seen.insert(id, &job.name);
            }
        }
    }
    problems
}

/// Find a job by name or id; the error names the closest matches.
pub fn resolve<'a>(jobs: &'a [CronJob], key: &str) -> Result<&'a CronJob, String> {
    let key = key.trim();
    if let Some(j) = jobs.iter().find(|j| j.name == key) {
        return Ok(j);
    }
    if let Some(j) = jobs
        .iter()
        .find(|j| job_id(&j.name) == key.to_ascii_lowercase())
    {
        return Ok(j);
    }
    Err(not_found_message(jobs.iter().map(|j| j.name.as_str()), key))
}

/// "no cron job `x`; did you mean ...", shared with the offline CLI.
pub fn not_found_message<'a>(names: impl Iterator<Item = &'a str>, key: &str) -> String {
    let lower = key.to_lowercase();
    let mut scored: Vec<(f64, &str)> = names
        .map(|n| {
            let nl = n.to_lowercase();
            let mut score = strsim::normalized_damerau_levenshtein(&lower, &nl);
            if !lower.is_empty() && (nl.contains(&lower) || lower.contains(&nl)) {
                score = score.max(0.8);
            }
            (score, n)
        })
        .filter(|(s, _)| *s >= 0.4)
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0));
    let suggestions: Vec<String> = scored
        .iter()
        .take(3)
        .map(|(_, n)| format!("`{n}` ({})", job_id(n)))
        .collect();
    if suggestions.is_empty() {
        format!("no cron job named or with id `{key}`; `zeroclaw cron list` shows every job")
    } else {
        format!(
            "no cron job named or with id `{key}`; did you mean {}?",
            suggestions.join(", ")
        )
    }
}

#[cfg(test)]
mod tests;
