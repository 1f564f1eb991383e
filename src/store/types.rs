//! The values the store interface carries, the same for every database.

use crate::cron::record::RunRecord;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// What the views of one job read from the history.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct JobFacts {
    /// The operator's enable/disable override.
    pub over: Option<bool>,
    pub last_run: Option<RunRecord>,
    pub failures_in_a_row: u32,
    pub recent: Vec<RunRecord>,
}

/// One job of [`super::RunStore::open_jobs`]: what
/// [`super::RunStore::open_job`] is given for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobOpening {
    pub id: String,
    pub name: String,
    pub config_enabled: bool,
}

/// What a job actor learns when it starts: its effective enabled state and
/// its anchor as it was before the start.
pub type Opened = (bool, Option<DateTime<Utc>>);

impl JobOpening {
    /// The opening from what the store holds for the job (its override and
    /// anchor), and whether its anchor must move to now: a disabled job, and
    /// one never started, count their fire times from this start. The one
    /// rule every store's `open_job` and `open_jobs` follow.
    pub fn open(&self, over: Option<bool>, anchor: Option<DateTime<Utc>>) -> (Opened, bool) {
        let enabled = over.unwrap_or(self.config_enabled);
        ((enabled, anchor), !enabled || anchor.is_none())
    }
}

/// A job added at run time, as persisted. `spec` is the job's definition
/// as JSON, owned by cron: the store only keeps it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RuntimeJobRow {
    pub id: String,
    pub name: String,
    /// The chat that made it (`telegram:<chat>`), `None` for the operator's.
    pub owner: Option<String>,
    pub spec: String,
    pub created_at: DateTime<Utc>,
    /// A one-shot job that ran or was missed.
    pub done_at: Option<DateTime<Utc>>,
}

/// How [`super::JobStore::add_job`] ended; nothing is written unless `Added`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddJob {
    Added,
    NameTaken,
    /// Another name hashes to the same job id.
    IdTaken,
    OverQuota,
}

impl AddJob {
    /// The refusal for a job named `name` when the row found by its name or
    /// its id is named `found` (`None`: nothing found, go on). Both stores
    /// answer through this, so the operator hears the same cause from each.
    pub fn clash(found: Option<&str>, name: &str) -> Option<AddJob> {
        match found {
            Some(other) if other == name => Some(AddJob::NameTaken),
            Some(_) => Some(AddJob::IdTaken),
            None => None,
        }
    }
}

/// One remembered exchange.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemoryTurn {
    pub user: String,
    pub assistant: String,
}

/// One session with memory, as `memory list` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionInfo {
    pub session: String,
    pub turns: usize,
    pub chars: usize,
    pub updated_at: Option<DateTime<Utc>>,
}
