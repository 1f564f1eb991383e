//! `memory.list`, `memory.show` and `memory.clear` of the control socket,
//! and the same answers from the database when no daemon runs.
//!
//! - `memory.list` `{}` → `{"sessions": [{"session", "turns", "chars", "updated_at"}]}`
//! - `memory.show` `{"session"}` → `{"session", "turns": [{"user", "assistant"}]}`
//! - `memory.clear` `{"session"}` → `{"session", "cleared": bool}`

use super::Agent;
use crate::component::Live;
use crate::control::protocol::ControlError;
use crate::store::sqlite::Db;
use crate::store::{MemoryTurn, SessionInfo, Store, StoreError};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// What the memory requests need: the agent in force (which holds the live
/// sessions) and the store.
#[derive(Clone)]
pub struct MemoryControl {
    pub agent: Live<Agent>,
    pub store: Arc<dyn Store>,
}

/// A memory request's answer.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(untagged)]
pub enum MemoryReply {
    Sessions {
        sessions: Vec<SessionInfo>,
    },
    Show {
        session: String,
        turns: Vec<MemoryTurn>,
    },
    Cleared {
        session: String,
        cleared: bool,
    },
}

fn internal(e: StoreError) -> ControlError {
    ControlError::internal(e.to_string())
}

fn none_for(session: &str) -> ControlError {
    ControlError::not_found(format!(
        "no memory for session `{session}`; `zeroclaw memory list` shows every session"
    ))
}

pub async fn list(ctx: &MemoryControl) -> Result<MemoryReply, ControlError> {
    let sessions = ctx.store.memory_sessions().await.map_err(internal)?;
    Ok(MemoryReply::Sessions { sessions })
}

pub async fn show(ctx: &MemoryControl, session: String) -> Result<MemoryReply, ControlError> {
    let turns = ctx
        .store
        .load_memory(session.clone())
        .await
        .map_err(internal)?;
    if turns.is_empty() {
        return Err(none_for(&session));
    }
    Ok(MemoryReply::Show { session, turns })
}

/// Forgets the live session too, so its next message starts afresh.
pub async fn clear(ctx: &MemoryControl, session: String) -> Result<MemoryReply, ControlError> {
    let cleared = ctx.agent.get().reset_session(&session).await;
    Ok(MemoryReply::Cleared { session, cleared })
}

/// The same answers from the database file (`None`: it does not exist yet).
pub fn offline(db: Option<Db>, call: &OfflineCall) -> Result<MemoryReply, ControlError> {
    match (call, db) {
        (OfflineCall::List, None) => Ok(MemoryReply::Sessions {
            sessions: Vec::new(),
        }),
        (OfflineCall::List, Some(db)) => Ok(MemoryReply::Sessions {
            sessions: db.memory_sessions().map_err(internal)?,
        }),
        (OfflineCall::Show(s) | OfflineCall::Clear(s), None) => Err(none_for(s)),
        (OfflineCall::Show(s), Some(db)) => {
            let turns = db.load_memory(s).map_err(internal)?;
            if turns.is_empty() {
                return Err(none_for(s));
            }
            Ok(MemoryReply::Show {
                session: s.clone(),
                turns,
            })
        }
        (OfflineCall::Clear(s), Some(db)) => Ok(MemoryReply::Cleared {
            session: s.clone(),
            cleared: db.clear_memory(s).map_err(internal)?,
        }),
    }
}

/// A memory request answered without the daemon.
pub enum OfflineCall {
    List,
    Show(String),
    Clear(String),
}
