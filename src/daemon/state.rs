//! Opening the state store at start: SQLite for a single instance, the
//! shared PostgreSQL database and the lease for a member of a `[cluster]`.

use super::run::RunError;
use crate::cluster::elector::Elector;
use crate::config::Config;
use crate::cron::{CronHandle, RuntimeJobs};
use crate::store::postgres::PgStore;
use std::sync::Arc;

/// Cron's handle over the store, and the elector when in a cluster.
pub async fn open(config: &Config) -> Result<(CronHandle, Option<Elector>), RunError> {
    let Some(cluster) = &config.cluster else {
        let cron = CronHandle::open(config)
            .map_err(|e| RunError::Startup(format!("cron job store: {e}")))?;
        return Ok((cron, None));
    };
    let fail = |e: &dyn std::fmt::Display| RunError::Startup(format!("cluster database: {e}"));
    let url = cluster
        .url
        .as_ref()
        .and_then(|u| u.trimmed())
        .ok_or_else(|| fail(&"[cluster] has no url"))?;
    let instance = cluster.instance_name();
    let store = PgStore::connect(url, instance.clone()).map_err(|e| fail(&e))?;
    // A database that does not answer at start is waited for, not fatal:
    // the gateway serves meanwhile and the elector joins when it answers
    // (docs/operations.md, "Several instances"). One that refuses (a wrong
    // password, no such database) is a config error.
    let rows = match crate::cluster::elector::join(&store).await {
        Ok(()) => crate::store::JobStore::runtime_jobs(&store)
            .await
            .map_err(|e| fail(&e))?,
        Err(e) if e.is_unreachable() => {
            tracing::warn!(
                error = %e,
                "cluster: the database does not answer at start; serving the gateway as a \
                 follower and retrying (no Telegram, Discord or cron here until it answers)"
            );
            return Ok(with_elector(config, store, cluster.lease_ttl, false, &[]).await);
        }
        Err(e) => return Err(fail(&e)),
    };
    Ok(with_elector(config, store, cluster.lease_ttl, true, &rows).await)
}

async fn with_elector(
    config: &Config,
    store: PgStore,
    ttl: std::time::Duration,
    joined: bool,
    rows: &[crate::store::RuntimeJobRow],
) -> (CronHandle, Option<Elector>) {
    let elector = Elector::start(store.clone(), ttl, joined).await;
    tracing::info!(
        instance = %store.instance(),
        leader = elector.leadership.is_leader(),
        "cluster: joined (PostgreSQL)"
    );
    let cron = CronHandle::with_shared(
        Arc::new(store),
        config.cron.max_concurrent,
        RuntimeJobs::load(rows),
    );
    (cron, Some(elector))
}
