//! `zeroclaw memory list | show SESSION | clear SESSION`: the conversation
//! memory kept per session (`telegram:<chat>`, `webhook:<session>`, ...).
//! Through the daemon when it runs (so `clear` also forgets the live
//! session), else from the state database.

use super::memory_control::{MemoryReply, OfflineCall, offline};
use crate::cli::Global;
use crate::config::Config;
use crate::control::call::Call;
use crate::control::client::{ClientError, call};
use crate::control::locate::locate;
use crate::store::StoreError;
use crate::store::sqlite::Db;
use anyhow::Context;
use serde_json::{Value, json};

#[derive(Debug, clap::Subcommand)]
pub enum MemoryCommand {
    /// Every session with memory: turns, characters, last update.
    List {
        #[arg(long)]
        json: bool,
    },
    /// A session's remembered turns, oldest first.
    Show {
        /// `telegram:<chat id>`, `webhook:<session>`, ...
        session: String,
        #[arg(long)]
        json: bool,
    },
    /// Forget a session (the next message starts a new conversation).
    Clear {
        session: String,
        #[arg(long)]
        json: bool,
    },
}

impl MemoryCommand {
    fn json(&self) -> bool {
        match self {
            Self::List { json } | Self::Show { json, .. } | Self::Clear { json, .. } => *json,
        }
    }

    fn request(&self) -> Call {
        match self {
            Self::List { .. } => Call::MemoryList {},
            Self::Show { session, .. } => Call::MemoryShow {
                session: session.clone(),
            },
            Self::Clear { session, .. } => Call::MemoryClear {
                session: session.clone(),
            },
        }
    }

    fn offline_call(&self) -> OfflineCall {
        match self {
            Self::List { .. } => OfflineCall::List,
            Self::Show { session, .. } => OfflineCall::Show(session.clone()),
            Self::Clear { session, .. } => OfflineCall::Clear(session.clone()),
        }
    }
}

fn open(config: &Config, command: &MemoryCommand) -> Result<Option<Db>, StoreError> {
    let path = config.cron_db();
    let opened = match command {
        MemoryCommand::Clear { .. } if path.exists() => Db::open(&path),
        _ => Db::open_read_only(&path),
    };
    match opened {
        Ok(db) => Ok(Some(db)),
        Err(StoreError::Missing(_)) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Exit codes: 0 done, 1 error (unknown session, ...).
pub fn run(global: &Global, command: MemoryCommand) -> anyhow::Result<u8> {
    let located = locate(global.config.as_deref());
    located.warn();
    let request = command.request();
    let reply = match call(&located.socket, &request) {
        Ok(v) => v,
        Err(ClientError::NotRunning(_)) => {
            let Ok(config) = located.config else {
                anyhow::bail!(
                    "zeroclaw is not running, and without it this needs the config file, \
                     which has the errors above; fix them (`zeroclaw config check`) and retry"
                );
            };
            let db = open(&config, &command).context("the state database")?;
            match offline(db, &command.offline_call()) {
                Ok(r) => serde_json::to_value(r)?,
                Err(e) => return fail(&command, &e.code, &e.message),
            }
        }
        Err(ClientError::Remote(e)) => return fail(&command, &e.code, &e.message),
        Err(e) => return Err(e).context("`memory` request to the daemon failed"),
    };
    if command.json() {
        println!("{}", serde_json::to_string_pretty(&reply)?);
        return Ok(0);
    }
    render(&reply)?;
    Ok(0)
}

fn fail(command: &MemoryCommand, code: &str, message: &str) -> anyhow::Result<u8> {
    if command.json() {
        println!(
            "{}",
            json!({ "ok": false, "error": { "code": code, "message": message } })
        );
    } else {
        eprintln!("error: {message}");
    }
    Ok(1)
}

fn render(reply: &Value) -> anyhow::Result<()> {
    match serde_json::from_value::<MemoryReply>(reply.clone())? {
        MemoryReply::Sessions { sessions } if sessions.is_empty() => {
            println!("no conversation memory yet");
        }
        MemoryReply::Sessions { sessions } => {
            println!("{:<6}  {:<8}  {:<25}  SESSION", "TURNS", "CHARS", "UPDATED");
            for s in sessions {
                let updated = s
                    .updated_at
                    .map(|t| t.to_rfc3339())
                    .unwrap_or_else(|| "-".into());
                println!(
                    "{:<6}  {:<8}  {:<25}  {}",
                    s.turns, s.chars, updated, s.session
                );
            }
        }
        MemoryReply::Show { session, turns } => {
            println!("{session}: {} turns", turns.len());
            for t in turns {
                println!("> {}\n{}\n", t.user, t.assistant);
            }
        }
        MemoryReply::Cleared { session, cleared } => match cleared {
            true => println!("forgot the memory of {session}"),
            false => {
                println!("{session} had no stored memory (its live session, if any, is reset)")
            }
        },
    }
    Ok(())
}
