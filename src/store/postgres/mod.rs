//! The PostgreSQL implementation of the store, for several instances
//! sharing one database (`[cluster]`).
//!
//! Why `tokio-postgres` with `deadpool-postgres`: it is the async client the
//! tokio ecosystem keeps, with no macros and no compile-time database; the
//! pool adds reconnection after the database restarts. Every method of the
//! store interface is one transaction, as in SQLite. What SQLite does not
//! need: the lease ([`lease`]) that makes one instance the leader, and the
//! fire claims that make each cron fire time run once across the cluster,
//! fenced by the lease's epoch ([`Fence`]). See "Several instances" in
//! docs/operations.md.

mod claims;
pub mod lease;
mod open;
mod runs;
mod schema;
mod state;

pub use lease::{InstanceSeen, Lease, LeaseRow};

use deadpool_postgres::{Manager, ManagerConfig, Object, Pool, RecyclingMethod, Runtime};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;
use tokio_postgres::NoTls;
use tokio_postgres::config::SslMode;

/// Connections per instance: the job actors, channels and the lease share them.
const POOL_SIZE: usize = 8;
/// A call waits this long for a connection before failing (the database is down).
const WAIT: Duration = Duration::from_secs(5);

#[derive(Debug, thiserror::Error)]
pub enum PgError {
    #[error("{}", explain(.0))]
    Db(#[from] tokio_postgres::Error),
    #[error("cannot reach the database ({0}); check [cluster] url and that PostgreSQL is running")]
    Pool(String),
    #[error("[cluster] url: {0}")]
    Url(String),
    #[error(
        "the database's schema is version {found}, newer than this binary's {known}; \
         upgrade zeroclaw on this instance"
    )]
    Newer { found: usize, known: usize },
}

/// What the server said (tokio-postgres shows a refusal as "db error"
/// alone), or what went wrong on the way to it.
fn explain(e: &tokio_postgres::Error) -> String {
    if let Some(db) = e.as_db_error() {
        return format!(
            "the database refused: {} ({})",
            db.message(),
            db.code().code()
        );
    }
    match std::error::Error::source(e) {
        Some(source) => format!("{e}: {source}"),
        None => e.to_string(),
    }
}

impl PgError {
    /// The database did not answer (down, unreachable, too slow), as
    /// opposed to answering with a refusal (a wrong password, no such
    /// database) or a bad URL: worth waiting for, not a config error.
    pub fn is_unreachable(&self) -> bool {
        match self {
            PgError::Pool(_) => true,
            PgError::Db(e) => e.as_db_error().is_none(),
            PgError::Url(_) | PgError::Newer { .. } => false,
        }
    }
}

/// Which term of the lease this instance holds, if any: every fire claim
/// is written only while the lease row still names this instance in this
/// term and has not expired by the database's clock.
#[derive(Debug)]
pub struct Fence {
    pub instance: String,
    /// This process, in the lease row: a second process started with the
    /// same instance name by mistake is a follower, not a second leader.
    pub token: String,
    /// 0 = not leading.
    epoch: AtomicI64,
}

impl Fence {
    pub fn epoch(&self) -> i64 {
        self.epoch.load(Ordering::SeqCst)
    }

    pub fn set(&self, epoch: i64) {
        self.epoch.store(epoch, Ordering::SeqCst);
    }
}

/// The store over a pool of connections to one database.
#[derive(Clone)]
pub struct PgStore {
    pool: Pool,
    fence: Arc<Fence>,
}

impl PgStore {
    /// A pool for `url` (no connection is made until the first call).
    pub fn connect(url: &str, instance: String) -> Result<Self, PgError> {
        let mut pg: tokio_postgres::Config = url
            .parse()
            .map_err(|e: tokio_postgres::Error| PgError::Url(e.to_string()))?;
        if pg.get_connect_timeout().is_none() {
            pg.connect_timeout(WAIT);
        }
        pg.application_name(format!("zeroclaw {instance}"));
        let manager_config = ManagerConfig {
            recycling_method: RecyclingMethod::Fast,
        };
        let manager = match pg.get_ssl_mode() {
            SslMode::Disable => Manager::from_config(pg, NoTls, manager_config),
            _ => Manager::from_config(pg, tls()?, manager_config),
        };
        let pool = Pool::builder(manager)
            .max_size(POOL_SIZE)
            .runtime(Runtime::Tokio1)
            .wait_timeout(Some(WAIT))
            .create_timeout(Some(WAIT))
            .recycle_timeout(Some(WAIT))
            .build()
            .map_err(|e| PgError::Pool(e.to_string()))?;
        Ok(Self {
            pool,
            fence: Arc::new(Fence {
                instance,
                token: format!("{:016x}", rand::random::<u64>()),
                epoch: AtomicI64::new(0),
            }),
        })
    }

    /// Connect, migrate, and mark this instance's own runs left `running`
    /// by its previous process.
    pub async fn open(url: &str, instance: String) -> Result<Self, PgError> {
        let store = Self::connect(url, instance)?;
        store.migrate().await?;
        Ok(store)
    }

    pub fn fence(&self) -> &Arc<Fence> {
        &self.fence
    }

    pub fn instance(&self) -> &str {
        &self.fence.instance
    }

    pub(crate) async fn client(&self) -> Result<Object, PgError> {
        self.pool.get().await.map_err(|e| match e {
            deadpool_postgres::PoolError::Backend(db) => PgError::Db(db),
            other => PgError::Pool(other.to_string()),
        })
    }
}

/// TLS for `sslmode=prefer|require`: the server's certificate is verified
/// against the system's trusted roots (stricter than libpq's `require`,
/// which checks nothing; a private CA goes into the system store). The
/// configuration is the process's one ([`crate::tls`]), so the roots are read
/// on the first handshake, not on the way to READY.
fn tls() -> Result<tokio_postgres_rustls::MakeRustlsConnect, PgError> {
    crate::tls::client_config()
        .map(tokio_postgres_rustls::MakeRustlsConnect::new)
        .map_err(|e| {
            PgError::Url(format!(
                "sslmode asks for TLS but TLS cannot be set up: {e}"
            ))
        })
}

pub(crate) fn to_i64(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}
