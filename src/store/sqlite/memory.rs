//! Conversation memory and channel state.

use super::{Db, parse_ts, ts};
use crate::store::{MemoryTurn, SessionInfo, StoreError};
use chrono::Utc;
use rusqlite::{OptionalExtension, params};

impl Db {
    pub fn load_memory(&self, session: &str) -> Result<Vec<MemoryTurn>, StoreError> {
        if !self.has_table("memory")? {
            return Ok(Vec::new());
        }
        let mut st = self.conn.prepare_cached(
            "SELECT user_text, reply_text FROM memory WHERE session = ?1 ORDER BY seq",
        )?;
        let rows = st
            .query_map(params![session], |r| {
                Ok(MemoryTurn {
                    user: r.get(0)?,
                    assistant: r.get(1)?,
                })
            })?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    }

    /// Append `turn` after the session's newest and drop all but the newest
    /// `keep`, in one transaction: two statements on the primary key.
    pub fn append_memory(
        &mut self,
        session: &str,
        turn: &MemoryTurn,
        keep: usize,
    ) -> Result<(), StoreError> {
        let now = ts(Utc::now());
        let keep = i64::try_from(keep).unwrap_or(i64::MAX);
        self.atomically(|db| {
            db.conn
                .prepare_cached(
                    "INSERT INTO memory (session, seq, user_text, reply_text, updated_at)
                     VALUES (?1, (SELECT coalesce(max(seq) + 1, 0) FROM memory WHERE session = ?1),
                             ?2, ?3, ?4)",
                )?
                .execute(params![session, turn.user, turn.assistant, now])?;
            // The (keep + 1)-th newest turn and every older one go; with
            // fewer turns than that the bound is NULL and nothing goes.
            db.conn
                .prepare_cached(
                    "DELETE FROM memory WHERE session = ?1 AND seq <=
                       (SELECT seq FROM memory WHERE session = ?1
                        ORDER BY seq DESC LIMIT 1 OFFSET ?2)",
                )?
                .execute(params![session, keep])?;
            Ok(())
        })
    }

    pub fn memory_sessions(&self) -> Result<Vec<SessionInfo>, StoreError> {
        if !self.has_table("memory")? {
            return Ok(Vec::new());
        }
        let mut st = self.conn.prepare_cached(
            "SELECT session, count(*),
                    sum(length(user_text) + length(reply_text)), max(updated_at)
             FROM memory GROUP BY session ORDER BY session",
        )?;
        let rows = st
            .query_map([], |r| {
                let turns: i64 = r.get(1)?;
                let chars: i64 = r.get(2)?;
                Ok(SessionInfo {
                    session: r.get(0)?,
                    turns: usize::try_from(turns).unwrap_or(0),
                    chars: usize::try_from(chars).unwrap_or(0),
                    updated_at: parse_ts(r.get(3)?),
                })
            })?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    }

    pub fn clear_memory(&self, session: &str) -> Result<bool, StoreError> {
        let n = self
            .conn
            .execute("DELETE FROM memory WHERE session = ?1", params![session])?;
        Ok(n > 0)
    }

    pub fn channel_offset(&self, key: &str) -> Result<Option<i64>, StoreError> {
        Ok(self
            .conn
            .query_row(
                "SELECT offset FROM channel_offsets WHERE key = ?1",
                params![key],
                |r| r.get(0),
            )
            .optional()?)
    }

    pub fn set_channel_offset(&self, key: &str, offset: i64) -> Result<(), StoreError> {
        self.conn.execute(
            "INSERT INTO channel_offsets (key, offset) VALUES (?1, ?2)
             ON CONFLICT(key) DO UPDATE SET offset = ?2",
            params![key, offset],
        )?;
        Ok(())
    }

    /// Remember an event id (`true` = new), keeping the newest `keep` per channel.
    pub fn remember_event(
        &mut self,
        channel: &str,
        id: &str,
        keep: usize,
    ) -> Result<bool, StoreError> {
        let keep = i64::try_from(keep).unwrap_or(i64::MAX);
        self.atomically(|db| {
            let n = db.conn.execute(
                "INSERT OR IGNORE INTO channel_events (channel, event_id) VALUES (?1, ?2)",
                params![channel, id],
            )?;
            if n > 0 {
                db.conn.execute(
                    "DELETE FROM channel_events WHERE channel = ?1 AND seq NOT IN
                       (SELECT seq FROM channel_events WHERE channel = ?1
                        ORDER BY seq DESC LIMIT ?2)",
                    params![channel, keep],
                )?;
            }
            Ok(n > 0)
        })
    }
}
