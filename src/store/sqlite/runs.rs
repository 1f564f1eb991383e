//! The cron tables: run history, enable/disable overrides and each job's
//! anchor (the latest fire time already accounted for).

use super::{Db, parse_ts, ts};
pub use crate::cron::record::{RunRecord, RunStatus, truncate_output};
use crate::store::{JobFacts, JobOpening, Opened, StoreError};
use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, params};
use std::collections::{BTreeMap, HashMap, HashSet};

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

impl Db {
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
        let mut st = self.conn.prepare_cached(
            "UPDATE runs SET status = 'interrupted', finished_at = ?2, error = COALESCE(error, ?3)
             WHERE job_id = ?1 AND status = 'running'",
        )?;
        Ok(st.execute(params![job_id, ts(now), note])?)
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

    /// Close a run begun with [`Db::begin_run`].
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
        self.atomically(|db| {
            for t in times {
                db.conn.execute(
                    "INSERT INTO runs (job_id, job_name, scheduled_at, finished_at, status, error)
                     VALUES (?1, ?2, ?3, ?4, 'missed', ?5)",
                    params![job_id, job_name, ts(*t), ts(now), note],
                )?;
            }
            if let Some(last) = times.last() {
                db.conn.execute(
                    "INSERT INTO job_state (job_id, job_name, last_fire_at) VALUES (?1, ?2, ?3)
                     ON CONFLICT(job_id) DO UPDATE SET job_name = ?2,
                         last_fire_at = MAX(last_fire_at, ?3)",
                    params![job_id, job_name, ts(*last)],
                )?;
            }
            Ok(())
        })
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
        let mut st = self.conn.prepare_cached(&format!(
            "SELECT {COLUMNS} FROM runs WHERE job_id = ?1 AND status != 'running'
             ORDER BY id DESC LIMIT 1"
        ))?;
        Ok(st.query_row(params![job_id], row_to_record).optional()?)
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
        let mut st = self
            .conn
            .prepare_cached("SELECT enabled FROM job_overrides WHERE job_id = ?1")?;
        Ok(st.query_row(params![job_id], |r| r.get(0)).optional()?)
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
        let mut st = self
            .conn
            .prepare_cached("SELECT last_fire_at FROM job_state WHERE job_id = ?1")?;
        let s: Option<String> = st.query_row(params![job_id], |r| r.get(0)).optional()?;
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
        let mut st = self.conn.prepare_cached(
            "INSERT INTO job_state (job_id, job_name, last_fire_at) VALUES (?1, ?2, ?3)
             ON CONFLICT(job_id) DO UPDATE SET job_name = ?2,
                 last_fire_at = MAX(last_fire_at, ?3)",
        )?;
        st.execute(params![job_id, job_name, ts(at)])?;
        Ok(())
    }

    /// A job actor starts (inside the caller's transaction): see
    /// [`crate::store::RunStore::open_job`].
    pub fn open_job(
        &self,
        job_id: &str,
        job_name: &str,
        config_enabled: bool,
        now: DateTime<Utc>,
    ) -> Result<(bool, Option<DateTime<Utc>>), StoreError> {
        // A run of the job's previous start whose record landed after that
        // start's stop.
        self.interrupt_running(job_id, now, crate::store::STOPPED_DURING_RUN)?;
        let job = JobOpening {
            id: job_id.to_string(),
            name: job_name.to_string(),
            config_enabled,
        };
        let (opened, re_anchor) = job.open(self.override_for(job_id)?, self.anchor(job_id)?);
        if re_anchor {
            self.set_anchor(job_id, job_name, now)?;
        }
        Ok(opened)
    }

    /// [`Db::open_job`] for many jobs (inside the caller's transaction): the
    /// overrides, anchors and `running` rows are read once for all of them
    /// rather than once per job.
    pub fn open_jobs(
        &self,
        jobs: &[JobOpening],
        now: DateTime<Utc>,
    ) -> Result<Vec<Opened>, StoreError> {
        let mut st = self
            .conn
            .prepare_cached("SELECT DISTINCT job_id FROM runs WHERE status = 'running'")?;
        let running = st
            .query_map([], |r| r.get::<_, String>(0))?
            .collect::<Result<HashSet<_>, _>>()?;
        let overrides = self.overrides()?;
        let mut st = self
            .conn
            .prepare_cached("SELECT job_id, last_fire_at FROM job_state")?;
        let anchors = st
            .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get(1)?)))?
            .map(|row| row.map(|(id, at)| (id, parse_ts(at))))
            .collect::<Result<HashMap<_, _>, _>>()?;
        jobs.iter()
            .map(|j| {
                if running.contains(&j.id) {
                    self.interrupt_running(&j.id, now, crate::store::STOPPED_DURING_RUN)?;
                }
                let (opened, re_anchor) = j.open(
                    overrides.get(&j.id).copied(),
                    anchors.get(&j.id).copied().flatten(),
                );
                if re_anchor {
                    self.set_anchor(&j.id, &j.name, now)?;
                }
                Ok(opened)
            })
            .collect()
    }

    /// What the views of a job read: override, last finished run, failure
    /// streak and the newest `recent` runs.
    pub fn job_facts(&self, job_id: &str, recent: usize) -> Result<JobFacts, StoreError> {
        Ok(JobFacts {
            over: self.override_for(job_id)?,
            last_run: self.last_finished(job_id)?,
            failures_in_a_row: self.failures_in_a_row(job_id)?,
            recent: if recent > 0 {
                self.runs(Some(job_id), recent)?
            } else {
                Vec::new()
            },
        })
    }
}

#[cfg(test)]
#[path = "runs_tests.rs"]
mod tests;
