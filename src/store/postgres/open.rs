//! Opening many jobs at once (the daemon's start): the same steps as one
//! job's opening, as set statements over all of them in one transaction.

use super::{PgError, PgStore};
use crate::store::{JobOpening, Opened};
use chrono::{DateTime, Utc};
use std::collections::HashMap;

impl PgStore {
    /// See [`crate::store::RunStore::open_jobs`].
    pub(super) async fn open_jobs_tx(
        &self,
        jobs: &[JobOpening],
        now: DateTime<Utc>,
    ) -> Result<Vec<Opened>, PgError> {
        let ids: Vec<&str> = jobs.iter().map(|j| j.id.as_str()).collect();
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        // Runs of the jobs' previous starts whose records landed after those
        // starts' stops.
        tx.execute(
            "UPDATE runs SET status = 'interrupted', finished_at = $2, error = COALESCE(error, $3)
             WHERE job_id = ANY($1) AND status = 'running'",
            &[&ids, &now, &crate::store::STOPPED_DURING_RUN],
        )
        .await?;
        let overrides: HashMap<String, bool> = tx
            .query(
                "SELECT job_id, enabled FROM job_overrides WHERE job_id = ANY($1)",
                &[&ids],
            )
            .await?
            .iter()
            .map(|r| (r.get(0), r.get(1)))
            .collect();
        let anchors: HashMap<String, DateTime<Utc>> = tx
            .query(
                "SELECT job_id, last_fire_at FROM job_state WHERE job_id = ANY($1)",
                &[&ids],
            )
            .await?
            .iter()
            .map(|r| (r.get(0), r.get(1)))
            .collect();
        let (opened, re_anchor): (Vec<Opened>, Vec<bool>) = jobs
            .iter()
            .map(|j| j.open(overrides.get(&j.id).copied(), anchors.get(&j.id).copied()))
            .unzip();
        let (to_id, to_name): (Vec<&str>, Vec<&str>) = jobs
            .iter()
            .zip(&re_anchor)
            .filter(|(_, re_anchor)| **re_anchor)
            .map(|(j, _)| (j.id.as_str(), j.name.as_str()))
            .unzip();
        tx.execute(
            "INSERT INTO job_state (job_id, job_name, last_fire_at)
             SELECT id, name, $3 FROM UNNEST($1::text[], $2::text[]) AS t(id, name)
             ON CONFLICT (job_id) DO UPDATE SET job_name = EXCLUDED.job_name,
                 last_fire_at = GREATEST(job_state.last_fire_at, EXCLUDED.last_fire_at)",
            &[&to_id, &to_name, &now],
        )
        .await?;
        tx.commit().await?;
        Ok(opened)
    }
}
