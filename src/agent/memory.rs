//! A session's history as the agent holds it: read from the state store at
//! the session's first message after a start (or a reload, which rebuilds
//! the agent), written back after each finished turn, so a conversation
//! survives `zeroclaw stop`, a reload and `kill -9`.
//!
//! Cron sessions (`cron:<job id>`) are not persisted: a job's runs are not a
//! conversation the operator expects to resume. A store failure is logged
//! and the answer still goes out; memory is then only in the process.

use super::history::History;
use crate::store::{MemoryTurn, Store};

/// One session's history and whether the store has been read for it.
#[derive(Debug, Default)]
pub struct Session {
    pub history: History,
    loaded: bool,
}

/// Whether `key` is a session whose memory is kept in the store.
pub fn persisted(key: &str) -> bool {
    !key.starts_with("cron:")
}

impl Session {
    /// Read the stored turns once per process (no-op without a store).
    pub async fn load(&mut self, store: Option<&dyn Store>, key: &str, bounds: (usize, usize)) {
        if self.loaded {
            return;
        }
        self.loaded = true;
        let Some(store) = store.filter(|_| persisted(key)) else {
            return;
        };
        match store.load_memory(key.to_string()).await {
            Ok(turns) => {
                let mut history = History::default();
                for turn in turns {
                    history.push(turn, bounds.0, bounds.1);
                }
                self.history = history;
            }
            Err(e) => {
                tracing::error!(session = %key, error = %e, "cannot read the session's memory; starting without it")
            }
        }
    }

    /// Add a finished turn to the history and to the store, which then
    /// keeps as many of the newest turns as the bounds left in the history.
    pub async fn record(
        &mut self,
        turn: MemoryTurn,
        bounds: (usize, usize),
        store: Option<&dyn Store>,
        key: &str,
    ) {
        self.history.push(turn.clone(), bounds.0, bounds.1);
        let Some(store) = store.filter(|_| persisted(key)) else {
            return;
        };
        let keep = self.history.len();
        if let Err(e) = store.append_memory(key.to_string(), turn, keep).await {
            tracing::error!(session = %key, error = %e, "cannot save the session's memory");
        }
    }
}
