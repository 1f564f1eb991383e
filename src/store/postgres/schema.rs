//! The schema, as numbered migrations applied in order at start, in one
//! transaction under an advisory lock, so instances starting at the
//! same time never apply one twice; a database newer than this binary is
//! refused rather than written to.

use super::{PgError, PgStore};

/// Serialises migrations between instances (any constant of our own).
const MIGRATION_LOCK: i64 = 0x7a65_726f_636c_6177;

/// Version 1: everything the store interface keeps, plus the lease and the
/// fire claims of a cluster.
const V1: &str = "
CREATE TABLE runs (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    job_id       TEXT NOT NULL,
    job_name     TEXT NOT NULL,
    scheduled_at TIMESTAMPTZ,
    started_at   TIMESTAMPTZ,
    finished_at  TIMESTAMPTZ,
    status       TEXT NOT NULL,
    output       TEXT,
    error        TEXT,
    instance     TEXT,
    epoch        BIGINT
);
CREATE INDEX runs_job ON runs (job_id, id);
CREATE INDEX runs_running ON runs (status) WHERE status = 'running';
CREATE TABLE job_overrides (
    job_id     TEXT PRIMARY KEY,
    job_name   TEXT NOT NULL,
    enabled    BOOLEAN NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);
CREATE TABLE job_state (
    job_id       TEXT PRIMARY KEY,
    job_name     TEXT NOT NULL,
    last_fire_at TIMESTAMPTZ NOT NULL
);
CREATE TABLE runtime_jobs (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE,
    owner      TEXT,
    spec       TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    done_at    TIMESTAMPTZ
);
CREATE INDEX runtime_jobs_owner ON runtime_jobs (owner);
CREATE TABLE memory (
    session    TEXT NOT NULL,
    seq        INTEGER NOT NULL,
    user_text  TEXT NOT NULL,
    reply_text TEXT NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (session, seq)
);
CREATE TABLE channel_offsets (
    key      TEXT PRIMARY KEY,
    position BIGINT NOT NULL
);
CREATE TABLE channel_events (
    seq      BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    channel  TEXT NOT NULL,
    event_id TEXT NOT NULL,
    UNIQUE (channel, event_id)
);
-- one row: who leads, in which term, until when (database clock)
CREATE TABLE lease (
    id         SMALLINT PRIMARY KEY CHECK (id = 1),
    holder     TEXT NOT NULL,
    -- the holding process (two instances given one name never share a lease)
    token      TEXT NOT NULL,
    epoch      BIGINT NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL
);
-- each fire time of a job is claimed once, by the leader of one term
CREATE TABLE fires (
    job_id       TEXT NOT NULL,
    scheduled_at TIMESTAMPTZ NOT NULL,
    epoch        BIGINT NOT NULL,
    instance     TEXT NOT NULL,
    claimed_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (job_id, scheduled_at)
);
-- seen_at by the database's clock, local_at by the instance's own
CREATE TABLE instances (
    name     TEXT PRIMARY KEY,
    role     TEXT NOT NULL,
    seen_at  TIMESTAMPTZ NOT NULL,
    local_at TIMESTAMPTZ NOT NULL
);
";

/// Version 2: the claims of polled updates (Telegram), so that each is
/// answered by one term of the lease only.
const V2: &str = "
CREATE TABLE update_claims (
    channel    TEXT NOT NULL,
    update_id  BIGINT NOT NULL,
    epoch      BIGINT NOT NULL,
    instance   TEXT NOT NULL,
    delivered  BOOLEAN NOT NULL DEFAULT false,
    claimed_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (channel, update_id)
);
CREATE INDEX update_claims_age ON update_claims (claimed_at);
";

/// In order; the index + 1 is the version.
const MIGRATIONS: &[&str] = &[V1, V2];

impl PgStore {
    /// Bring the schema to this binary's version; returns the version.
    pub async fn migrate(&self) -> Result<usize, PgError> {
        let mut client = self.client().await?;
        // One transaction under the lock: an instance starting at the same
        // time waits, then finds every version applied.
        let tx = client.transaction().await?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
            .await?;
        tx.batch_execute(
            "CREATE TABLE IF NOT EXISTS zeroclaw_schema (
                 version    INTEGER PRIMARY KEY,
                 applied_at TIMESTAMPTZ NOT NULL DEFAULT now())",
        )
        .await?;
        for (i, sql) in MIGRATIONS.iter().enumerate() {
            let version = i32::try_from(i + 1).unwrap_or(i32::MAX);
            let done = tx
                .query_opt(
                    "SELECT 1 FROM zeroclaw_schema WHERE version = $1",
                    &[&version],
                )
                .await?
                .is_some();
            if !done {
                tx.batch_execute(sql).await?;
                tx.execute(
                    "INSERT INTO zeroclaw_schema (version) VALUES ($1)",
                    &[&version],
                )
                .await?;
            }
        }
        tx.commit().await?;
        let newest: Option<i32> = client
            .query_one("SELECT max(version) FROM zeroclaw_schema", &[])
            .await?
            .get(0);
        let newest = usize::try_from(newest.unwrap_or(0)).unwrap_or(0);
        if newest > MIGRATIONS.len() {
            return Err(PgError::Newer {
                found: newest,
                known: MIGRATIONS.len(),
            });
        }
        Ok(newest)
    }
}
