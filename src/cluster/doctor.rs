//! `doctor`'s checks of a cluster: the database answers with a schema this
//! binary knows, and no instance's clock is far from the database's (cron
//! fire times are computed from each machine's clock; the lease is not).

use crate::config::Config;
use crate::store::postgres::PgStore;
use std::time::Duration;

/// Past this, fire times drift between a leader and the next.
const MAX_SKEW_MS: i64 = 1_000;

/// One finding for `doctor`'s report, which turns it into its own line: what
/// was checked, and what was found or why it failed and what to do.
pub struct Finding {
    pub name: &'static str,
    pub result: Result<String, (String, String)>,
}

fn check(name: &'static str, result: Result<String, (String, String)>) -> Finding {
    Finding { name, result }
}

/// None without `[cluster]`.
pub fn checks(config: &Config) -> Vec<Finding> {
    let Some(cluster) = &config.cluster else {
        return Vec::new();
    };
    let Some(url) = cluster.url.as_ref().and_then(|u| u.trimmed()) else {
        return Vec::new();
    };
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            return vec![check(
                "cluster database",
                Err((e.to_string(), "retry".into())),
            )];
        }
    };
    let ttl = cluster.lease_ttl;
    let probe = async {
        let store = PgStore::connect(url, cluster.instance_name())?;
        let version = store.migrate().await?;
        let seen = store.instances(ttl * 3).await?;
        Ok::<_, crate::store::postgres::PgError>((version, seen))
    };
    let answer = rt.block_on(async { tokio::time::timeout(Duration::from_secs(10), probe).await });
    let (version, seen) = match answer {
        Ok(Ok(v)) => v,
        Ok(Err(e)) => {
            let fix = "check [cluster] url (host, port, user, password, sslmode) and that \
                       PostgreSQL is running and reachable from this machine";
            return vec![check("cluster database", Err((e.to_string(), fix.into())))];
        }
        Err(_) => {
            let fix = "the database did not answer within 10s; check the network and the server";
            return vec![check(
                "cluster database",
                Err(("timed out".into(), fix.into())),
            )];
        }
    };
    let mut out = vec![check(
        "cluster database",
        Ok(format!("reachable, schema version {version}")),
    )];
    let far: Vec<String> = seen
        .iter()
        .filter(|i| i.skew_ms.abs() > MAX_SKEW_MS)
        .map(|i| format!("{} {:+.3}s", i.name, i.skew_ms as f64 / 1000.0))
        .collect();
    let clocks = if far.is_empty() {
        Ok(format!(
            "{} instance(s) seen recently, each within {MAX_SKEW_MS} ms of the database",
            seen.len()
        ))
    } else {
        Err((
            format!("clocks off from the database's: {}", far.join(", ")),
            "run NTP on every machine (chrony or systemd-timesyncd)".into(),
        ))
    };
    out.push(check("cluster clocks", clocks));
    out
}
