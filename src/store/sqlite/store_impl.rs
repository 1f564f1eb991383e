//! [`SqliteStore`] behind the store interface: each method one transaction,
//! run on the database thread.

use super::SqliteStore;
use crate::cron::record::{RunRecord, RunStatus};
use crate::store::{
    AddJob, ChannelStore, Claim, Finish, JobFacts, JobOpening, JobStore, MemoryStore, MemoryTurn,
    Opened, RunStore, RuntimeJobRow, SessionInfo, StoreFut,
};
use chrono::{DateTime, Utc};
use std::collections::BTreeMap;

impl RunStore for SqliteStore {
    fn recover_interrupted(&self, now: DateTime<Utc>) -> StoreFut<'_, usize> {
        Box::pin(self.call(move |db| db.recover_interrupted(now)))
    }

    fn open_job(
        &self,
        id: String,
        name: String,
        config_enabled: bool,
        now: DateTime<Utc>,
    ) -> StoreFut<'_, Opened> {
        Box::pin(
            self.call(move |db| db.atomically(|db| db.open_job(&id, &name, config_enabled, now))),
        )
    }

    fn open_jobs(&self, jobs: Vec<JobOpening>, now: DateTime<Utc>) -> StoreFut<'_, Vec<Opened>> {
        Box::pin(self.call(move |db| db.atomically(|db| db.open_jobs(&jobs, now))))
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
        Box::pin(self.call(move |db| {
            db.record_missed(&id, &name, &times, &note, now)?;
            db.prune(&id, keep).map(drop)
        }))
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
        Box::pin(self.call(move |db| {
            db.atomically(|db| {
                db.set_anchor(&id, &name, scheduled)?;
                db.record(&id, &name, scheduled, RunStatus::Skipped, &note, now)?;
                db.prune(&id, keep).map(drop)
            })
        }))
    }

    fn begin_run(
        &self,
        id: String,
        name: String,
        scheduled_at: Option<DateTime<Utc>>,
        started_at: DateTime<Utc>,
    ) -> StoreFut<'_, i64> {
        Box::pin(self.call(move |db| {
            db.atomically(|db| {
                if let Some(at) = scheduled_at {
                    db.set_anchor(&id, &name, at)?;
                }
                db.begin_run(&id, &name, scheduled_at, started_at)
            })
        }))
    }

    fn finish_run(&self, f: Finish) -> StoreFut<'_, Option<RunRecord>> {
        Box::pin(self.call(move |db| {
            db.atomically(|db| {
                db.finish_run(
                    f.run_id,
                    f.at,
                    f.status,
                    f.output.as_deref(),
                    f.error.as_deref(),
                    f.max_output,
                )?;
                db.prune(&f.job_id, f.keep)?;
                db.run(f.run_id)
            })
        }))
    }

    fn close_job(
        &self,
        id: String,
        name: String,
        interrupted: bool,
        re_anchor: bool,
        now: DateTime<Utc>,
    ) -> StoreFut<'_, ()> {
        Box::pin(self.call(move |db| {
            if interrupted {
                db.interrupt_running(&id, now, crate::store::STOPPED_DURING_RUN)?;
            }
            if re_anchor {
                db.set_anchor(&id, &name, now)?;
            }
            Ok(())
        }))
    }

    fn set_anchor(&self, id: String, name: String, at: DateTime<Utc>) -> StoreFut<'_, ()> {
        Box::pin(self.call(move |db| db.set_anchor(&id, &name, at)))
    }

    fn override_for(&self, id: String) -> StoreFut<'_, Option<bool>> {
        Box::pin(self.call(move |db| db.override_for(&id)))
    }

    fn set_override(
        &self,
        id: String,
        name: String,
        enabled: Option<bool>,
        now: DateTime<Utc>,
    ) -> StoreFut<'_, ()> {
        Box::pin(self.call(move |db| db.set_override(&id, &name, enabled, now)))
    }

    fn overrides(&self) -> StoreFut<'_, BTreeMap<String, bool>> {
        Box::pin(self.call(|db| db.overrides()))
    }

    fn job_facts(&self, ids: Vec<String>, recent: usize) -> StoreFut<'_, Vec<JobFacts>> {
        Box::pin(self.call(move |db| {
            db.reading(|db| ids.iter().map(|id| db.job_facts(id, recent)).collect())
        }))
    }

    fn runs(&self, job_id: Option<String>, limit: usize) -> StoreFut<'_, Vec<RunRecord>> {
        Box::pin(self.call(move |db| db.runs(job_id.as_deref(), limit)))
    }
}

impl JobStore for SqliteStore {
    fn add_job(&self, row: RuntimeJobRow, max_per_owner: Option<usize>) -> StoreFut<'_, AddJob> {
        Box::pin(self.call(move |db| db.add_job(&row, max_per_owner)))
    }

    fn remove_job(&self, id: String) -> StoreFut<'_, bool> {
        Box::pin(self.call(move |db| db.remove_job(&id)))
    }

    fn runtime_jobs(&self) -> StoreFut<'_, Vec<RuntimeJobRow>> {
        Box::pin(self.call(|db| db.runtime_jobs()))
    }

    fn mark_done(&self, id: String, at: DateTime<Utc>) -> StoreFut<'_, ()> {
        Box::pin(self.call(move |db| db.mark_done(&id, at)))
    }
}

impl MemoryStore for SqliteStore {
    fn load_memory(&self, session: String) -> StoreFut<'_, Vec<MemoryTurn>> {
        Box::pin(self.call(move |db| db.load_memory(&session)))
    }

    fn append_memory(&self, session: String, turn: MemoryTurn, keep: usize) -> StoreFut<'_, ()> {
        Box::pin(self.call(move |db| db.append_memory(&session, &turn, keep)))
    }

    fn memory_sessions(&self) -> StoreFut<'_, Vec<SessionInfo>> {
        Box::pin(self.call(|db| db.memory_sessions()))
    }

    fn clear_memory(&self, session: String) -> StoreFut<'_, bool> {
        Box::pin(self.call(move |db| db.clear_memory(&session)))
    }
}

impl ChannelStore for SqliteStore {
    fn channel_offset(&self, key: String) -> StoreFut<'_, Option<i64>> {
        Box::pin(self.call(move |db| db.channel_offset(&key)))
    }

    fn set_channel_offset(&self, key: String, offset: i64) -> StoreFut<'_, ()> {
        Box::pin(self.call(move |db| db.set_channel_offset(&key, offset)))
    }

    fn remember_event(&self, channel: String, id: String, keep: usize) -> StoreFut<'_, bool> {
        Box::pin(self.call(move |db| db.remember_event(&channel, &id, keep)))
    }

    /// One instance leads alone: its offset is what keeps an update from
    /// being answered twice.
    fn claim_update(&self, _channel: String, _id: i64) -> StoreFut<'_, Claim> {
        Box::pin(std::future::ready(Ok(Claim::Mine)))
    }

    fn deliver_update(&self, _channel: String, _id: i64) -> StoreFut<'_, bool> {
        Box::pin(std::future::ready(Ok(true)))
    }
}
