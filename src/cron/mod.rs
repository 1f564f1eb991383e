//! Cron: schedules, one actor per job, the run history store.
//!
//! The daemon opens the store once at start ([`CronHandle::open`], which
//! turns runs left `running` by a previous process into `interrupted`), then
//! builds the [`Cron`] component from it: one `cron:<name>` child per
//! `[[cron.jobs]]` entry, diffed by name on reload. The control socket's
//! `cron.*` requests are served by [`control::CronControl`].

pub mod alarm;
pub mod board;
pub mod chat;
pub mod cli;
pub mod cli_add;
pub mod control;
pub mod control_runtime;
pub mod fields;
pub mod id;
pub mod interval;
pub mod job;
pub mod record;
pub mod run;
pub mod runner;
pub mod runtime;
pub mod schedule;
pub mod store;
pub mod view;

pub use id::job_id;
pub use job::{JobActor, JobArgs, JobDeps, JobLive, JobMsg};
pub use runner::{AgentRunner, RunOutcome, Runner};
pub use runtime::{NewJob, RuntimeJob, RuntimeJobs};
pub use store::{RunRecord, RunStatus, Store, StoreError};

use crate::component::{ChildName, Component, Registry};
use crate::config::{Config, CronJob};
use ractor::ActorRef;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use tokio::sync::Semaphore;
use zeroclaw_actors::{ChildSpec, RestartPolicy};

/// What all job actors and the control handlers share: opened by the daemon
/// before the tree starts.
#[derive(Clone)]
pub struct CronHandle {
    /// All durable state (run history, overrides, runtime jobs).
    pub store: Arc<dyn crate::store::Store>,
    /// `[cron] max_concurrent` runs across all jobs (fixed at start; a reload
    /// that changes it takes effect at the next daemon start).
    pub semaphore: Arc<Semaphore>,
    /// Jobs added at run time (children of the tree like configured ones).
    pub runtime: RuntimeJobs,
    /// Job name → the registry name its actor was last spawned under.
    registered: Arc<Mutex<BTreeMap<String, String>>>,
    /// The jobs' openings read at once before the tree starts.
    pub openings: board::Openings,
    /// What each job actor last published of its state.
    pub board: board::LiveBoard,
    /// The job actors' next fires, under one timer.
    pub alarms: alarm::Alarms,
}

impl CronHandle {
    /// Open the database at `config.cron_db()` and recover from a previous
    /// process. A state directory without a database yet holds nothing to
    /// recover: the database is then created by its thread at the first
    /// call, off the daemon's way to answering (docs/performance.md, "Start").
    pub fn open(config: &Config) -> Result<Self, StoreError> {
        let path = config.cron_db();
        if !path.exists() {
            let store = crate::store::sqlite::SqliteStore::create_on_first_call(path);
            return Ok(Self::with_shared(
                Arc::new(store),
                config.cron.max_concurrent,
                RuntimeJobs::default(),
            ));
        }
        let store = Store::open(&path)?;
        let n = store.recover_interrupted(chrono::Utc::now())?;
        if n > 0 {
            tracing::warn!(
                runs = n,
                "cron runs interrupted by the previous daemon's end marked `interrupted`"
            );
        }
        Ok(Self::with_store(store, config.cron.max_concurrent))
    }

    /// A one-shot job ran or was missed: it is never scheduled again (its
    /// history stays).
    pub async fn one_shot_done(&self, job_name: &str, at: chrono::DateTime<chrono::Utc>) {
        self.runtime.mark_done(job_name, at);
        if let Err(e) = self.store.mark_done(job_id(job_name), at).await {
            tracing::error!(job = %job_name, error = %e, "cannot record the one-shot job as done");
        }
    }

    /// Over a SQLite database opened by the caller.
    pub fn with_store(store: Store, max_concurrent: usize) -> Self {
        let runtime = match store.runtime_jobs() {
            Ok(rows) => RuntimeJobs::load(&rows),
            Err(e) => {
                tracing::error!(error = %e, "cannot read the runtime jobs; starting without them");
                RuntimeJobs::default()
            }
        };
        Self::with_shared(
            Arc::new(crate::store::sqlite::SqliteStore::new(store)),
            max_concurrent,
            runtime,
        )
    }

    /// Over the daemon's store, whatever its implementation, with the
    /// runtime jobs read from it.
    pub fn with_shared(
        store: Arc<dyn crate::store::Store>,
        max_concurrent: usize,
        runtime: RuntimeJobs,
    ) -> Self {
        Self {
            store,
            runtime,
            semaphore: Arc::new(Semaphore::new(max_concurrent.max(1))),
            registered: Arc::new(Mutex::new(BTreeMap::new())),
            openings: board::Openings::default(),
            board: board::LiveBoard::default(),
            alarms: alarm::Alarms::default(),
        }
    }

    /// Open every job of the first start in one store call, so each actor's
    /// start takes its opening instead of a round trip of its own. Actors
    /// that start meanwhile wait for it; on an error they open themselves,
    /// as on a restart. Runs while the tree starts.
    pub fn open_all(
        &self,
        jobs: Vec<crate::store::JobOpening>,
    ) -> impl std::future::Future<Output = ()> + use<> {
        self.board.reserve(jobs.len());
        let filling = self.openings.reading();
        let store = Arc::clone(&self.store);
        async move {
            let ids: Vec<String> = jobs.iter().map(|o| o.id.clone()).collect();
            match store.open_jobs(jobs, chrono::Utc::now()).await {
                Ok(opened) => filling.fill(ids.into_iter().zip(opened)),
                Err(e) => {
                    tracing::warn!(error = %e, "cannot open the cron jobs at once; each opens itself")
                }
            }
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
    /// actors read it and before the control socket is up (the CLI asks the
    /// daemon again after such a write, so one landing later is sent through
    /// the socket). Called once the socket is up; each actor re-reads its own
    /// override in its message order (a job whose state matches is left alone).
    pub fn resync_overrides(&self, jobs: &[CronJob]) {
        for job in jobs {
            if let Some(actor) = self.job_ref(&job.name) {
                let _ = actor.cast(JobMsg::Reread);
            }
        }
    }

    /// The live actor of a job, if it runs now.
    pub fn job_ref(&self, job_name: &str) -> Option<ActorRef<JobMsg>> {
        let name = self.registered.lock().ok()?.get(job_name).cloned()?;
        ractor::registry::where_is(name).map(ActorRef::from)
    }
}

/// Cron as a component of the tree: one child per `[[cron.jobs]]` entry
/// and per runtime job not done.
#[derive(Clone)]
pub struct Cron {
    deps: JobDeps,
    runner: Arc<dyn Runner>,
    registry: Registry,
}

impl Cron {
    /// `runner` does each run ([`AgentRunner`] in the daemon); `registry`
    /// says where the job actors will be registered, so the control socket
    /// finds them.
    pub fn new(deps: JobDeps, runner: Arc<dyn Runner>, registry: Registry) -> Self {
        Self {
            deps,
            runner,
            registry,
        }
    }

    /// What all job actors share (the store, the runtime jobs).
    pub fn handle(&self) -> &CronHandle {
        &self.deps.cron
    }

    /// The child of one job.
    pub fn job_spec(&self, job: CronJob, policy: RestartPolicy) -> ChildSpec {
        let child = ChildName::cron(&job.name);
        self.deps
            .cron
            .register(&job.name, &self.registry.name_of(&child));
        let (deps, runner) = (self.deps.clone(), self.runner.clone());
        let job = Arc::new(job);
        ChildSpec::actor(child.to_string(), policy, move || {
            let args = JobArgs {
                deps: deps.clone(),
                job: Arc::clone(&job),
                runner: runner.clone(),
            };
            (JobActor, args)
        })
        // Jobs do not depend on each other: a start with many starts them
        // side by side.
        .start_group("cron")
    }
}

fn find_job<'a>(config: &'a Config, name: &str) -> Option<&'a CronJob> {
    config.cron.jobs.iter().find(|j| j.name == name)
}

impl Cron {
    /// What opening every job that is a child under `config` needs, in the
    /// order of the children (read without copying the jobs).
    pub fn openings(&self, config: &Config) -> Vec<crate::store::JobOpening> {
        let opening = |j: &CronJob| crate::store::JobOpening {
            id: job_id(&j.name),
            name: j.name.clone(),
            config_enabled: j.enabled,
        };
        let mut jobs: Vec<_> = config.cron.jobs.iter().map(opening).collect();
        jobs.extend(
            self.deps
                .cron
                .runtime
                .active_with(|j| find_job(config, &j.name).is_none().then(|| opening(j))),
        );
        jobs
    }
}

impl Component for Cron {
    fn children(&self, config: &Config) -> Vec<ChildName> {
        let runtime = self.deps.cron.runtime.active_names();
        config
            .cron
            .jobs
            .iter()
            .map(|j| ChildName::cron(&j.name))
            .chain(
                runtime
                    .iter()
                    .filter(|name| find_job(config, name).is_none())
                    .map(|name| ChildName::cron(name)),
            )
            .collect()
    }

    fn spec(&self, child: &ChildName, config: &Config, policy: RestartPolicy) -> Option<ChildSpec> {
        let ChildName::Cron(name) = child else {
            return None;
        };
        let job = match find_job(config, name) {
            Some(job) => job.clone(),
            // By name: one lookup, not a scan per child (a tree may hold
            // many thousands of runtime jobs).
            None => {
                let r = self.deps.cron.runtime.get(name)?;
                r.done_at.is_none().then_some(r.job)?
            }
        };
        Some(self.job_spec(job, policy))
    }

    /// A job reads its own entry and the limits its runs are started under.
    fn restart_needed(&self, child: &ChildName, old: &Config, new: &Config) -> bool {
        let ChildName::Cron(name) = child else {
            return false;
        };
        find_job(old, name) != find_job(new, name)
            || old.cron.max_concurrent != new.cron.max_concurrent
            || old.cron.max_output != new.cron.max_output
    }
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
