//! Opening the state store at start: SQLite for a single instance, the
//! shared PostgreSQL database and the lease for a member of a `[cluster]`.

use super::run::RunError;
use crate::cluster::elector::Elector;
use crate::config::Config;
use crate::cron::{CronHandle, RuntimeJobs};
use crate::store::RunStore;
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
    let store = PgStore::open(url, instance.clone())
        .await
        .map_err(|e| fail(&e))?;
    let n = store
        .recover_interrupted(chrono::Utc::now())
        .await
        .map_err(|e| fail(&e))?;
    if n > 0 {
        tracing::warn!(
            runs = n,
            "cron runs interrupted by this instance's previous end marked `interrupted`"
        );
    }
    let rows = crate::store::JobStore::runtime_jobs(&store)
        .await
        .map_err(|e| fail(&e))?;
    let elector = Elector::start(store.clone(), cluster.lease_ttl).await;
    tracing::info!(
        %instance,
        leader = elector.leadership.is_leader(),
        "cluster: joined (PostgreSQL)"
    );
    let cron = CronHandle::with_shared(
        Arc::new(store),
        config.cron.max_concurrent,
        RuntimeJobs::load(&rows),
    );
    Ok((cron, Some(elector)))
}
