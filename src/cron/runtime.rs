//! Jobs added while the daemon runs (`zeroclaw cron add`, `cron.add`, the
//! chat's `schedule` tool): how a request becomes a checked [`CronJob`], how
//! it is persisted, and the daemon's list of them.
//!
//! A runtime job is a `CronJob` like a configured one (its `--every` and
//! `--at` are the `@every` / `@at` schedule forms of `interval.rs`), so the
//! job actor, the views and the history treat both alike; only where it came
//! from (`source`) and who may remove it (`owner`) differ.

use super::interval::{self, parse_time};
use super::job_id;
use crate::config::document::Seg;
use crate::config::validate::{Severity, validate};
use crate::config::{Config, CronJob};
use crate::store::{RuntimeJobRow, StoreError};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The longest prompt a runtime job may carry, in bytes.
pub const MAX_MESSAGE_BYTES: usize = 16 * 1024;
/// How long a runtime job's run may take.
pub const RUNTIME_TIMEOUT: Duration = Duration::from_secs(300);

/// A job asked for at run time: the params of `cron.add`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewJob {
    pub name: String,
    /// Exactly one of `schedule`, `at`, `every`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schedule: Option<String>,
    /// RFC 3339 with offset, or a duration from now (`20m`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub every: Option<String>,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deliver_to: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timezone: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tools: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
}

/// The schedule expression of a request, or why there is none.
fn schedule_of(new: &NewJob, now: DateTime<Utc>) -> Result<String, String> {
    match (&new.schedule, &new.at, &new.every) {
        (Some(s), None, None) => {
            if interval::parse(s).is_some() {
                return Err(format!(
                    "schedule `{s}`: give `--at` or `--every` for a one-shot or an interval"
                ));
            }
            Ok(s.clone())
        }
        (None, Some(at), None) => {
            let t = parse_time(at, now)?;
            if t <= now {
                return Err(format!(
                    "time `{at}` ({}) is in the past; give a later time or a duration from now",
                    t.to_rfc3339()
                ));
            }
            Ok(interval::at_expr(t))
        }
        (None, None, Some(every)) => {
            let d = humantime::parse_duration(every.trim()).map_err(|e| {
                format!("interval `{every}` is not a duration such as `90s` or `2h30m` ({e})")
            })?;
            let expr = interval::every_expr(d);
            match interval::parse(&expr) {
                Some(Err(e)) => Err(format!("interval `{every}`: {e}")),
                _ => Ok(expr),
            }
        }
        _ => Err(
            "give exactly one of a cron schedule, a time (`at`) or an interval (`every`)".into(),
        ),
    }
}

/// Check a request against the config in force: the job, or every reason
/// it is refused (the same rules as a `[[cron.jobs]]` entry, plus a time
/// in the past and an oversized message).
pub fn build(new: &NewJob, config: &Config, now: DateTime<Utc>) -> Result<CronJob, String> {
    if new.message.len() > MAX_MESSAGE_BYTES {
        return Err(format!(
            "the message has {} bytes; at most {MAX_MESSAGE_BYTES} are accepted",
            new.message.len()
        ));
    }
    let job = CronJob {
        name: new.name.clone(),
        schedule: schedule_of(new, now)?,
        enabled: true,
        message: new.message.clone(),
        provider: new.provider.clone(),
        model: new.model.clone(),
        tools: new.tools.clone(),
        timezone: new.timezone.clone(),
        deliver_to: new.deliver_to.clone(),
        timeout: RUNTIME_TIMEOUT,
    };
    let mut candidate = config.clone();
    let index = candidate.cron.jobs.len();
    candidate.cron.jobs.push(job.clone());
    let ours = [
        Seg::Key("cron".into()),
        Seg::Key("jobs".into()),
        Seg::Index(index),
    ];
    let errors: Vec<String> = validate(&candidate)
        .into_iter()
        .filter(|f| f.severity == Severity::Error && f.path.starts_with(&ours))
        .map(|f| match f.path.get(3) {
            Some(Seg::Key(k)) => format!("{k}: {}", f.message),
            _ => f.message,
        })
        .collect();
    if errors.is_empty() {
        Ok(job)
    } else {
        Err(errors.join("; "))
    }
}

/// A runtime job as the daemon holds it.
#[derive(Debug, Clone, PartialEq)]
pub struct RuntimeJob {
    pub job: CronJob,
    /// The chat that made it (`telegram:<chat>`); `None` = the operator.
    pub owner: Option<String>,
    pub created_at: DateTime<Utc>,
    /// A one-shot that ran or was missed: kept for its history, never run again.
    pub done_at: Option<DateTime<Utc>>,
}

impl RuntimeJob {
    pub fn id(&self) -> String {
        job_id(&self.job.name)
    }

    pub fn to_row(&self) -> Result<RuntimeJobRow, StoreError> {
        Ok(RuntimeJobRow {
            id: self.id(),
            name: self.job.name.clone(),
            owner: self.owner.clone(),
            spec: serde_json::to_string(&self.job)
                .map_err(|e| StoreError::Corrupt(e.to_string()))?,
            created_at: self.created_at,
            done_at: self.done_at,
        })
    }

    pub fn from_row(row: &RuntimeJobRow) -> Result<Self, StoreError> {
        let job: CronJob = serde_json::from_str(&row.spec)
            .map_err(|e| StoreError::Corrupt(format!("runtime job `{}`: {e}", row.name)))?;
        Ok(Self {
            job,
            owner: row.owner.clone(),
            created_at: row.created_at,
            done_at: row.done_at,
        })
    }
}

/// The daemon's runtime jobs by name, read from the store at start and
/// kept in step with it by `cron.add` / `cron.remove`.
#[derive(Clone, Default)]
pub struct RuntimeJobs(Arc<Mutex<BTreeMap<String, RuntimeJob>>>);

impl RuntimeJobs {
    pub fn load(rows: &[RuntimeJobRow]) -> Self {
        Self(Arc::new(Mutex::new(Self::read(rows))))
    }

    /// Replace every job with `rows` (a cluster's new leader reads the jobs
    /// other instances added while it followed).
    pub fn reload(&self, rows: &[RuntimeJobRow]) {
        let jobs = Self::read(rows);
        self.with(|m| *m = jobs);
    }

    fn read(rows: &[RuntimeJobRow]) -> BTreeMap<String, RuntimeJob> {
        rows
            .iter()
            .filter_map(|row| match RuntimeJob::from_row(row) {
                Ok(j) => Some((j.job.name.clone(), j)),
                Err(e) => {
                    tracing::error!(error = %e, "a stored runtime job cannot be read; it is left out");
                    None
                }
            })
            .collect()
    }

    fn with<R>(&self, f: impl FnOnce(&mut BTreeMap<String, RuntimeJob>) -> R) -> R {
        let mut guard = match self.0.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        };
        f(&mut guard)
    }

    pub fn insert(&self, job: RuntimeJob) {
        self.with(|m| m.insert(job.job.name.clone(), job));
    }

    pub fn remove(&self, name: &str) -> Option<RuntimeJob> {
        self.with(|m| m.remove(name))
    }

    pub fn get(&self, name: &str) -> Option<RuntimeJob> {
        self.with(|m| m.get(name).cloned())
    }

    /// By name, else by id.
    pub fn find(&self, key: &str) -> Option<RuntimeJob> {
        let key = key.trim();
        let id = key.to_ascii_lowercase();
        self.with(|m| {
            m.get(key)
                .or_else(|| m.values().find(|j| j.id() == id))
                .cloned()
        })
    }

    /// Every runtime job, oldest first (as the store lists them).
    pub fn all(&self) -> Vec<RuntimeJob> {
        let mut all: Vec<RuntimeJob> = self.with(|m| m.values().cloned().collect());
        all.sort_by(|a, b| (a.created_at, &a.job.name).cmp(&(b.created_at, &b.job.name)));
        all
    }

    /// The jobs that are children of the tree: not done.
    pub fn active(&self) -> Vec<CronJob> {
        self.with(|m| {
            m.values()
                .filter(|j| j.done_at.is_none())
                .map(|j| j.job.clone())
                .collect()
        })
    }

    /// `f` of each job of [`RuntimeJobs::active`], where it gives something.
    pub fn active_with<T>(&self, f: impl Fn(&CronJob) -> Option<T>) -> Vec<T> {
        self.with(|m| {
            m.values()
                .filter(|j| j.done_at.is_none())
                .filter_map(|j| f(&j.job))
                .collect()
        })
    }

    /// The names of [`RuntimeJobs::active`], without copying the jobs.
    pub fn active_names(&self) -> Vec<String> {
        self.active_with(|j| Some(j.name.clone()))
    }

    pub fn mark_done(&self, name: &str, at: DateTime<Utc>) {
        self.with(|m| {
            if let Some(j) = m.get_mut(name) {
                j.done_at.get_or_insert(at);
            }
        });
    }
}
