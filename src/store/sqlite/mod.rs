//! The SQLite implementation of the store: one file, WAL, one connection.
//!
//! [`Db`] is plain synchronous code over one `rusqlite::Connection`, unit
//! tested without a runtime (the offline CLI uses it directly).
//! [`SqliteStore`] is what the daemon's components hold as `Arc<dyn Store>`:
//! it runs every call on a thread of its own that owns the connection, so
//! SQLite never blocks an async worker. One connection is enough: each
//! transaction is short, WAL lets the CLI read while the daemon writes.

mod jobs;
mod memory;
pub mod runs;
mod store_impl;
mod writer;

pub use writer::SqliteStore;

use crate::store::StoreError;
use chrono::{DateTime, SecondsFormat, Utc};
use rusqlite::{Connection, OpenFlags};
use std::path::Path;

/// Bumped when the schema changes; `open` migrates from older versions.
const SCHEMA_VERSION: i64 = 2;
/// Page cache per connection, in KiB (a negative `cache_size` is KiB).
const CACHE_KIB: i64 = 512;
/// Prepared statements kept per connection (rusqlite keeps 16 by default).
const STATEMENT_CACHE: usize = 64;

/// Version 1: the cron tables.
const SCHEMA_V1: &str = "
CREATE TABLE IF NOT EXISTS runs (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    job_id       TEXT NOT NULL,
    job_name     TEXT NOT NULL,
    scheduled_at TEXT,
    started_at   TEXT,
    finished_at  TEXT,
    status       TEXT NOT NULL,
    output       TEXT,
    error        TEXT
);
CREATE INDEX IF NOT EXISTS runs_job ON runs(job_id, id);
CREATE INDEX IF NOT EXISTS runs_status ON runs(status);
CREATE TABLE IF NOT EXISTS job_overrides (
    job_id     TEXT PRIMARY KEY,
    job_name   TEXT NOT NULL,
    enabled    INTEGER NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS job_state (
    job_id       TEXT PRIMARY KEY,
    job_name     TEXT NOT NULL,
    -- the latest fire time already accounted for (run, skipped or missed)
    last_fire_at TEXT NOT NULL
);
";

/// Version 2: runtime jobs, conversation memory, channel state.
const SCHEMA_V2: &str = "
CREATE TABLE IF NOT EXISTS runtime_jobs (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE,
    owner      TEXT,
    spec       TEXT NOT NULL,
    created_at TEXT NOT NULL,
    done_at    TEXT
);
CREATE INDEX IF NOT EXISTS runtime_jobs_owner ON runtime_jobs(owner);
CREATE TABLE IF NOT EXISTS memory (
    session    TEXT NOT NULL,
    seq        INTEGER NOT NULL,
    user_text  TEXT NOT NULL,
    reply_text TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (session, seq)
);
CREATE TABLE IF NOT EXISTS channel_offsets (
    key    TEXT PRIMARY KEY,
    offset INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS channel_events (
    seq      INTEGER PRIMARY KEY AUTOINCREMENT,
    channel  TEXT NOT NULL,
    event_id TEXT NOT NULL,
    UNIQUE (channel, event_id)
);
";

pub(crate) fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

pub(crate) fn parse_ts(s: Option<String>) -> Option<DateTime<Utc>> {
    s.and_then(|s| DateTime::parse_from_rfc3339(&s).ok())
        .map(|t| t.with_timezone(&Utc))
}

/// The synchronous database.
pub struct Db {
    conn: Connection,
}

impl Db {
    /// Open (creating if needed) read-write, in WAL mode.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|source| StoreError::Dir {
                path: dir.to_path_buf(),
                source,
            })?;
        }
        let open_err = |source| StoreError::Open {
            path: path.to_path_buf(),
            source,
        };
        crate::file_mode::database(path);
        let conn = Connection::open(path).map_err(open_err)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))
            .map_err(open_err)?;
        // A new, empty file holds nothing to lose: it is set up without
        // waiting on the disk (five fsyncs, most of a first start's time;
        // docs/performance.md). The first checkpoint makes it durable.
        let pages: i64 = conn
            .pragma_query_value(None, "page_count", |r| r.get(0))
            .map_err(open_err)?;
        if pages == 0 {
            conn.pragma_update(None, "synchronous", "OFF")
                .map_err(open_err)?;
        }
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(open_err)?;
        // SQLite's default page cache is 2 MiB per connection, as much as the
        // rest of an idle daemon; the history is appended to and read a
        // page or two at a time by index, so a small cache costs nothing.
        conn.pragma_update(None, "cache_size", -CACHE_KIB)
            .map_err(open_err)?;
        // Every statement of a job's start, run and view stays prepared.
        conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
        let version: i64 = conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .map_err(open_err)?;
        if version < SCHEMA_VERSION {
            // One transaction: a migration stops whole or not at all.
            let migrate = format!(
                "BEGIN IMMEDIATE; {SCHEMA_V1} {SCHEMA_V2} PRAGMA user_version = {SCHEMA_VERSION}; COMMIT;"
            );
            conn.execute_batch(&migrate).map_err(open_err)?;
        }
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(open_err)?;
        Ok(Self { conn })
    }

    /// Open an existing database read-only (the CLI while the daemon is stopped).
    pub fn open_read_only(path: &Path) -> Result<Self, StoreError> {
        if !path.exists() {
            return Err(StoreError::Missing(path.to_path_buf()));
        }
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|source| StoreError::Open {
            path: path.to_path_buf(),
            source,
        })?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        Ok(Self { conn })
    }

    /// Run `f` in one write transaction: one commit for several statements
    /// (a run's begin and its anchor, a result and its retention). Inside a
    /// batch of the database thread (see [`SqliteStore`]) it is a savepoint
    /// of the batch's transaction: `f`'s writes still stand or fall together.
    pub fn atomically<R>(
        &mut self,
        f: impl FnOnce(&Self) -> Result<R, StoreError>,
    ) -> Result<R, StoreError> {
        let (begin, commit, rollback) = if self.conn.is_autocommit() {
            ("BEGIN IMMEDIATE", "COMMIT", "ROLLBACK")
        } else {
            (
                "SAVEPOINT atomically",
                "RELEASE atomically",
                "ROLLBACK TO atomically; RELEASE atomically",
            )
        };
        self.control(begin)?;
        match f(self) {
            Ok(r) => {
                self.control(commit)?;
                Ok(r)
            }
            Err(e) => {
                let _ = self.conn.execute_batch(rollback);
                Err(e)
            }
        }
    }

    /// One transaction-control statement (`BEGIN`, `SAVEPOINT`, `RELEASE`,
    /// `COMMIT`), kept prepared like every other statement of the store:
    /// every remembered turn runs two of them inside a batch, so they are
    /// not parsed again for each call (docs/performance.md, "Group commit").
    fn control(&self, sql: &str) -> Result<(), rusqlite::Error> {
        self.conn.prepare_cached(sql)?.execute([]).map(|_| ())
    }

    /// Run `f` in one read transaction: many reads (the views of every
    /// job) take the database's lock once and see one state. Inside a
    /// batch the batch's transaction already is that one state.
    pub fn reading<R>(
        &self,
        f: impl FnOnce(&Self) -> Result<R, StoreError>,
    ) -> Result<R, StoreError> {
        if !self.conn.is_autocommit() {
            return f(self);
        }
        self.conn.execute_batch("BEGIN DEFERRED")?;
        let result = f(self);
        let end = if result.is_ok() { "COMMIT" } else { "ROLLBACK" };
        self.conn.execute_batch(end)?;
        result
    }

    /// `PRAGMA integrity_check`: `"ok"` when the file is sound.
    pub fn integrity_check(&self) -> Result<String, StoreError> {
        Ok(self
            .conn
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))?)
    }

    /// Whether `table` exists: a database written by an older version lacks
    /// the newer tables until the daemon migrates it, and the read-only CLI
    /// reads them as empty.
    pub fn has_table(&self, table: &str) -> Result<bool, StoreError> {
        let n: i64 = self.conn.query_row(
            "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?1",
            [table],
            |r| r.get(0),
        )?;
        Ok(n > 0)
    }
}

/// A store over a fresh database in `dir`, as the daemon's components hold
/// one: the unit tests of those components start here.
#[cfg(test)]
pub fn in_dir(dir: &Path) -> std::sync::Arc<dyn crate::store::Store> {
    let db = Db::open(&dir.join("state.db")).expect("open a test database");
    std::sync::Arc::new(SqliteStore::new(db))
}

#[cfg(test)]
#[path = "state_tests.rs"]
mod tests;
