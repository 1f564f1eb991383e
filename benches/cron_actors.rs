//! Many job actors in one process: start time, RSS and fire-time jitter.
//!
//! `cargo bench --bench cron_actors` (env: `CRON_BENCH_JOBS`, default 10000;
//! `CRON_BENCH_SECS`, default 60). Job `i` fires once a minute at second
//! `i % 60`, so the jobs spread evenly over the seconds of a minute, and each
//! run goes the whole production path except the agent: limiter, `running`
//! row, runner, result row, retention. Jitter = `started_at - scheduled_at`
//! as recorded in the database (includes the limiter and the SQLite write).

use chrono::Utc;
use futures_util::future::BoxFuture;
use ractor::Actor;
use std::sync::Arc;
use std::time::{Duration, Instant};
use zeroclaw::config::{Config, CronJob};
use zeroclaw::cron::{CronHandle, JobActor, JobArgs, JobMsg, RunOutcome, Runner, job_id};
use zeroclaw::daemon::wiring::Shared;

struct Instant0;

impl Runner for Instant0 {
    fn run(&self, _id: String, _job: Arc<CronJob>) -> BoxFuture<'static, RunOutcome> {
        Box::pin(async { RunOutcome::ok("ok") })
    }
}

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|n| n.parse().ok())
        })
        .unwrap_or(0)
}

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn percentile(sorted: &[i64], p: f64) -> i64 {
    if sorted.is_empty() {
        return 0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

fn main() {
    // `cargo bench` passes `--bench`; nothing else to parse.
    let jobs = env("CRON_BENCH_JOBS", 10_000);
    let secs = env("CRON_BENCH_SECS", 60) as u64;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    rt.block_on(run(jobs, secs));
}

async fn run(n: usize, secs: u64) {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut config = Config::default();
    config.daemon.state_dir = Some(dir.path().to_path_buf());
    config.cron.jobs = (0..n)
        .map(|i| CronJob {
            name: format!("job-{i}"),
            schedule: format!("{} * * * * *", i % 60),
            enabled: true,
            message: "bench".into(),
            provider: None,
            model: None,
            tools: Vec::new(),
            timezone: Some("UTC".into()),
            deliver_to: None,
            timeout: Duration::from_secs(60),
        })
        .collect();
    let jobs = config.cron.jobs.clone();
    let cron = CronHandle::open(&config).expect("cron store");
    let ctx = Shared::build(config, None, dir.path().to_path_buf()).expect("agent");
    let runner: Arc<dyn Runner> = Arc::new(Instant0);

    let rss0 = rss_kib();
    let t0 = Instant::now();
    let mut actors = Vec::with_capacity(n);
    for job in jobs {
        let name = format!("bench/cron:{}", job.name);
        cron.register(&job.name, &name);
        let (a, _) = Actor::spawn(
            Some(name),
            JobActor,
            JobArgs {
                deps: ctx.job_deps(cron.clone()),
                job: Arc::new(job),
                runner: runner.clone(),
            },
        )
        .await
        .expect("spawn");
        actors.push(a);
    }
    // Every actor has finished post_start once it answers.
    for a in &actors {
        let _ = a.call(JobMsg::Status, Some(Duration::from_secs(60))).await;
    }
    let started = t0.elapsed();
    let rss1 = rss_kib();
    println!(
        "jobs={n} start={:.2}s rss_before={}MiB rss_after={}MiB per_job={:.1}KiB",
        started.as_secs_f64(),
        rss0 / 1024,
        rss1 / 1024,
        (rss1.saturating_sub(rss0)) as f64 / n as f64
    );

    let window_start = Utc::now();
    tokio::time::sleep(Duration::from_secs(secs)).await;
    // Let in-flight runs land.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let rss2 = rss_kib();
    let runs = cron.store.runs(None, usize::MAX).await.expect("runs");
    let mut jitter: Vec<i64> = runs
        .iter()
        .filter(|r| r.scheduled_at.is_some_and(|t| t >= window_start))
        .filter_map(|r| (r.started_at? - r.scheduled_at?).num_microseconds())
        .collect();
    jitter.sort_unstable();
    let statuses = runs
        .iter()
        .fold(std::collections::BTreeMap::new(), |mut m, r| {
            *m.entry(r.status.as_str()).or_insert(0usize) += 1;
            m
        });
    let expected = n as u64 * secs / 60;
    println!(
        "window={secs}s runs={} (expected ~{expected}) statuses={statuses:?} rss_running={}MiB",
        jitter.len(),
        rss2 / 1024
    );
    println!(
        "jitter started-scheduled: p50={:.1}ms p99={:.1}ms max={:.1}ms",
        percentile(&jitter, 0.50) as f64 / 1000.0,
        percentile(&jitter, 0.99) as f64 / 1000.0,
        jitter.last().copied().unwrap_or(0) as f64 / 1000.0
    );
    let one = job_id("job-0");
    let integrity = zeroclaw::cron::Store::open_read_only(&ctx.config.get().cron_db())
        .and_then(|s| s.integrity_check())
        .unwrap_or_default();
    println!("integrity_check={integrity} sample_job={one}");
    for a in actors {
        a.stop(None);
    }
}
