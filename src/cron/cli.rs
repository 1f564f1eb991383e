//! `zeroclaw cron ...`: a thin client of the control socket; with no daemon,
//! `list`/`status`/`runs` read the database and `enable`/`disable` write
//! their override to it directly.

use super::cli_add::{AddArgs, offline_runtime, render_added, render_removed};
use super::control::{RUNS_DEFAULT_LIMIT, RUNS_MAX_LIMIT};
use super::store::{RunRecord, RunStatus, Store, StoreError};
use super::view::{JobView, Liveness, job_view, mark_runtime_view, offline_facts};
use super::{job_id, resolve};
use crate::cli::Global;
use crate::config::Config;
use crate::control::call::Call;
use crate::control::client::{ClientError, DEFAULT_TIMEOUT, call_with_timeout};
use crate::control::locate::locate;
use anyhow::Context;
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde_json::{Value, json};

#[derive(Debug, clap::Subcommand)]
pub enum CronCommand {
    /// Every job: id, name, schedule, timezone, enabled, next run, last result.
    List {
        #[arg(long)]
        json: bool,
    },
    /// One job in detail (next fire times, last runs, failures in a row), or all jobs.
    Status {
        /// Job name or id.
        name: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Enable a job (kept across restarts and reloads).
    Enable {
        /// Job name or id.
        name: String,
        #[arg(long)]
        json: bool,
    },
    /// Disable a job (kept across restarts and reloads).
    Disable {
        /// Job name or id.
        name: String,
        #[arg(long)]
        json: bool,
    },
    /// Run a job now and print the result.
    Run {
        /// Job name or id.
        name: String,
        /// Return as soon as the run has started.
        #[arg(long)]
        detach: bool,
        #[arg(long)]
        json: bool,
    },
    /// Add a job while the daemon runs (kept in the state database).
    Add(AddArgs),
    /// Remove a job added with `cron add` (or from a chat).
    Remove {
        /// Job name or id.
        name: String,
        #[arg(long)]
        json: bool,
    },
    /// Run history, newest first.
    Runs {
        /// Job id (a name is accepted too).
        #[arg(long, conflicts_with = "name")]
        id: Option<String>,
        /// Job name (an id is accepted too).
        #[arg(long)]
        name: Option<String>,
        #[arg(long, default_value_t = RUNS_DEFAULT_LIMIT)]
        limit: usize,
        #[arg(long)]
        json: bool,
    },
}

impl CronCommand {
    fn json(&self) -> bool {
        match self {
            Self::List { json }
            | Self::Status { json, .. }
            | Self::Enable { json, .. }
            | Self::Disable { json, .. }
            | Self::Run { json, .. }
            | Self::Runs { json, .. }
            | Self::Remove { json, .. } => *json,
            Self::Add(a) => a.json,
        }
    }

    fn request(&self) -> Call {
        match self {
            Self::List { .. } => Call::CronList {},
            Self::Status { name, .. } => Call::CronStatus { name: name.clone() },
            Self::Enable { name, .. } => Call::CronEnable { name: name.clone() },
            Self::Disable { name, .. } => Call::CronDisable { name: name.clone() },
            Self::Run { name, detach, .. } => Call::CronRun {
                name: name.clone(),
                detach: *detach,
            },
            Self::Add(a) => Call::CronAdd(a.request()),
            Self::Remove { name, .. } => Call::CronRemove { name: name.clone() },
            Self::Runs {
                id, name, limit, ..
            } => Call::CronRuns {
                id: id.clone(),
                name: name.clone(),
                limit: u64::try_from(*limit).ok(),
            },
        }
    }
}

/// How long `cron run` waits when the config file cannot be read to learn
/// the job's timeout.
const UNKNOWN_RUN_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(6 * 3600);

/// Exit codes: 0 done, 1 error (unknown job, failed run, ...).
pub fn run(global: &Global, command: CronCommand) -> anyhow::Result<u8> {
    if let CronCommand::Runs { limit, .. } = &command
        && (*limit == 0 || *limit > RUNS_MAX_LIMIT)
    {
        anyhow::bail!("--limit must be between 1 and {RUNS_MAX_LIMIT}");
    }
    // A broken file does not hide a running daemon: it is found leniently
    // and answers; only the offline answers need the file itself.
    let located = locate(global.config.as_deref());
    located.warn();
    let request = command.request();
    // `cron run` waits for the run, which may take up to the job's timeout.
    let timeout = match (&request, &located.config) {
        (Call::CronRun { .. }, Ok(config)) => {
            config
                .cron
                .jobs
                .iter()
                .map(|j| j.timeout)
                .max()
                .unwrap_or_default()
                + std::time::Duration::from_secs(90)
        }
        // The daemon ends the run at its job's timeout; this only bounds a hung daemon.
        (Call::CronRun { .. }, Err(_)) => UNKNOWN_RUN_TIMEOUT,
        _ => DEFAULT_TIMEOUT,
    };
    let socket = &located.socket;
    let answered = match call_with_timeout(socket, &request, timeout) {
        Err(ClientError::NotRunning(_)) => {
            let Ok(config) = located.config else {
                anyhow::bail!(
                    "zeroclaw is not running, and without it this needs the config file, \
                     which has the errors above; fix them (`zeroclaw config check`) and retry"
                );
            };
            match offline(&config, &command) {
                Ok(v) if writes(&command) => recheck(socket, &request, v),
                Ok(v) => Ok(v),
                Err(Failure(code, msg)) => return fail(&command, code, &msg),
            }
        }
        other => other,
    };
    let reply = match answered {
        Ok(v) => v,
        Err(ClientError::Remote(e)) => return fail(&command, &e.code, &e.message),
        Err(e) => {
            let method = request.method();
            return Err(e).context(format!("`{method}` request to the daemon failed"));
        }
    };
    if command.json() {
        println!("{}", serde_json::to_string_pretty(&reply)?);
        return Ok(exit_for(&command, &reply));
    }
    render(&command, &reply)?;
    Ok(exit_for(&command, &reply))
}

/// `enable`/`disable` write to the database when no daemon answers.
fn writes(command: &CronCommand) -> bool {
    matches!(
        command,
        CronCommand::Enable { .. } | CronCommand::Disable { .. }
    )
}

/// After an offline write, ask the daemon once more. A daemon starting
/// meanwhile may have read the overrides before the write landed, and it
/// reads them again only after its socket is up: so either it answers now
/// (and applies the command itself: the same write, and the job told), or
/// its socket comes up later and it reads this write then. Without this
/// second call, a write landing between the two moments was lost.
fn recheck(socket: &std::path::Path, request: &Call, offline: Value) -> Result<Value, ClientError> {
    match call_with_timeout(socket, request, DEFAULT_TIMEOUT) {
        Err(ClientError::NotRunning(_)) => Ok(offline),
        other => other,
    }
}

fn fail(command: &CronCommand, code: &str, message: &str) -> anyhow::Result<u8> {
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

/// `cron run` exits 1 when the run did not end `ok`.
fn exit_for(command: &CronCommand, reply: &Value) -> u8 {
    match command {
        CronCommand::Run { detach: false, .. } => {
            let ok = reply["run"]["status"].as_str() == Some(RunStatus::Ok.as_str());
            u8::from(!ok)
        }
        _ => 0,
    }
}

/// An offline failure: the control protocol's error code and a sentence.
struct Failure(&'static str, String);

impl Failure {
    fn not_found(msg: String) -> Self {
        Self("not_found", msg)
    }
}

impl From<StoreError> for Failure {
    fn from(e: StoreError) -> Self {
        Failure("internal", e.to_string())
    }
}

/// The same replies as the daemon's, from config and database only.
fn offline(config: &Config, command: &CronCommand) -> Result<Value, Failure> {
    let jobs = &config.cron.jobs;
    let path = config.cron_db();
    let read = || match Store::open_read_only(&path) {
        Ok(s) => Ok(Some(s)),
        Err(StoreError::Missing(_)) => Ok(None),
        Err(e) => Err(Failure::from(e)),
    };
    let now = Utc::now();
    let view = |store: Option<&Store>, job, detail| {
        let facts = offline_facts(job, store, detail)?;
        job_view(job, facts.as_ref(), &Liveness::Stopped, detail, now).map_err(Failure::from)
    };
    match command {
        CronCommand::List { .. } | CronCommand::Status { name: None, .. } => {
            let store = read()?;
            let mut views = jobs
                .iter()
                .map(|j| view(store.as_ref(), j, false))
                .collect::<Result<Vec<_>, _>>()?;
            for r in offline_runtime(store.as_ref(), config) {
                let facts = offline_facts(&r.job, store.as_ref(), false)?;
                let mut v = job_view(&r.job, facts.as_ref(), &Liveness::Stopped, false, now)?;
                mark_runtime_view(&mut v, &r);
                views.push(v);
            }
            Ok(json!({ "daemon": "stopped", "jobs": views }))
        }
        CronCommand::Status {
            name: Some(name), ..
        } => {
            let job = resolve(jobs, name).map_err(Failure::not_found)?;
            let store = read()?;
            Ok(json!({ "daemon": "stopped", "job": view(store.as_ref(), job, true)? }))
        }
        CronCommand::Enable { name, .. } | CronCommand::Disable { name, .. } => {
            let enabled = matches!(command, CronCommand::Enable { .. });
            let job = resolve(jobs, name).map_err(Failure::not_found)?;
            let store = Store::open(&path)?;
            let over = (enabled != job.enabled).then_some(enabled);
            store.set_override(&job_id(&job.name), &job.name, over, now)?;
            Ok(json!({ "daemon": "stopped", "job": view(Some(&store), job, false)? }))
        }
        CronCommand::Run { .. } => Err(Failure(
            "not_running",
            "the daemon is not running; start it with `zeroclaw daemon` to run a job".into(),
        )),
        CronCommand::Add(_) | CronCommand::Remove { .. } => Err(Failure(
            "not_running",
            "the daemon is not running; start it with `zeroclaw daemon`, then add or remove the job"
                .into(),
        )),
        CronCommand::Runs {
            id, name, limit, ..
        } => {
            let store = read()?;
            let key = id.as_ref().or(name.as_ref());
            let filter = match key {
                None => None,
                Some(k) => match resolve(jobs, k) {
                    Ok(j) => Some(job_id(&j.name)),
                    Err(msg) => {
                        // A job removed from the config keeps its history.
                        let found = match &store {
                            Some(s) => !s.runs(Some(k), 1)?.is_empty(),
                            None => false,
                        };
                        if !found {
                            return Err(Failure::not_found(msg));
                        }
                        Some(k.clone())
                    }
                },
            };
            let runs = match &store {
                Some(s) => s.runs(filter.as_deref(), *limit)?,
                None => Vec::new(),
            };
            Ok(json!({ "daemon": "stopped", "runs": runs }))
        }
    }
}

fn render(command: &CronCommand, reply: &Value) -> anyhow::Result<()> {
    let stopped = reply["daemon"].as_str() == Some("stopped");
    if stopped {
        eprintln!("note: the daemon is stopped; showing the database and config only");
    }
    match command {
        CronCommand::List { .. } | CronCommand::Status { name: None, .. } => {
            let views: Vec<JobView> = serde_json::from_value(reply["jobs"].clone())?;
            print_table(&views);
        }
        CronCommand::Status { .. } => {
            let v: JobView = serde_json::from_value(reply["job"].clone())?;
            print_detail(&v);
        }
        CronCommand::Enable { .. } | CronCommand::Disable { .. } => {
            let v: JobView = serde_json::from_value(reply["job"].clone())?;
            println!(
                "{} ({}) is now {} (source: {})",
                v.name,
                v.id,
                if v.enabled { "enabled" } else { "disabled" },
                v.enabled_source
            );
            if stopped {
                println!("the daemon is stopped; this applies when it starts");
            }
        }
        CronCommand::Run { detach, .. } => {
            let r: RunRecord = serde_json::from_value(reply["run"].clone())?;
            if *detach {
                println!("run #{} of {} started", r.id, r.job_name);
            } else {
                println!(
                    "run #{} of {}: {}{}",
                    r.id,
                    r.job_name,
                    r.status,
                    duration(&r).map(|d| format!(" in {d}")).unwrap_or_default()
                );
                if let Some(e) = &r.error {
                    println!("error: {e}");
                }
                if let Some(o) = &r.output {
                    println!("{o}");
                }
            }
        }
        CronCommand::Runs { .. } => {
            let runs: Vec<RunRecord> = serde_json::from_value(reply["runs"].clone())?;
            print_runs(&runs);
        }
        CronCommand::Add(_) => render_added(reply)?,
        CronCommand::Remove { .. } => render_removed(reply),
    }
    Ok(())
}

fn when(t: Option<DateTime<Utc>>, tz: &str) -> String {
    let Some(t) = t else {
        return "-".into();
    };
    match tz.parse::<Tz>() {
        Ok(tz) => t
            .with_timezone(&tz)
            .format("%Y-%m-%d %H:%M:%S %:z")
            .to_string(),
        Err(_) => t.format("%Y-%m-%d %H:%M:%S UTC").to_string(),
    }
}

fn local(t: Option<DateTime<Utc>>) -> String {
    match t {
        Some(t) => t
            .with_timezone(&chrono::Local)
            .format("%Y-%m-%d %H:%M:%S")
            .to_string(),
        None => "-".into(),
    }
}

fn duration(r: &RunRecord) -> Option<String> {
    let d = (r.finished_at? - r.started_at?).to_std().ok()?;
    Some(format!("{:.1}s", d.as_secs_f64()))
}

fn one_line(s: &str, max: usize) -> String {
    let line = s.lines().next().unwrap_or("");
    let mut out: String = line.chars().take(max).collect();
    if line.chars().count() > max || s.lines().nth(1).is_some() {
        out.push('…');
    }
    out
}

fn print_table(views: &[JobView]) {
    if views.is_empty() {
        println!("no cron jobs ([[cron.jobs]] in the config, or `zeroclaw cron add`)");
        return;
    }
    println!(
        "{:<8}  {:<8}  {:<16}  {:<20}  {:<25}  {:<11}  {:<5}  NAME",
        "ID", "ENABLED", "SCHEDULE", "TIMEZONE", "NEXT RUN", "LAST", "FAILS"
    );
    for v in views {
        let enabled = match (v.enabled, v.enabled_source.as_str()) {
            (true, "override") => "yes*",
            (false, "override") => "no*",
            (true, _) => "yes",
            (false, _) => "no",
        };
        println!(
            "{:<8}  {:<8}  {:<16}  {:<20}  {:<25}  {:<11}  {:<5}  {}",
            v.id,
            enabled,
            v.schedule,
            v.timezone,
            when(v.next_run, &v.timezone),
            v.last_run
                .as_ref()
                .map(|r| r.status.as_str())
                .unwrap_or("-"),
            v.failures_in_a_row,
            match (v.source.as_str(), v.state.as_str()) {
                ("runtime", "done") => format!("{} (runtime, done)", v.name),
                ("runtime", _) => format!("{} (runtime)", v.name),
                _ => v.name.clone(),
            }
        );
    }
    if views.iter().any(|v| v.enabled_source == "override") {
        println!("* set by `zeroclaw cron enable/disable`, overriding the config");
    }
}

fn print_detail(v: &JobView) {
    println!("{} (id {})", v.name, v.id);
    println!("  schedule          {} ({})", v.schedule, v.timezone);
    let source = if v.enabled_source == "override" {
        format!(
            "override by `cron {}`; config says {}",
            if v.enabled { "enable" } else { "disable" },
            if v.config_enabled {
                "enabled"
            } else {
                "disabled"
            }
        )
    } else {
        "from config".into()
    };
    println!(
        "  enabled           {} ({source})",
        if v.enabled { "yes" } else { "no" }
    );
    println!("  state             {}", v.state);
    println!("  failures in a row {}", v.failures_in_a_row);
    let Some(d) = &v.detail else {
        return;
    };
    if let Some(r) = &d.running {
        println!(
            "  running           {}since {}",
            r.run_id.map(|i| format!("run #{i} ")).unwrap_or_default(),
            local(Some(r.started_at))
        );
    }
    println!(
        "  deliver to        {}",
        d.deliver_to.as_deref().unwrap_or("(history and log only)")
    );
    println!("  timeout           {}", d.timeout);
    println!("  message           {}", one_line(&d.message, 70));
    if d.upcoming.is_empty() {
        println!("  next runs         none");
    } else {
        println!("  next runs");
        for t in &d.upcoming {
            println!("    {}", when(Some(*t), &v.timezone));
        }
    }
    if d.recent_runs.is_empty() {
        println!("  last runs         none");
    } else {
        println!("  last runs");
        print_runs_indented(&d.recent_runs, "    ");
    }
}

fn print_runs(runs: &[RunRecord]) {
    if runs.is_empty() {
        println!("no runs recorded");
        return;
    }
    print_runs_indented(runs, "");
}

fn print_runs_indented(runs: &[RunRecord], indent: &str) {
    println!(
        "{indent}{:<6}  {:<11}  {:<19}  {:<19}  {:<8}  {:<8}  DETAIL",
        "RUN", "STATUS", "SCHEDULED", "STARTED", "TOOK", "JOB"
    );
    for r in runs {
        let detail = r
            .error
            .as_deref()
            .or(r.output.as_deref())
            .map(|s| one_line(s, 60))
            .unwrap_or_default();
        println!(
            "{indent}{:<6}  {:<11}  {:<19}  {:<19}  {:<8}  {:<8}  {detail}",
            r.id,
            r.status.as_str(),
            local(r.scheduled_at),
            local(r.started_at),
            duration(r).unwrap_or_else(|| "-".into()),
            r.job_id,
        );
    }
}
