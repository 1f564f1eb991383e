//! One interface for all durable state: cron run history, enable/disable
//! overrides, runtime jobs, channel offsets and dedupe ids, conversation
//! memory.
//!
//! Components hold an `Arc<dyn Store>` handed to them in their dependencies
//! and never know which database is behind it. Every method is one
//! transaction at the level of what the caller means ("begin a run and move
//! the anchor"), never a statement, so that another implementation (a
//! PostgreSQL one for a cluster) needs no change in the components. The
//! SQLite implementation ([`sqlite::SqliteStore`]) runs every call off the
//! async workers. See "State" in docs/architecture.md.

pub mod postgres;
pub mod sqlite;
mod types;

pub use types::{AddJob, JobFacts, JobOpening, MemoryTurn, Opened, RuntimeJobRow, SessionInfo};

use crate::cron::record::{RunRecord, RunStatus};
use chrono::{DateTime, Utc};
use futures_util::future::BoxFuture;
use std::collections::BTreeMap;
use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cron database {path}: {source}")]
    Open {
        path: PathBuf,
        source: rusqlite::Error,
    },
    #[error(
        "cron database {0} does not exist yet (the daemon creates it when it first keeps something: a job's run, a conversation, a channel's position; `cron enable`/`disable` create it too)"
    )]
    Missing(PathBuf),
    #[error("cannot create the directory of the cron database {path}: {source}")]
    Dir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cron database: {0}")]
    Sql(#[from] rusqlite::Error),
    #[error("cron database task failed: {0}")]
    Task(String),
    /// The database opened on its own thread ([`sqlite::SqliteStore::open`])
    /// could not be opened: the open's own error, for every call.
    #[error("{0}")]
    NotOpen(String),
    #[error("state database: a stored value cannot be read: {0}")]
    Corrupt(String),
    #[error("state database (PostgreSQL): {0}")]
    Postgres(#[from] postgres::PgError),
    /// A cluster's fire claim failed: another instance claimed this fire
    /// time, or this one no longer holds the lease. Nothing was written.
    #[error(
        "fire time {at} of job {job} is not this instance's to run (another instance claimed it, or this one no longer leads)"
    )]
    NotClaimed { job: String, at: DateTime<Utc> },
}

impl StoreError {
    /// A cluster's database that did not answer (see
    /// [`postgres::PgError::is_unreachable`]); a local store never is.
    pub fn is_unreachable(&self) -> bool {
        matches!(self, StoreError::Postgres(e) if e.is_unreachable())
    }
}

/// The error of a run whose job actor stopped while it ran (both stores).
pub const STOPPED_DURING_RUN: &str =
    "the job was stopped during this run (reload, restart or shutdown)";

/// What every store method returns.
pub type StoreFut<'a, T> = BoxFuture<'a, Result<T, StoreError>>;

/// The outcome of one run, as [`RunStore::finish_run`] records it.
#[derive(Debug, Clone)]
pub struct Finish {
    pub run_id: i64,
    pub job_id: String,
    pub at: DateTime<Utc>,
    pub status: RunStatus,
    pub output: Option<String>,
    pub error: Option<String>,
    /// Bytes of output kept.
    pub max_output: usize,
    /// Finished runs kept for the job.
    pub keep: usize,
}

/// Cron's run history, overrides and anchors.
pub trait RunStore: Send + Sync {
    /// Runs left `running` by a previous process become `interrupted`.
    fn recover_interrupted(&self, now: DateTime<Utc>) -> StoreFut<'_, usize>;
    /// A job actor starts: its effective enabled state and its anchor; the
    /// anchor is set to `now` when the job is disabled or has none. Rows of
    /// the job still `running` (a previous start's, whose record landed
    /// after that start stopped) become `interrupted`.
    fn open_job(
        &self,
        id: String,
        name: String,
        config_enabled: bool,
        now: DateTime<Utc>,
    ) -> StoreFut<'_, Opened>;
    /// [`RunStore::open_job`] for many jobs in one transaction, answered in
    /// their order: the daemon's start opens every job at once, so a start
    /// with many jobs is one round trip instead of one per job.
    fn open_jobs(&self, jobs: Vec<JobOpening>, now: DateTime<Utc>) -> StoreFut<'_, Vec<Opened>>;
    /// Record missed fire times, move the anchor to the last, prune to `keep`.
    fn record_missed(
        &self,
        id: String,
        name: String,
        times: Vec<DateTime<Utc>>,
        note: String,
        now: DateTime<Utc>,
        keep: usize,
    ) -> StoreFut<'_, ()>;
    /// Record a fire skipped because the previous run was still going.
    fn record_skipped(
        &self,
        id: String,
        name: String,
        scheduled: DateTime<Utc>,
        note: String,
        now: DateTime<Utc>,
        keep: usize,
    ) -> StoreFut<'_, ()>;
    /// A run starts: its `running` row (and the anchor, for a scheduled run).
    fn begin_run(
        &self,
        id: String,
        name: String,
        scheduled_at: Option<DateTime<Utc>>,
        started_at: DateTime<Utc>,
    ) -> StoreFut<'_, i64>;
    /// A run ends: its result, retention; returns the stored row.
    fn finish_run(&self, finish: Finish) -> StoreFut<'_, Option<RunRecord>>;
    /// A job actor stops: when it had a run going (`interrupted`), the
    /// job's `running` rows are closed as interrupted — found by job, since
    /// the actor may stop before it learnt the run's id — and a disabled job
    /// is re-anchored (nothing is owed for the time it spends disabled).
    fn close_job(
        &self,
        id: String,
        name: String,
        interrupted: bool,
        re_anchor: bool,
        now: DateTime<Utc>,
    ) -> StoreFut<'_, ()>;
    fn set_anchor(&self, id: String, name: String, at: DateTime<Utc>) -> StoreFut<'_, ()>;
    fn override_for(&self, id: String) -> StoreFut<'_, Option<bool>>;
    /// Set (`Some`) or clear (`None`) the operator's override.
    fn set_override(
        &self,
        id: String,
        name: String,
        enabled: Option<bool>,
        now: DateTime<Utc>,
    ) -> StoreFut<'_, ()>;
    fn overrides(&self) -> StoreFut<'_, BTreeMap<String, bool>>;
    /// What the views of these jobs read, with `recent` runs each.
    fn job_facts(&self, ids: Vec<String>, recent: usize) -> StoreFut<'_, Vec<JobFacts>>;
    /// Newest first; `job_id = None` = every job.
    fn runs(&self, job_id: Option<String>, limit: usize) -> StoreFut<'_, Vec<RunRecord>>;
}

/// Jobs added at run time (CLI, control socket, chat).
pub trait JobStore: Send + Sync {
    /// Add a job unless its name is taken or its owner already has
    /// `max_per_owner` jobs not done; checked and written in one transaction.
    fn add_job(&self, row: RuntimeJobRow, max_per_owner: Option<usize>) -> StoreFut<'_, AddJob>;
    /// Remove by id; `false` when there was none.
    fn remove_job(&self, id: String) -> StoreFut<'_, bool>;
    /// Every runtime job, done ones included, oldest first.
    fn runtime_jobs(&self) -> StoreFut<'_, Vec<RuntimeJobRow>>;
    /// A one-shot job ran (or was missed): it is never scheduled again.
    fn mark_done(&self, id: String, at: DateTime<Utc>) -> StoreFut<'_, ()>;
}

/// Conversation memory per session.
pub trait MemoryStore: Send + Sync {
    fn load_memory(&self, session: String) -> StoreFut<'_, Vec<MemoryTurn>>;
    /// Append a finished turn and keep only the session's newest `keep`
    /// turns (the caller's bounds decided how many remain; `0` keeps none).
    /// A turn is one insert and one ranged delete, whatever the history's
    /// length (docs/performance.md, "Conversation memory").
    fn append_memory(&self, session: String, turn: MemoryTurn, keep: usize) -> StoreFut<'_, ()>;
    fn memory_sessions(&self) -> StoreFut<'_, Vec<SessionInfo>>;
    /// `false` when the session had no memory.
    fn clear_memory(&self, session: String) -> StoreFut<'_, bool>;
}

/// What chat channels keep across restarts.
pub trait ChannelStore: Send + Sync {
    /// A channel's resume point (Telegram's `getUpdates` offset), by key.
    fn channel_offset(&self, key: String) -> StoreFut<'_, Option<i64>>;
    fn set_channel_offset(&self, key: String, offset: i64) -> StoreFut<'_, ()>;
    /// Remember an event id; `true` when it was new. The newest `keep` ids
    /// per channel are kept.
    fn remember_event(&self, channel: String, id: String, keep: usize) -> StoreFut<'_, bool>;
    /// Take a polled update of a leader-only channel (Telegram) to answer;
    /// see [`Claim`]. A single instance always may.
    fn claim_update(&self, channel: String, id: i64) -> StoreFut<'_, Claim>;
    /// About to send the answer to a claimed update: `true` (and marked
    /// delivered) while this instance still leads in the term it claimed
    /// it in; `false` = a newer term took the update over, send nothing.
    /// A single instance always may.
    fn deliver_update(&self, channel: String, id: i64) -> StoreFut<'_, bool>;
}

/// Whether this instance may answer a polled update. In a cluster an
/// update is claimed in the leader's term before it is answered and marked
/// delivered right before the answer is sent, so that a leader paused past
/// its lease (SIGSTOP, a frozen VM) neither answers what the new leader
/// answered nor keeps an update it never answered from the new leader
/// (docs/operations.md, "Several instances").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Claim {
    /// Answer it: no one took it, or the term that took it ended before
    /// its answer went out.
    Mine,
    /// Skip it: answered, or taken in the current term by another start.
    Taken,
    /// This instance does not lead now: neither answer nor confirm it.
    NotLeading,
}

/// All state, as components hold it.
pub trait Store: RunStore + JobStore + MemoryStore + ChannelStore {}

impl<T: RunStore + JobStore + MemoryStore + ChannelStore> Store for T {}
