//! The runtime jobs table.

use super::{Db, parse_ts, ts};
use crate::store::{AddJob, RuntimeJobRow, StoreError};
use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, params};

fn row_to_job(row: &rusqlite::Row<'_>) -> rusqlite::Result<RuntimeJobRow> {
    Ok(RuntimeJobRow {
        id: row.get(0)?,
        name: row.get(1)?,
        owner: row.get(2)?,
        spec: row.get(3)?,
        created_at: parse_ts(row.get(4)?).unwrap_or_default(),
        done_at: parse_ts(row.get(5)?),
    })
}

impl Db {
    /// See [`crate::store::JobStore::add_job`].
    pub fn add_job(
        &mut self,
        row: &RuntimeJobRow,
        max_per_owner: Option<usize>,
    ) -> Result<AddJob, StoreError> {
        self.atomically(|db| {
            let taken: Option<String> = db
                .conn
                .prepare_cached("SELECT name FROM runtime_jobs WHERE name = ?1 OR id = ?2")?
                .query_row(params![row.name, row.id], |r| r.get(0))
                .optional()?;
            if let Some(refused) = AddJob::clash(taken.as_deref(), &row.name) {
                return Ok(refused);
            }
            if let (Some(owner), Some(max)) = (&row.owner, max_per_owner) {
                let n: i64 = db
                    .conn
                    .prepare_cached(
                        "SELECT count(*) FROM runtime_jobs WHERE owner = ?1 AND done_at IS NULL",
                    )?
                    .query_row(params![owner], |r| r.get(0))?;
                if usize::try_from(n).unwrap_or(usize::MAX) >= max {
                    return Ok(AddJob::OverQuota);
                }
            }
            db.conn
                .prepare_cached(
                    "INSERT INTO runtime_jobs (id, name, owner, spec, created_at, done_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                )?
                .execute(params![
                    row.id,
                    row.name,
                    row.owner,
                    row.spec,
                    ts(row.created_at),
                    row.done_at.map(ts)
                ])?;
            Ok(AddJob::Added)
        })
    }

    /// Remove a runtime job and its anchor and override (its run history stays).
    pub fn remove_job(&mut self, id: &str) -> Result<bool, StoreError> {
        self.atomically(|db| {
            let n = db
                .conn
                .execute("DELETE FROM runtime_jobs WHERE id = ?1", params![id])?;
            db.conn
                .execute("DELETE FROM job_state WHERE job_id = ?1", params![id])?;
            db.conn
                .execute("DELETE FROM job_overrides WHERE job_id = ?1", params![id])?;
            Ok(n > 0)
        })
    }

    /// Every runtime job, oldest first; none when the table does not exist yet.
    pub fn runtime_jobs(&self) -> Result<Vec<RuntimeJobRow>, StoreError> {
        if !self.has_table("runtime_jobs")? {
            return Ok(Vec::new());
        }
        let mut st = self.conn.prepare_cached(
            "SELECT id, name, owner, spec, created_at, done_at FROM runtime_jobs
             ORDER BY created_at, name",
        )?;
        let rows = st
            .query_map([], row_to_job)?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    }

    pub fn mark_done(&self, id: &str, at: DateTime<Utc>) -> Result<(), StoreError> {
        self.conn.execute(
            "UPDATE runtime_jobs SET done_at = COALESCE(done_at, ?2) WHERE id = ?1",
            params![id, ts(at)],
        )?;
        Ok(())
    }
}
