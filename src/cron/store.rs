//! The run history and the operator's overrides, in SQLite.
//!
//! [`Store`] is plain synchronous code over one `rusqlite::Connection`, unit
//! tested without a runtime. [`StoreHandle`] is what async code holds: it runs
//! every call on tokio's blocking pool behind a mutex, so SQLite never blocks
//! an async worker. One connection is enough: each statement is short, WAL
//! lets the CLI read while the daemon writes.

pub use super::record::{RunRecord, RunStatus, truncate_output};
use chrono::{DateTime, SecondsFormat, Utc};
use rusqlite::{Connection, OpenFlags, OptionalExtension, params};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cron database {path}: {source}")]
    Open {
        path: PathBuf,
        source: rusqlite::Error,
    },
    #[error(
        "cron database {0} does not exist yet (it is created when the daemon starts or a job is enabled/disabled)"
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
}

/// Bumped when the schema changes; `open` migrates from older versions.
const SCHEMA_VERSION: i64 = 1;
/// Page cache per connection, in KiB (a negative `cache_size` is KiB).
const CACHE_KIB: i64 = 512;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS runs (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    job_id       TEXT NOT NULL,
    job_name     TEXT NOT NULL,
    scheduled_at TEXT,
    started_at   TEXT,
    finished_at  TEXT,
    status       TEXT NOT NULL,
    output       TEXT,
    error        TEXT
);
CREATE INDEX IF NOT EXISTS runs_job ON runs(job_id, id);
CREATE INDEX IF NOT EXISTS runs_status ON runs(status);
CREATE TABLE IF NOT EXISTS job_overrides (
    job_id     TEXT PRIMARY KEY,
    job_name   TEXT NOT NULL,
    enabled    INTEGER NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS job_state (
    job_id       TEXT PRIMARY KEY,
    job_name     TEXT NOT NULL,
    -- the latest fire time already accounted for (run, skipped or missed)
    last_fire_at TEXT NOT NULL
);
";

fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

fn parse_ts(s: Option<String>) -> Option<DateTime<Utc>> {
    s.and_then(|s| DateTime::parse_from_rfc3339(&s).ok())
        .map(|t| t.with_timezone(&Utc))
}

/// The synchronous store.
pub struct Store {
    conn: Connection,
}

const COLUMNS: &str =
    "id, job_id, job_name, scheduled_at, started_at, finished_at, status, output, error";

fn row_to_record(row: &rusqlite::Row<'_>) -> rusqlite::Result<RunRecord> {
    let status: String = row.get(6)?;
    Ok(RunRecord {
        id: row.get(0)?,
        job_id: row.get(1)?,
        job_name: row.get(2)?,
        scheduled_at: parse_ts(row.get(3)?),
        started_at: parse_ts(row.get(4)?),
        finished_at: parse_ts(row.get(5)?),
        // An unknown status (written by a newer version) reads as an error.
        status: RunStatus::parse(&status).unwrap_or(RunStatus::Error),
        output: row.get(7)?,
        error: row.get(8)?,
    })
}

impl Store {
    /// Open (creating if needed) read-write, in WAL mode.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|source| StoreError::Dir {
                path: dir.to_path_buf(),
                source,
            })?;
        }
        let open_err = |source| StoreError::Open {
            path: path.to_path_buf(),
            source,
        };
        crate::file_mode::database(path);
        let conn = Connection::open(path).map_err(open_err)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))
            .map_err(open_err)?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(open_err)?;
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(open_err)?;
        // SQLite's default page cache is 2 MiB per connection, as much as the
        // rest of an idle daemon; the history is appended to and read a
        // page or two at a time by index, so a small cache costs nothing.
        conn.pragma_update(None, "cache_size", -CACHE_KIB)
            .map_err(open_err)?;
        let version: i64 = conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .map_err(open_err)?;
        if version < SCHEMA_VERSION {
            conn.execute_batch(SCHEMA).map_err(open_err)?;
            conn.pragma_update(None, "user_version", SCHEMA_VERSION)
                .map_err(open_err)?;
        }
        Ok(Self { conn })
    }

    /// Open an existing database read-only (the CLI while the daemon is stopped).
    pub fn open_read_only(path: &Path) -> Result<Self, StoreError> {
        if !path.exists() {
            return Err(StoreError::Missing(path.to_path_buf()));
        }
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|source| StoreError::Open {
            path: path.to_path_buf(),
            source,
        })?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        Ok(Self { conn })
    }

    /// Run `f` in one write transaction: one commit for several statements
    /// (a run's begin and its anchor, a result and its retention).
    pub fn atomically<R>(
        &mut self,
        f: impl FnOnce(&Self) -> Result<R, StoreError>,
    ) -> Result<R, StoreError> {
        self.conn.execute_batch("BEGIN IMMEDIATE")?;
        match f(self) {
            Ok(r) => {
                self.conn.execute_batch("COMMIT")?;
                Ok(r)
            }
            Err(e) => {
                let _ = self.conn.execute_batch("ROLLBACK");
                Err(e)
            }
        }
    }

    /// Runs left `running` by a previous process become `interrupted`. Call
    /// once at daemon start, before any job runs; returns how many.
    pub fn recover_interrupted(&self, now: DateTime<Utc>) -> Result<usize, StoreError> {
        Ok(self.conn.execute(
            "UPDATE runs SET status = 'interrupted', finished_at = ?1,
                 error = COALESCE(error, 'the daemon stopped during this run')
             WHERE status = 'running'",
            params![ts(now)],
        )?)
    }

    /// Runs of one job left `running` by an actor that is gone (stopped
    /// before it learnt the run's id, or its record write landed after the
    /// stop) become `interrupted`. Only the job's own actor calls this, when
    /// it has no run of its own, so no live run is touched.
    pub fn interrupt_running(
        &self,
        job_id: &str,
        now: DateTime<Utc>,
        note: &str,
    ) -> Result<usize, StoreError> {
        Ok(self.conn.execute(
            "UPDATE runs SET status = 'interrupted', finished_at = ?2, error = COALESCE(error, ?3)
             WHERE job_id = ?1 AND status = 'running'",
            params![job_id, ts(now), note],
        )?)
    }

    /// Record a run as `running` before it starts; returns its id.
    pub fn begin_run(
        &self,
        job_id: &str,
        job_name: &str,
        scheduled_at: Option<DateTime<Utc>>,
        started_at: DateTime<Utc>,
    ) -> Result<i64, StoreError> {
        self.conn.execute(
            "INSERT INTO runs (job_id, job_name, scheduled_at, started_at, status)
             VALUES (?1, ?2, ?3, ?4, 'running')",
            params![job_id, job_name, scheduled_at.map(ts), ts(started_at)],
        )?;
        Ok(self.conn.last_insert_rowid())
    }

    /// Close a run begun with [`Store::begin_run`].
    pub fn finish_run(
        &self,
        run_id: i64,
        finished_at: DateTime<Utc>,
        status: RunStatus,
        output: Option<&str>,
        error: Option<&str>,
        max_output: usize,
    ) -> Result<(), StoreError> {
        self.conn.execute(
            "UPDATE runs SET finished_at = ?2, status = ?3, output = ?4, error = ?5 WHERE id = ?1",
            params![
                run_id,
                ts(finished_at),
                status.as_str(),
                output.map(|o| truncate_output(o, max_output)),
                error
            ],
        )?;
        Ok(())
    }

    /// A run that never started (`skipped`, `missed`).
    pub fn record(
        &self,
        job_id: &str,
        job_name: &str,
        scheduled_at: DateTime<Utc>,
        status: RunStatus,
        error: &str,
        now: DateTime<Utc>,
    ) -> Result<i64, StoreError> {
        self.conn.execute(
            "INSERT INTO runs (job_id, job_name, scheduled_at, finished_at, status, error)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                job_id,
                job_name,
                ts(scheduled_at),
                ts(now),
                status.as_str(),
                error
            ],
        )?;
        Ok(self.conn.last_insert_rowid())
    }

    /// Record missed fire times in one transaction and move the job's anchor
    /// to the last of them.
    pub fn record_missed(
        &mut self,
        job_id: &str,
        job_name: &str,
        times: &[DateTime<Utc>],
        note: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let tx = self.conn.transaction()?;
        for t in times {
            tx.execute(
                "INSERT INTO runs (job_id, job_name, scheduled_at, finished_at, status, error)
                 VALUES (?1, ?2, ?3, ?4, 'missed', ?5)",
                params![job_id, job_name, ts(*t), ts(now), note],
            )?;
        }
        if let Some(last) = times.last() {
            tx.execute(
                "INSERT INTO job_state (job_id, job_name, last_fire_at) VALUES (?1, ?2, ?3)
                 ON CONFLICT(job_id) DO UPDATE SET job_name = ?2,
                     last_fire_at = MAX(last_fire_at, ?3)",
                params![job_id, job_name, ts(*last)],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Keep the newest `keep` finished runs of a job; returns how many went.
    pub fn prune(&self, job_id: &str, keep: usize) -> Result<usize, StoreError> {
        let keep = i64::try_from(keep).unwrap_or(i64::MAX);
        Ok(self.conn.execute(
            "DELETE FROM runs WHERE job_id = ?1 AND status != 'running' AND id NOT IN
               (SELECT id FROM runs WHERE job_id = ?1 ORDER BY id DESC LIMIT ?2)",
            params![job_id, keep],
        )?)
    }

    /// Newest first; `job_id = None` = every job.
    pub fn runs(&self, job_id: Option<&str>, limit: usize) -> Result<Vec<RunRecord>, StoreError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = match job_id {
            Some(id) => {
                let mut st = self.conn.prepare_cached(&format!(
                    "SELECT {COLUMNS} FROM runs WHERE job_id = ?1 ORDER BY id DESC LIMIT ?2"
                ))?;
                st.query_map(params![id, limit], row_to_record)?
                    .collect::<Result<Vec<_>, _>>()?
            }
            None => {
                let mut st = self.conn.prepare_cached(&format!(
                    "SELECT {COLUMNS} FROM runs ORDER BY id DESC LIMIT ?1"
                ))?;
                st.query_map(params![limit], row_to_record)?
                    .collect::<Result<Vec<_>, _>>()?
            }
        };
        Ok(rows)
    }

    pub fn run(&self, run_id: i64) -> Result<Option<RunRecord>, StoreError> {
        Ok(self
            .conn
            .query_row(
                &format!("SELECT {COLUMNS} FROM runs WHERE id = ?1"),
                params![run_id],
                row_to_record,
            )
            .optional()?)
    }

    /// The newest run that is not `running`.
    pub fn last_finished(&self, job_id: &str) -> Result<Option<RunRecord>, StoreError> {
        Ok(self
            .conn
            .query_row(
                &format!(
                    "SELECT {COLUMNS} FROM runs WHERE job_id = ?1 AND status != 'running'
                     ORDER BY id DESC LIMIT 1"
                ),
                params![job_id],
                row_to_record,
            )
            .optional()?)
    }

    /// Consecutive failed runs (error, timeout, interrupted) since the last
    /// `ok`; skipped and missed fire times neither count nor break the streak.
    pub fn failures_in_a_row(&self, job_id: &str) -> Result<u32, StoreError> {
        let mut st = self.conn.prepare_cached(
            "SELECT status FROM runs WHERE job_id = ?1
               AND status IN ('ok', 'error', 'timeout', 'interrupted')
             ORDER BY id DESC LIMIT 1000",
        )?;
        let statuses = st
            .query_map(params![job_id], |r| r.get::<_, String>(0))?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(statuses.iter().take_while(|s| s.as_str() != "ok").count() as u32)
    }

    /// Set (`Some`) or clear (`None`) the operator's enable/disable override.
    pub fn set_override(
        &self,
        job_id: &str,
        job_name: &str,
        enabled: Option<bool>,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        match enabled {
            Some(e) => self.conn.execute(
                "INSERT INTO job_overrides (job_id, job_name, enabled, updated_at)
                 VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT(job_id) DO UPDATE SET job_name = ?2, enabled = ?3, updated_at = ?4",
                params![job_id, job_name, e, ts(now)],
            )?,
            None => self.conn.execute(
                "DELETE FROM job_overrides WHERE job_id = ?1",
                params![job_id],
            )?,
        };
        Ok(())
    }

    pub fn override_for(&self, job_id: &str) -> Result<Option<bool>, StoreError> {
        Ok(self
            .conn
            .query_row(
                "SELECT enabled FROM job_overrides WHERE job_id = ?1",
                params![job_id],
                |r| r.get(0),
            )
            .optional()?)
    }

    /// Every override, by job id.
    pub fn overrides(&self) -> Result<BTreeMap<String, bool>, StoreError> {
        let mut st = self
            .conn
            .prepare_cached("SELECT job_id, enabled FROM job_overrides")?;
        let rows = st
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<Result<BTreeMap<_, _>, _>>()?;
        Ok(rows)
    }

    /// The latest fire time already accounted for; catch-up starts after it.
    pub fn anchor(&self, job_id: &str) -> Result<Option<DateTime<Utc>>, StoreError> {
        let s: Option<String> = self
            .conn
            .query_row(
                "SELECT last_fire_at FROM job_state WHERE job_id = ?1",
                params![job_id],
                |r| r.get(0),
            )
            .optional()?;
        Ok(parse_ts(s))
    }

    /// Move the anchor forward to `at`; it never moves back (a run that
    /// records its begin after a later fire time was already skipped or
    /// recorded missed must not make catch-up count that time again).
    /// Timestamps are fixed-width RFC 3339 UTC, so text order is time order.
    pub fn set_anchor(
        &self,
        job_id: &str,
        job_name: &str,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.conn.execute(
            "INSERT INTO job_state (job_id, job_name, last_fire_at) VALUES (?1, ?2, ?3)
             ON CONFLICT(job_id) DO UPDATE SET job_name = ?2,
                 last_fire_at = MAX(last_fire_at, ?3)",
            params![job_id, job_name, ts(at)],
        )?;
        Ok(())
    }

    /// `PRAGMA integrity_check`: `"ok"` when the file is sound.
    pub fn integrity_check(&self) -> Result<String, StoreError> {
        Ok(self
            .conn
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))?)
    }
}

/// The store as async code holds it: cheap to clone, every call on the
/// blocking pool.
#[derive(Clone)]
pub struct StoreHandle {
    inner: Arc<Mutex<Store>>,
}

impl StoreHandle {
    pub fn new(store: Store) -> Self {
        Self {
            inner: Arc::new(Mutex::new(store)),
        }
    }

    /// Run `f` against the store off the async workers.
    pub async fn call<R, F>(&self, f: F) -> Result<R, StoreError>
    where
        R: Send + 'static,
        F: FnOnce(&mut Store) -> Result<R, StoreError> + Send + 'static,
    {
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || {
            let mut guard = match inner.lock() {
                Ok(g) => g,
                Err(poisoned) => poisoned.into_inner(),
            };
            f(&mut guard)
        })
        .await
        .map_err(|e| StoreError::Task(e.to_string()))?
    }

    /// Synchronous access for code already off the async workers (the CLI, tests).
    pub fn blocking<R>(&self, f: impl FnOnce(&mut Store) -> R) -> R {
        let mut guard = match self.inner.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        };
        f(&mut guard)
    }
}

#[cfg(test)]
#[path = "store_tests.rs"]
mod tests;
