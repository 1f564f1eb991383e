//! Runtime jobs, conversation memory and channel state on PostgreSQL.

use super::{PgError, PgStore, to_i64};
use crate::store::{
    AddJob, ChannelStore, Claim, JobStore, MemoryStore, MemoryTurn, RuntimeJobRow, SessionInfo,
    StoreError, StoreFut,
};
use chrono::{DateTime, Utc};

fn boxed<'a, T: Send + 'a>(
    f: impl std::future::Future<Output = Result<T, PgError>> + Send + 'a,
) -> StoreFut<'a, T> {
    Box::pin(async move { f.await.map_err(StoreError::from) })
}

impl PgStore {
    async fn add_job_tx(&self, row: &RuntimeJobRow, max: Option<usize>) -> Result<AddJob, PgError> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        // Serialise adds: the quota check and the insert must see each other.
        tx.execute("LOCK TABLE runtime_jobs IN SHARE ROW EXCLUSIVE MODE", &[])
            .await?;
        let taken = tx
            .query_opt(
                "SELECT name FROM runtime_jobs WHERE name = $1 OR id = $2",
                &[&row.name, &row.id],
            )
            .await?;
        let found = taken.map(|r| r.get::<_, String>(0));
        if let Some(refused) = AddJob::clash(found.as_deref(), &row.name) {
            return Ok(refused);
        }
        if let (Some(owner), Some(max)) = (&row.owner, max) {
            let n: i64 = tx
                .query_one(
                    "SELECT count(*) FROM runtime_jobs WHERE owner = $1 AND done_at IS NULL",
                    &[owner],
                )
                .await?
                .get(0);
            if n >= to_i64(max) {
                return Ok(AddJob::OverQuota);
            }
        }
        tx.execute(
            "INSERT INTO runtime_jobs (id, name, owner, spec, created_at, done_at)
             VALUES ($1, $2, $3, $4, $5, $6)",
            &[
                &row.id,
                &row.name,
                &row.owner,
                &row.spec,
                &row.created_at,
                &row.done_at,
            ],
        )
        .await?;
        tx.commit().await?;
        Ok(AddJob::Added)
    }

    async fn remove_job_tx(&self, id: &str) -> Result<bool, PgError> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let n = tx
            .execute("DELETE FROM runtime_jobs WHERE id = $1", &[&id])
            .await?;
        tx.execute("DELETE FROM job_state WHERE job_id = $1", &[&id])
            .await?;
        tx.execute("DELETE FROM job_overrides WHERE job_id = $1", &[&id])
            .await?;
        tx.commit().await?;
        Ok(n > 0)
    }

    /// The SQLite store's two statements (`Db::append_memory`), in one
    /// transaction.
    async fn append_memory_tx(
        &self,
        session: &str,
        turn: &MemoryTurn,
        keep: usize,
    ) -> Result<(), PgError> {
        let now = Utc::now();
        let keep = i64::try_from(keep).unwrap_or(i64::MAX);
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        tx.execute(
            "INSERT INTO memory (session, seq, user_text, reply_text, updated_at)
             VALUES ($1, (SELECT coalesce(max(seq) + 1, 0) FROM memory WHERE session = $1),
                     $2, $3, $4)",
            &[&session, &turn.user, &turn.assistant, &now],
        )
        .await?;
        tx.execute(
            "DELETE FROM memory WHERE session = $1 AND seq <=
               (SELECT seq FROM memory WHERE session = $1 ORDER BY seq DESC LIMIT 1 OFFSET $2)",
            &[&session, &keep],
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn remember_event_tx(
        &self,
        channel: &str,
        id: &str,
        keep: usize,
    ) -> Result<bool, PgError> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let n = tx
            .execute(
                "INSERT INTO channel_events (channel, event_id) VALUES ($1, $2)
                 ON CONFLICT DO NOTHING",
                &[&channel, &id],
            )
            .await?;
        if n > 0 {
            tx.execute(
                "DELETE FROM channel_events WHERE channel = $1 AND seq NOT IN
                   (SELECT seq FROM channel_events WHERE channel = $1
                    ORDER BY seq DESC LIMIT $2)",
                &[&channel, &to_i64(keep)],
            )
            .await?;
        }
        tx.commit().await?;
        Ok(n > 0)
    }
}

impl JobStore for PgStore {
    fn add_job(&self, row: RuntimeJobRow, max_per_owner: Option<usize>) -> StoreFut<'_, AddJob> {
        boxed(async move { self.add_job_tx(&row, max_per_owner).await })
    }

    fn remove_job(&self, id: String) -> StoreFut<'_, bool> {
        boxed(async move { self.remove_job_tx(&id).await })
    }

    fn runtime_jobs(&self) -> StoreFut<'_, Vec<RuntimeJobRow>> {
        boxed(async move {
            let c = self.client().await?;
            let rows = c
                .query(
                    "SELECT id, name, owner, spec, created_at, done_at FROM runtime_jobs
                     ORDER BY created_at, name",
                    &[],
                )
                .await?;
            Ok(rows
                .iter()
                .map(|r| RuntimeJobRow {
                    id: r.get(0),
                    name: r.get(1),
                    owner: r.get(2),
                    spec: r.get(3),
                    created_at: r.get(4),
                    done_at: r.get(5),
                })
                .collect())
        })
    }

    fn mark_done(&self, id: String, at: DateTime<Utc>) -> StoreFut<'_, ()> {
        boxed(async move {
            let c = self.client().await?;
            c.execute(
                "UPDATE runtime_jobs SET done_at = COALESCE(done_at, $2) WHERE id = $1",
                &[&id, &at],
            )
            .await?;
            Ok(())
        })
    }
}

impl MemoryStore for PgStore {
    fn load_memory(&self, session: String) -> StoreFut<'_, Vec<MemoryTurn>> {
        boxed(async move {
            let c = self.client().await?;
            let rows = c
                .query(
                    "SELECT user_text, reply_text FROM memory WHERE session = $1 ORDER BY seq",
                    &[&session],
                )
                .await?;
            Ok(rows
                .iter()
                .map(|r| MemoryTurn {
                    user: r.get(0),
                    assistant: r.get(1),
                })
                .collect())
        })
    }

    fn append_memory(&self, session: String, turn: MemoryTurn, keep: usize) -> StoreFut<'_, ()> {
        boxed(async move { self.append_memory_tx(&session, &turn, keep).await })
    }

    fn memory_sessions(&self) -> StoreFut<'_, Vec<SessionInfo>> {
        boxed(async move {
            let c = self.client().await?;
            let rows = c
                .query(
                    "SELECT session, count(*),
                            sum(length(user_text) + length(reply_text))::BIGINT, max(updated_at)
                     FROM memory GROUP BY session ORDER BY session",
                    &[],
                )
                .await?;
            Ok(rows
                .iter()
                .map(|r| SessionInfo {
                    session: r.get(0),
                    turns: usize::try_from(r.get::<_, i64>(1)).unwrap_or(0),
                    chars: usize::try_from(r.get::<_, Option<i64>>(2).unwrap_or(0)).unwrap_or(0),
                    updated_at: r.get(3),
                })
                .collect())
        })
    }

    fn clear_memory(&self, session: String) -> StoreFut<'_, bool> {
        boxed(async move {
            let c = self.client().await?;
            let n = c
                .execute("DELETE FROM memory WHERE session = $1", &[&session])
                .await?;
            Ok(n > 0)
        })
    }
}

impl ChannelStore for PgStore {
    fn channel_offset(&self, key: String) -> StoreFut<'_, Option<i64>> {
        boxed(async move {
            let c = self.client().await?;
            Ok(c.query_opt(
                "SELECT position FROM channel_offsets WHERE key = $1",
                &[&key],
            )
            .await?
            .map(|r| r.get(0)))
        })
    }

    fn set_channel_offset(&self, key: String, offset: i64) -> StoreFut<'_, ()> {
        boxed(async move {
            let c = self.client().await?;
            c.execute(
                "INSERT INTO channel_offsets (key, position) VALUES ($1, $2)
                 ON CONFLICT (key) DO UPDATE SET position = EXCLUDED.position",
                &[&key, &offset],
            )
            .await?;
            Ok(())
        })
    }

    fn remember_event(&self, channel: String, id: String, keep: usize) -> StoreFut<'_, bool> {
        boxed(async move { self.remember_event_tx(&channel, &id, keep).await })
    }

    fn claim_update(&self, channel: String, id: i64) -> StoreFut<'_, Claim> {
        boxed(async move { self.claim_update_tx(&channel, id).await })
    }

    fn deliver_update(&self, channel: String, id: i64) -> StoreFut<'_, bool> {
        boxed(async move { self.deliver_update_tx(&channel, id).await })
    }
}
