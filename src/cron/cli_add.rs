//! `zeroclaw cron add` and `cron remove`: their arguments and what they print.

use super::runtime::{NewJob, RuntimeJob};
use super::store::Store;
use super::view::JobView;
use crate::config::Config;
use serde_json::Value;

/// `cron add`: a job kept in the state database, run by the daemon.
#[derive(Debug, Clone, clap::Args)]
#[command(group(clap::ArgGroup::new("when").required(true).args(["schedule", "at", "every"])))]
pub struct AddArgs {
    /// Unique among all jobs (config and runtime).
    pub name: String,
    /// A cron expression (`0 9 * * 1-5`, `@daily`).
    #[arg(long)]
    pub schedule: Option<String>,
    /// Once: an RFC 3339 time with offset, or a duration from now (`20m`, `2h30m`).
    #[arg(long)]
    pub at: Option<String>,
    /// Repeatedly, at this interval (`90s`, `1h`).
    #[arg(long)]
    pub every: Option<String>,
    /// The prompt sent to the agent at each run.
    #[arg(long)]
    pub message: String,
    /// `telegram:<chat id>`, `discord:<channel id>`, `slack:<channel id>`.
    #[arg(long)]
    pub deliver_to: Option<String>,
    /// IANA zone of a cron schedule (default the host's).
    #[arg(long)]
    pub timezone: Option<String>,
    /// Tools the run may use, comma-separated.
    #[arg(long, value_delimiter = ',')]
    pub tools: Vec<String>,
    #[arg(long)]
    pub provider: Option<String>,
    #[arg(long)]
    pub model: Option<String>,
    #[arg(long)]
    pub json: bool,
}

impl AddArgs {
    pub fn request(&self) -> NewJob {
        NewJob {
            name: self.name.clone(),
            schedule: self.schedule.clone(),
            at: self.at.clone(),
            every: self.every.clone(),
            message: self.message.clone(),
            deliver_to: self.deliver_to.clone(),
            timezone: self.timezone.clone(),
            tools: self.tools.clone(),
            provider: self.provider.clone(),
            model: self.model.clone(),
        }
    }
}

pub fn render_added(reply: &Value) -> anyhow::Result<()> {
    let v: JobView = serde_json::from_value(reply["job"].clone())?;
    let next = v
        .next_run
        .map(|t| t.to_rfc3339())
        .unwrap_or_else(|| "-".into());
    println!(
        "added {} ({}): {}, next run {next}",
        v.name, v.id, v.schedule
    );
    Ok(())
}

pub fn render_removed(reply: &Value) {
    let name = reply["removed"]["name"].as_str().unwrap_or("?");
    let id = reply["removed"]["id"].as_str().unwrap_or("?");
    println!("removed {name} ({id}); its run history is kept");
}

/// The runtime jobs in the database, for the offline `cron list`: those
/// a config job of the same name does not shadow.
pub fn offline_runtime(store: Option<&Store>, config: &Config) -> Vec<RuntimeJob> {
    let rows = match store.map(|s| s.runtime_jobs()) {
        Some(Ok(rows)) => rows,
        Some(Err(e)) => {
            eprintln!("warning: cannot read the runtime jobs: {e}");
            Vec::new()
        }
        None => Vec::new(),
    };
    rows.iter()
        .filter_map(|r| RuntimeJob::from_row(r).ok())
        .filter(|r| !config.cron.jobs.iter().any(|j| j.name == r.job.name))
        .collect()
}
