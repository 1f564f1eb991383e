//! Cron's run history, overrides and anchors on PostgreSQL, with the fire
//! claims: a scheduled run, a skipped or a missed fire time is written only
//! when this instance claims `(job, scheduled_at)` in its current term.

use super::{PgError, PgStore, to_i64};
use crate::cron::record::{RunRecord, RunStatus, truncate_output};
use crate::store::{Finish, JobFacts, JobOpening, Opened, RunStore, StoreError, StoreFut};
use chrono::{DateTime, Utc};
use std::collections::BTreeMap;
use tokio_postgres::{GenericClient, Row};

const COLUMNS: &str =
    "id, job_id, job_name, scheduled_at, started_at, finished_at, status, output, error";

fn record(row: &Row) -> RunRecord {
    let status: String = row.get(6);
    RunRecord {
        id: row.get(0),
        job_id: row.get(1),
        job_name: row.get(2),
        scheduled_at: row.get(3),
        started_at: row.get(4),
        finished_at: row.get(5),
        // An unknown status (written by a newer version) reads as an error.
        status: RunStatus::parse(&status).unwrap_or(RunStatus::Error),
        output: row.get(7),
        error: row.get(8),
    }
}

impl PgStore {
    /// Claim one fire time for this instance's term; `false` when another
    /// claimed it or this instance does not hold the lease now.
    async fn claim(
        &self,
        c: &impl GenericClient,
        job: &str,
        at: DateTime<Utc>,
    ) -> Result<bool, PgError> {
        let epoch = self.fence.epoch();
        if epoch == 0 {
            return Ok(false);
        }
        let n = c
            .execute(
                "INSERT INTO fires (job_id, scheduled_at, epoch, instance)
                 SELECT $1, $2, $3, $4 FROM lease
                 WHERE id = 1 AND token = $5 AND epoch = $3 AND expires_at > now()
                 ON CONFLICT DO NOTHING",
                &[&job, &at, &epoch, &self.fence.instance, &self.fence.token],
            )
            .await?;
        Ok(n == 1)
    }

    async fn anchor_to(
        c: &impl GenericClient,
        id: &str,
        name: &str,
        at: DateTime<Utc>,
    ) -> Result<(), PgError> {
        c.execute(
            "INSERT INTO job_state (job_id, job_name, last_fire_at) VALUES ($1, $2, $3)
             ON CONFLICT (job_id) DO UPDATE SET job_name = EXCLUDED.job_name,
                 last_fire_at = GREATEST(job_state.last_fire_at, EXCLUDED.last_fire_at)",
            &[&id, &name, &at],
        )
        .await?;
        Ok(())
    }

    async fn prune(c: &impl GenericClient, id: &str, keep: usize) -> Result<(), PgError> {
        c.execute(
            "DELETE FROM runs WHERE job_id = $1 AND status <> 'running' AND id NOT IN
               (SELECT id FROM runs WHERE job_id = $1 ORDER BY id DESC LIMIT $2)",
            &[&id, &to_i64(keep)],
        )
        .await?;
        // Claims older than a day are behind every anchor; keep the table small.
        c.execute(
            "DELETE FROM fires WHERE job_id = $1 AND scheduled_at < now() - interval '1 day'",
            &[&id],
        )
        .await?;
        Ok(())
    }

    async fn insert_unrun(
        &self,
        c: &impl GenericClient,
        (id, name): (&str, &str),
        at: DateTime<Utc>,
        status: RunStatus,
        note: &str,
        now: DateTime<Utc>,
    ) -> Result<(), PgError> {
        c.execute(
            "INSERT INTO runs (job_id, job_name, scheduled_at, finished_at, status, error,
                               instance, epoch)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            &[
                &id,
                &name,
                &at,
                &now,
                &status.as_str(),
                &note,
                &self.fence.instance,
                &self.fence.epoch(),
            ],
        )
        .await?;
        Ok(())
    }

    async fn record_missed_tx(
        &self,
        id: &str,
        name: &str,
        times: &[DateTime<Utc>],
        note: &str,
        now: DateTime<Utc>,
        keep: usize,
    ) -> Result<(), PgError> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let mut last = None;
        for t in times {
            if self.claim(&*tx, id, *t).await? {
                self.insert_unrun(&*tx, (id, name), *t, RunStatus::Missed, note, now)
                    .await?;
                last = Some(*t);
            }
        }
        if let Some(at) = last {
            Self::anchor_to(&*tx, id, name, at).await?;
        }
        Self::prune(&*tx, id, keep).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn record_skipped_tx(
        &self,
        id: &str,
        name: &str,
        at: DateTime<Utc>,
        note: &str,
        now: DateTime<Utc>,
        keep: usize,
    ) -> Result<(), StoreError> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(PgError::from)?;
        if !self.claim(&*tx, id, at).await? {
            return Err(StoreError::NotClaimed {
                job: name.to_string(),
                at,
            });
        }
        Self::anchor_to(&*tx, id, name, at).await?;
        self.insert_unrun(&*tx, (id, name), at, RunStatus::Skipped, note, now)
            .await?;
        Self::prune(&*tx, id, keep).await?;
        tx.commit().await.map_err(PgError::from)?;
        Ok(())
    }

    async fn begin_run_tx(
        &self,
        id: &str,
        name: &str,
        scheduled_at: Option<DateTime<Utc>>,
        started_at: DateTime<Utc>,
    ) -> Result<i64, StoreError> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(PgError::from)?;
        if let Some(at) = scheduled_at {
            if !self.claim(&*tx, id, at).await? {
                return Err(StoreError::NotClaimed {
                    job: name.to_string(),
                    at,
                });
            }
            Self::anchor_to(&*tx, id, name, at).await?;
        }
        let row = tx
            .query_one(
                "INSERT INTO runs (job_id, job_name, scheduled_at, started_at, status,
                                   instance, epoch)
                 VALUES ($1, $2, $3, $4, 'running', $5, $6) RETURNING id",
                &[
                    &id,
                    &name,
                    &scheduled_at,
                    &started_at,
                    &self.fence.instance,
                    &self.fence.epoch(),
                ],
            )
            .await
            .map_err(PgError::from)?;
        tx.commit().await.map_err(PgError::from)?;
        Ok(row.get(0))
    }

    async fn finish_tx(&self, f: &Finish) -> Result<Option<RunRecord>, PgError> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        Self::finish(
            &*tx,
            f.run_id,
            f.at,
            f.status,
            f.output.as_deref(),
            f.error.as_deref(),
            f.max_output,
        )
        .await?;
        Self::prune(&*tx, &f.job_id, f.keep).await?;
        let row = tx
            .query_opt(
                &format!("SELECT {COLUMNS} FROM runs WHERE id = $1"),
                &[&f.run_id],
            )
            .await?;
        tx.commit().await?;
        Ok(row.as_ref().map(record))
    }

    /// The job's `running` rows become `interrupted`: its actor stopped
    /// during the run, maybe before it learnt the run's id.
    async fn interrupt_running(
        c: &impl GenericClient,
        job_id: &str,
        now: DateTime<Utc>,
    ) -> Result<(), PgError> {
        c.execute(
            "UPDATE runs SET status = 'interrupted', finished_at = $2, error = COALESCE(error, $3)
             WHERE job_id = $1 AND status = 'running'",
            &[&job_id, &now, &crate::store::STOPPED_DURING_RUN],
        )
        .await?;
        Ok(())
    }

    async fn finish(
        c: &impl GenericClient,
        run_id: i64,
        at: DateTime<Utc>,
        status: RunStatus,
        output: Option<&str>,
        error: Option<&str>,
        max_output: usize,
    ) -> Result<(), PgError> {
        let output = output.map(|o| truncate_output(o, max_output));
        c.execute(
            "UPDATE runs SET finished_at = $2, status = $3, output = $4, error = $5 WHERE id = $1",
            &[&run_id, &at, &status.as_str(), &output, &error],
        )
        .await?;
        Ok(())
    }

    async fn job_facts_one(&self, id: &str, recent: usize) -> Result<JobFacts, PgError> {
        let c = self.client().await?;
        let over = c
            .query_opt(
                "SELECT enabled FROM job_overrides WHERE job_id = $1",
                &[&id],
            )
            .await?
            .map(|r| r.get(0));
        let last_run = c
            .query_opt(
                &format!(
                    "SELECT {COLUMNS} FROM runs WHERE job_id = $1 AND status <> 'running'
                     ORDER BY id DESC LIMIT 1"
                ),
                &[&id],
            )
            .await?
            .as_ref()
            .map(record);
        let statuses = c
            .query(
                "SELECT status FROM runs WHERE job_id = $1
                   AND status IN ('ok', 'error', 'timeout', 'interrupted')
                 ORDER BY id DESC LIMIT 1000",
                &[&id],
            )
            .await?;
        let failures = statuses
            .iter()
            .take_while(|r| r.get::<_, &str>(0) != "ok")
            .count();
        let recent = match recent {
            0 => Vec::new(),
            n => self.runs_of(Some(id), n).await?,
        };
        Ok(JobFacts {
            over,
            last_run,
            failures_in_a_row: u32::try_from(failures).unwrap_or(u32::MAX),
            recent,
        })
    }

    async fn runs_of(&self, job: Option<&str>, limit: usize) -> Result<Vec<RunRecord>, PgError> {
        let c = self.client().await?;
        let rows = match job {
            Some(id) => {
                c.query(
                    &format!(
                        "SELECT {COLUMNS} FROM runs WHERE job_id = $1 ORDER BY id DESC LIMIT $2"
                    ),
                    &[&id, &to_i64(limit)],
                )
                .await?
            }
            None => {
                c.query(
                    &format!("SELECT {COLUMNS} FROM runs ORDER BY id DESC LIMIT $1"),
                    &[&to_i64(limit)],
                )
                .await?
            }
        };
        Ok(rows.iter().map(record).collect())
    }

    /// Runs left `running` by an instance that no longer leads (it died or
    /// was fenced out) become `interrupted`; called by a new leader.
    pub async fn interrupt_older_terms(
        &self,
        epoch: i64,
        now: DateTime<Utc>,
    ) -> Result<u64, PgError> {
        let c = self.client().await?;
        Ok(c.execute(
            "UPDATE runs SET status = 'interrupted', finished_at = $1,
                 error = COALESCE(error, 'the instance leading during this run stopped leading')
             WHERE status = 'running' AND epoch IS NOT NULL AND epoch < $2
               AND instance <> $3",
            &[&now, &epoch, &self.fence.instance],
        )
        .await?)
    }
}

fn boxed<'a, T: Send + 'a>(
    f: impl std::future::Future<Output = Result<T, PgError>> + Send + 'a,
) -> StoreFut<'a, T> {
    Box::pin(async move { f.await.map_err(StoreError::from) })
}

impl RunStore for PgStore {
    fn recover_interrupted(&self, now: DateTime<Utc>) -> StoreFut<'_, usize> {
        boxed(async move {
            let c = self.client().await?;
            let n = c
                .execute(
                    "UPDATE runs SET status = 'interrupted', finished_at = $1,
                         error = COALESCE(error, 'the daemon stopped during this run')
                     WHERE status = 'running' AND (instance = $2 OR instance IS NULL)",
                    &[&now, &self.fence.instance],
                )
                .await?;
            Ok(usize::try_from(n).unwrap_or(usize::MAX))
        })
    }

    fn open_job(
        &self,
        id: String,
        name: String,
        config_enabled: bool,
        now: DateTime<Utc>,
    ) -> StoreFut<'_, (bool, Option<DateTime<Utc>>)> {
        boxed(async move {
            let job = JobOpening {
                id,
                name,
                config_enabled,
            };
            let opened = self.open_jobs_tx(std::slice::from_ref(&job), now).await?;
            Ok(opened.into_iter().next().unwrap_or((config_enabled, None)))
        })
    }

    fn open_jobs(&self, jobs: Vec<JobOpening>, now: DateTime<Utc>) -> StoreFut<'_, Vec<Opened>> {
        boxed(async move { self.open_jobs_tx(&jobs, now).await })
    }

    fn record_missed(
        &self,
        id: String,
        name: String,
        times: Vec<DateTime<Utc>>,
        note: String,
        now: DateTime<Utc>,
        keep: usize,
    ) -> StoreFut<'_, ()> {
        boxed(async move {
            self.record_missed_tx(&id, &name, &times, &note, now, keep)
                .await
        })
    }

    fn record_skipped(
        &self,
        id: String,
        name: String,
        scheduled: DateTime<Utc>,
        note: String,
        now: DateTime<Utc>,
        keep: usize,
    ) -> StoreFut<'_, ()> {
        Box::pin(async move {
            self.record_skipped_tx(&id, &name, scheduled, &note, now, keep)
                .await
        })
    }

    fn begin_run(
        &self,
        id: String,
        name: String,
        scheduled_at: Option<DateTime<Utc>>,
        started_at: DateTime<Utc>,
    ) -> StoreFut<'_, i64> {
        Box::pin(async move {
            self.begin_run_tx(&id, &name, scheduled_at, started_at)
                .await
        })
    }

    fn finish_run(&self, f: Finish) -> StoreFut<'_, Option<RunRecord>> {
        boxed(async move { self.finish_tx(&f).await })
    }

    fn close_job(
        &self,
        id: String,
        name: String,
        interrupted: bool,
        re_anchor: bool,
        now: DateTime<Utc>,
    ) -> StoreFut<'_, ()> {
        boxed(async move {
            let c = self.client().await?;
            if interrupted {
                Self::interrupt_running(&**c, &id, now).await?;
            }
            if re_anchor {
                Self::anchor_to(&**c, &id, &name, now).await?;
            }
            Ok(())
        })
    }

    fn set_anchor(&self, id: String, name: String, at: DateTime<Utc>) -> StoreFut<'_, ()> {
        boxed(async move {
            let c = self.client().await?;
            Self::anchor_to(&**c, &id, &name, at).await
        })
    }

    fn override_for(&self, id: String) -> StoreFut<'_, Option<bool>> {
        boxed(async move {
            let c = self.client().await?;
            Ok(c.query_opt(
                "SELECT enabled FROM job_overrides WHERE job_id = $1",
                &[&id],
            )
            .await?
            .map(|r| r.get(0)))
        })
    }

    fn set_override(
        &self,
        id: String,
        name: String,
        enabled: Option<bool>,
        now: DateTime<Utc>,
    ) -> StoreFut<'_, ()> {
        boxed(async move {
            let c = self.client().await?;
            match enabled {
                Some(e) => {
                    c.execute(
                        "INSERT INTO job_overrides (job_id, job_name, enabled, updated_at)
                         VALUES ($1, $2, $3, $4)
                         ON CONFLICT (job_id) DO UPDATE SET job_name = EXCLUDED.job_name,
                             enabled = EXCLUDED.enabled, updated_at = EXCLUDED.updated_at",
                        &[&id, &name, &e, &now],
                    )
                    .await?
                }
                None => {
                    c.execute("DELETE FROM job_overrides WHERE job_id = $1", &[&id])
                        .await?
                }
            };
            Ok(())
        })
    }

    fn overrides(&self) -> StoreFut<'_, BTreeMap<String, bool>> {
        boxed(async move {
            let c = self.client().await?;
            let rows = c
                .query("SELECT job_id, enabled FROM job_overrides", &[])
                .await?;
            Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
        })
    }

    fn job_facts(&self, ids: Vec<String>, recent: usize) -> StoreFut<'_, Vec<JobFacts>> {
        boxed(async move {
            let mut out = Vec::with_capacity(ids.len());
            for id in &ids {
                out.push(self.job_facts_one(id, recent).await?);
            }
            Ok(out)
        })
    }

    fn runs(&self, job_id: Option<String>, limit: usize) -> StoreFut<'_, Vec<RunRecord>> {
        boxed(async move { self.runs_of(job_id.as_deref(), limit).await })
    }
}
