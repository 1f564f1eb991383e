//! `zeroclaw cluster status`: the lease and the instances seen recently,
//! read from the shared database (no daemon needed), with the clock skew
//! between this machine and the database.

use crate::cli::Global;
use crate::store::postgres::{InstanceSeen, LeaseRow, PgStore};
use anyhow::Context;
use chrono::{DateTime, Utc};
use serde_json::{Value, json};

#[derive(Debug, clap::Subcommand)]
pub enum ClusterCommand {
    /// The lease holder and every instance seen within three lease times.
    Status {
        #[arg(long)]
        json: bool,
    },
}

pub fn run(global: &Global, command: ClusterCommand) -> anyhow::Result<u8> {
    let ClusterCommand::Status { json } = command;
    let loaded = crate::config::load(global.config.as_deref())?;
    let Some(cluster) = loaded.config.cluster.clone() else {
        anyhow::bail!(
            "this config has no [cluster]: the daemon is a single instance \
             (docs/operations.md, \"Several instances\")"
        );
    };
    let url = cluster
        .url
        .as_ref()
        .and_then(|u| u.trimmed())
        .map(str::to_string)
        .context("[cluster] has no url")?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let (lease, seen, db_now) = rt.block_on(async {
        let store = PgStore::connect(&url, cluster.instance_name())?;
        let lease = store.lease_row().await?;
        let seen = store.instances(cluster.lease_ttl * 3).await?;
        let now = store.db_now().await?;
        Ok::<_, crate::store::postgres::PgError>((lease, seen, now))
    })?;
    let report = report(lease.as_ref(), &seen, db_now, Utc::now());
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", render(&report));
    }
    Ok(0)
}

fn report(
    lease: Option<&LeaseRow>,
    seen: &[InstanceSeen],
    db_now: DateTime<Utc>,
    local_now: DateTime<Utc>,
) -> Value {
    let ago = |t: DateTime<Utc>| (db_now - t).num_milliseconds() as f64 / 1000.0;
    json!({
        "lease": lease.map(|l| json!({
            "holder": l.holder,
            "epoch": l.epoch,
            "expires_at": l.expires_at,
            "live": l.live,
        })),
        "instances": seen.iter().map(|i| json!({
            "name": i.name,
            "role": i.role,
            "seen_at": i.seen_at,
            "seen_secs_ago": ago(i.seen_at),
            "clock_skew_secs": i.skew_ms as f64 / 1000.0,
        })).collect::<Vec<_>>(),
        // The database's clock minus this machine's.
        "clock_skew_secs": (db_now - local_now).num_milliseconds() as f64 / 1000.0,
    })
}

fn render(r: &Value) -> String {
    let mut out = match &r["lease"] {
        Value::Object(l) => format!(
            "lease: {} by {}, epoch {}, until {}\n",
            if l["live"] == true { "held" } else { "expired" },
            l["holder"].as_str().unwrap_or("?"),
            l["epoch"],
            l["expires_at"].as_str().unwrap_or("?"),
        ),
        _ => "lease: never taken\n".to_string(),
    };
    out.push_str(&format!(
        "clock skew (database - this machine): {:+.3}s\n\n",
        r["clock_skew_secs"].as_f64().unwrap_or(0.0)
    ));
    let mut rows = vec![["INSTANCE".to_string(), "ROLE".into(), "LAST SEEN".into()]];
    for i in r["instances"].as_array().into_iter().flatten() {
        rows.push([
            i["name"].as_str().unwrap_or("?").to_string(),
            i["role"].as_str().unwrap_or("?").to_string(),
            format!("{:.1}s ago", i["seen_secs_ago"].as_f64().unwrap_or(0.0)),
        ]);
    }
    out.push_str(&crate::cli::table::table(&rows));
    out
}
