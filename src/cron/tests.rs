//! In-process tests of the job actor, delivery and the control handlers,
//! with real time (wall-clock fire times) and deadlines, never bare sleeps.

use super::control::CronControl;
use super::*;
use crate::agent::Agent;
use crate::channels::msg::ChannelMsg;
use crate::component::{Live, Registry};
use crate::metrics::Metrics;
use chrono::Utc;
use futures_util::future::BoxFuture;
use ractor::Actor;
use ractor::rpc::CallResult;
use serde_json::json;
use std::path::Path;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

static UNIQUE: AtomicU64 = AtomicU64::new(0);

fn unique(prefix: &str) -> String {
    format!(
        "test-{}-{prefix}-{}",
        std::process::id(),
        UNIQUE.fetch_add(1, Ordering::Relaxed)
    )
}

fn job(name: &str, schedule: &str) -> CronJob {
    CronJob {
        name: name.into(),
        schedule: schedule.into(),
        enabled: true,
        message: "hello from cron".into(),
        provider: None,
        model: None,
        tools: Vec::new(),
        timezone: Some("UTC".into()),
        deliver_to: None,
        timeout: Duration::from_secs(5),
    }
}

/// What the daemon would hand cron, built here without a daemon.
struct Ctx {
    config: Live<Config>,
    agent: Live<Agent>,
    metrics: Arc<Metrics>,
    cron: CronHandle,
    control: CronControl,
}

impl Ctx {
    fn deps(&self) -> JobDeps {
        JobDeps {
            cron: self.cron.clone(),
            config: self.config.clone(),
            metrics: self.metrics.clone(),
        }
    }

    /// The production runner, delivering into a tree that is not running.
    fn runner(&self) -> Arc<AgentRunner> {
        Arc::new(AgentRunner::new(
            self.agent.clone(),
            Registry::new(&unique("no-tree")),
        ))
    }
}

fn ctx_with(dir: &Path, jobs: Vec<CronJob>, tweak: impl FnOnce(&mut Config)) -> Ctx {
    let mut config = Config::default();
    config.daemon.state_dir = Some(dir.to_path_buf());
    config.cron.jobs = jobs;
    tweak(&mut config);
    let metrics = Arc::new(Metrics::default());
    let agent = Agent::new(&config, dir.to_path_buf())
        .unwrap()
        .with_metrics(metrics.clone());
    let cron = CronHandle::open(&config).unwrap();
    let config = Live::new(config);
    Ctx {
        control: CronControl {
            cron: cron.clone(),
            config: config.clone(),
            tree: None,
        },
        config,
        agent: Live::new(agent),
        metrics,
        cron,
    }
}

/// Spawn a job actor outside any tree (registered under a unique name).
async fn spawn(ctx: &Ctx, job: CronJob, runner: Arc<dyn Runner>) -> ActorRef<JobMsg> {
    let name = unique("job");
    ctx.cron.register(&job.name, &name);
    let (actor, _) = Actor::spawn(
        Some(name),
        JobActor,
        JobArgs {
            deps: ctx.deps(),
            job: Arc::new(job),
            runner,
        },
    )
    .await
    .unwrap();
    actor
}

async fn live(actor: &ActorRef<JobMsg>) -> JobLive {
    match actor
        .call(JobMsg::Status, Some(Duration::from_secs(5)))
        .await
    {
        Ok(CallResult::Success(l)) => l,
        _ => panic!("job actor did not answer"),
    }
}

fn runs(ctx: &Ctx, name: &str) -> Vec<RunRecord> {
    let id = job_id(name);
    // A reader of its own, as the offline CLI is: no database yet (the
    // store creates it at its first call) means no runs yet.
    match Store::open_read_only(&ctx.config.get().cron_db()) {
        Err(crate::store::StoreError::Missing(_)) => Vec::new(),
        store => store.unwrap().runs(Some(&id), 1000).unwrap(),
    }
}

/// Poll `cond` until it holds or `within` passes.
async fn wait_for(within: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let deadline = tokio::time::Instant::now() + within;
    while tokio::time::Instant::now() < deadline {
        if cond() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    cond()
}

/// A runner that takes `delay` and counts concurrent runs.
struct Slow {
    delay: Duration,
    active: Arc<AtomicUsize>,
    max_active: Arc<AtomicUsize>,
}

impl Slow {
    fn new(delay: Duration) -> Arc<Self> {
        Arc::new(Self {
            delay,
            active: Arc::new(AtomicUsize::new(0)),
            max_active: Arc::new(AtomicUsize::new(0)),
        })
    }
}

impl Runner for Slow {
    fn run(&self, _id: String, _job: Arc<CronJob>) -> BoxFuture<'static, RunOutcome> {
        let (delay, active, max) = (self.delay, self.active.clone(), self.max_active.clone());
        Box::pin(async move {
            let now = active.fetch_add(1, Ordering::SeqCst) + 1;
            max.fetch_max(now, Ordering::SeqCst);
            tokio::time::sleep(delay).await;
            active.fetch_sub(1, Ordering::SeqCst);
            RunOutcome::ok("slow done")
        })
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fires_every_second_through_the_echo_agent() {
    let dir = tempfile::tempdir().unwrap();
    let j = job("每秒任务", "* * * * * *");
    let ctx = ctx_with(dir.path(), vec![j.clone()], |_| {});
    let actor = spawn(&ctx, j, ctx.runner()).await;
    let ok = wait_for(Duration::from_secs(8), || {
        runs(&ctx, "每秒任务")
            .iter()
            .filter(|r| r.status == RunStatus::Ok)
            .count()
            >= 2
    })
    .await;
    assert!(ok, "two runs within 8s: {:?}", runs(&ctx, "每秒任务"));
    let r = runs(&ctx, "每秒任务");
    let done: Vec<_> = r.iter().filter(|r| r.status == RunStatus::Ok).collect();
    assert_eq!(done[0].output.as_deref(), Some("echo: hello from cron"));
    for run in &done {
        let (s, st) = (run.scheduled_at.unwrap(), run.started_at.unwrap());
        assert_eq!(
            s.timestamp_subsec_millis(),
            0,
            "fire times are whole seconds"
        );
        assert!(st >= s, "started {st} before its fire time {s}");
        assert!(
            st - s < chrono::Duration::milliseconds(900),
            "late: {s} → {st}"
        );
    }
    let l = live(&actor).await;
    assert!(l.enabled && l.next_fire.is_some());
    assert!(
        ctx.metrics
            .counters()
            .iter()
            .any(|(n, labels, v)| n == "zeroclaw_cron_runs_total"
                && labels.contains(&("status".into(), "ok".into()))
                && *v >= 2)
    );
    actor.stop(None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fire_during_a_run_is_skipped_never_overlapping() {
    let dir = tempfile::tempdir().unwrap();
    let j = job("slow", "* * * * * *");
    let ctx = ctx_with(dir.path(), vec![j.clone()], |_| {});
    let slow = Slow::new(Duration::from_millis(2500));
    let actor = spawn(&ctx, j, slow.clone()).await;
    let ok = wait_for(Duration::from_secs(10), || {
        let r = runs(&ctx, "slow");
        r.iter().any(|r| r.status == RunStatus::Skipped)
            && r.iter().any(|r| r.status == RunStatus::Ok)
    })
    .await;
    let r = runs(&ctx, "slow");
    assert!(ok, "a skipped and an ok run: {r:?}");
    assert_eq!(slow.max_active.load(Ordering::SeqCst), 1);
    let skipped = r.iter().find(|r| r.status == RunStatus::Skipped).unwrap();
    assert!(skipped.error.as_deref().unwrap().contains("still running"));
    assert!(skipped.started_at.is_none());
    actor.stop(None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_past_its_timeout_is_recorded_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let mut j = job("stuck", "0 0 1 1 *");
    j.timeout = Duration::from_millis(300);
    let ctx = ctx_with(dir.path(), vec![j.clone()], |_| {});
    let actor = spawn(&ctx, j, Slow::new(Duration::from_secs(30))).await;
    let reply = actor
        .call(
            |reply| JobMsg::RunNow { wait: true, reply },
            Some(Duration::from_secs(10)),
        )
        .await
        .unwrap();
    let CallResult::Success(Ok(record)) = reply else {
        panic!("no run result")
    };
    assert_eq!(record.status, RunStatus::Timeout);
    assert!(record.error.unwrap().contains("timed out after 300ms"));
    assert_eq!(runs(&ctx, "stuck")[0].status, RunStatus::Timeout);
    assert!(live(&actor).await.running.is_none());
    actor.stop(None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_now_refuses_a_second_run_and_stop_marks_interrupted() {
    let dir = tempfile::tempdir().unwrap();
    let j = job("long", "0 0 1 1 *");
    let ctx = ctx_with(dir.path(), vec![j.clone()], |_| {});
    let actor = spawn(&ctx, j, Slow::new(Duration::from_secs(30))).await;
    let call = |wait| {
        let actor = actor.clone();
        async move {
            match actor
                .call(
                    |reply| JobMsg::RunNow { wait, reply },
                    Some(Duration::from_secs(5)),
                )
                .await
            {
                Ok(CallResult::Success(r)) => r,
                _ => panic!("no reply"),
            }
        }
    };
    let started = call(false).await.unwrap();
    assert_eq!(started.status, RunStatus::Running);
    let refused = call(false).await.unwrap_err();
    assert!(refused.contains("already running"), "{refused}");
    actor.stop(None);
    let ok = wait_for(Duration::from_secs(5), || {
        runs(&ctx, "long")[0].status == RunStatus::Interrupted
    })
    .await;
    assert!(ok, "{:?}", runs(&ctx, "long"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disable_and_enable_replan_and_persist() {
    let dir = tempfile::tempdir().unwrap();
    let j = job("toggle", "0 9 * * *");
    let ctx = ctx_with(dir.path(), vec![j.clone()], |_| {});
    let actor = spawn(&ctx, j.clone(), ctx.runner()).await;
    assert!(live(&actor).await.next_fire.is_some());

    let v = control::handle(&ctx.control, "cron.disable", json!({"name": "toggle"}))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(v["job"]["enabled"], false);
    assert_eq!(v["job"]["enabled_source"], "override");
    let l = live(&actor).await;
    assert!(!l.enabled && l.next_fire.is_none());

    // A new actor (restart, reload) starts disabled from the override.
    actor.stop(None);
    let again = spawn(&ctx, j.clone(), ctx.runner()).await;
    assert!(!live(&again).await.enabled);

    // Enabling back to the config's value removes the override.
    let id = job_id("toggle");
    let v = control::handle(&ctx.control, "cron.enable", json!({ "name": id }))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(v["job"]["enabled"], true);
    assert_eq!(v["job"]["enabled_source"], "config");
    assert!(live(&again).await.next_fire.is_some());
    again.stop(None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missed_fire_times_are_recorded_and_catch_up_once_runs_once() {
    let dir = tempfile::tempdir().unwrap();
    let skip = job("skip-job", "* * * * *");
    let once = job("once-job", "* * * * *");
    let ctx = ctx_with(dir.path(), vec![skip.clone(), once.clone()], |c| {
        c.cron.max_runs_per_job = 1000;
    });
    let cron = ctx.cron.clone();
    let ten_min_ago = Utc::now() - chrono::Duration::minutes(10);
    let three_h_ago = Utc::now() - chrono::Duration::hours(3);
    cron.store
        .set_anchor(job_id("skip-job"), "skip-job".into(), ten_min_ago)
        .await
        .unwrap();
    cron.store
        .set_anchor(job_id("once-job"), "once-job".into(), three_h_ago)
        .await
        .unwrap();
    // skip (the default)
    let a = spawn(&ctx, skip, Slow::new(Duration::from_millis(1))).await;
    live(&a).await; // post_start has run
    let r = runs(&ctx, "skip-job");
    assert!((9..=10).contains(&r.len()), "{r:?}");
    assert!(r.iter().all(|r| r.status == RunStatus::Missed));
    assert!(r[0].error.as_deref().unwrap().contains("was down"));
    a.stop(None);

    // once: capped rows, one run at start
    ctx.config.set({
        let mut c = (*ctx.config.get()).clone();
        c.cron.catch_up = crate::config::CatchUp::Once;
        c
    });
    let b = spawn(&ctx, once, Slow::new(Duration::from_millis(1))).await;
    let ok = wait_for(Duration::from_secs(5), || {
        runs(&ctx, "once-job")
            .iter()
            .any(|r| r.status == RunStatus::Ok)
    })
    .await;
    let r = runs(&ctx, "once-job");
    assert!(ok, "{r:?}");
    let missed: Vec<_> = r.iter().filter(|r| r.status == RunStatus::Missed).collect();
    assert_eq!(missed.len(), job::MAX_MISSED_RECORDS);
    assert!(missed[0].error.as_deref().unwrap().contains("not recorded"));
    let ran: Vec<_> = r.iter().filter(|r| r.status == RunStatus::Ok).collect();
    assert_eq!(ran.len(), 1);
    assert_eq!(ran[0].scheduled_at, missed[0].scheduled_at);
    b.stop(None);
}

/// A channel actor speaking `ChannelMsg`, for delivery.
struct FakeChannel;

impl Actor for FakeChannel {
    type Msg = ChannelMsg;
    type State = tokio::sync::mpsc::UnboundedSender<(String, String)>;
    type Arguments = tokio::sync::mpsc::UnboundedSender<(String, String)>;

    async fn pre_start(
        &self,
        _: ActorRef<ChannelMsg>,
        tx: Self::Arguments,
    ) -> Result<Self::State, ractor::ActorProcessingErr> {
        Ok(tx)
    }

    async fn handle(
        &self,
        _: ActorRef<ChannelMsg>,
        msg: ChannelMsg,
        tx: &mut Self::State,
    ) -> Result<(), ractor::ActorProcessingErr> {
        if let ChannelMsg::Deliver {
            target,
            text,
            reply,
        } = msg
        {
            let verdict = if target == "403" {
                Err("Forbidden: bot was blocked by the user".to_string())
            } else {
                let _ = tx.send((target, text));
                Ok(())
            };
            if let Some(r) = reply {
                let _ = r.send(verdict);
            }
        }
        Ok(())
    }
}

#[tokio::test]
async fn delivery_reaches_the_channel_or_explains_why_not() {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let name = unique("channel:telegram");
    let (ch, _) = Actor::spawn(Some(name.clone()), FakeChannel, tx)
        .await
        .unwrap();
    runner::deliver_via(&name, "telegram:42", "早上好")
        .await
        .unwrap();
    assert_eq!(rx.recv().await.unwrap(), ("42".into(), "早上好".into()));
    let e = runner::deliver_via(&name, "telegram:403", "x")
        .await
        .unwrap_err();
    assert!(e.contains("blocked"), "{e}");
    let e = runner::deliver_via(&unique("none"), "telegram:1", "x")
        .await
        .unwrap_err();
    assert!(e.contains("is not running"), "{e}");
    ch.stop(None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn undeliverable_result_is_an_error_with_output_kept() {
    let dir = tempfile::tempdir().unwrap();
    let mut j = job("推送", "0 0 1 1 *");
    j.deliver_to = Some("telegram:42".into());
    let ctx = ctx_with(dir.path(), vec![j.clone()], |_| {});
    let actor = spawn(&ctx, j, ctx.runner()).await;
    let v = control::handle(&ctx.control, "cron.run", json!({"name": "推送"}))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(v["run"]["status"], "error");
    assert_eq!(v["run"]["output"], "echo: hello from cron");
    assert!(v["run"]["error"].as_str().unwrap().contains("telegram:42"));
    actor.stop(None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn control_list_status_runs_and_unknown_names() {
    let dir = tempfile::tempdir().unwrap();
    let a = job("每日新闻推送", "0 9 * * *");
    let b = job("系统健康检查", "0 3 * * *");
    let ctx = ctx_with(dir.path(), vec![a.clone(), b.clone()], |_| {});
    let actor = spawn(&ctx, a, ctx.runner()).await;

    let v = control::handle(&ctx.control, "cron.run", json!({"name": "每日新闻推送"}))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(v["run"]["status"], "ok");

    let list = control::handle(&ctx.control, "cron.list", json!({}))
        .await
        .unwrap()
        .unwrap();
    let jobs = list["jobs"].as_array().unwrap();
    assert_eq!(jobs.len(), 2);
    assert_eq!(jobs[0]["id"], job_id("每日新闻推送"));
    assert_eq!(jobs[0]["state"], "idle");
    assert_eq!(jobs[0]["last_run"]["status"], "ok");
    assert_eq!(jobs[1]["state"], "down"); // no actor spawned for it

    let st = control::handle(
        &ctx.control,
        "cron.status",
        json!({"name": job_id("每日新闻推送")}),
    )
    .await
    .unwrap()
    .unwrap();
    let upcoming = st["job"]["detail"]["upcoming"].as_array().unwrap();
    assert_eq!(upcoming.len(), 5);
    assert_eq!(st["job"]["detail"]["recent_runs"][0]["status"], "ok");

    let r = control::handle(
        &ctx.control,
        "cron.runs",
        json!({"id": job_id("每日新闻推送"), "limit": 5}),
    )
    .await
    .unwrap()
    .unwrap();
    assert_eq!(r["runs"].as_array().unwrap().len(), 1);

    let e = control::handle(&ctx.control, "cron.status", json!({"name": "每日新闻"}))
        .await
        .unwrap()
        .unwrap_err();
    assert_eq!(e.code, "not_found");
    assert!(
        e.message.contains("did you mean `每日新闻推送`"),
        "{}",
        e.message
    );
    let e = control::handle(&ctx.control, "cron.runs", json!({"limit": 0}))
        .await
        .unwrap()
        .unwrap_err();
    assert_eq!(e.code, "bad_request");
    assert!(
        control::handle(&ctx.control, "status", json!({}))
            .await
            .is_none()
    );
    actor.stop(None);
}

#[test]
fn suggestions_for_unknown_names() {
    let jobs = vec![
        job("backup reminder", "@daily"),
        job("health check", "@daily"),
    ];
    assert!(resolve(&jobs, "backup reminder").is_ok());
    assert!(resolve(&jobs, &job_id("health check")).is_ok());
    let e = resolve(&jobs, "backup remindr").unwrap_err();
    assert!(e.contains("did you mean `backup reminder`"), "{e}");
    let e = resolve(&jobs, "zzzzzzzzzzzzzz").unwrap_err();
    assert!(e.contains("cron list"), "{e}");
}

/// Config validation's findings about `[[cron.jobs]]`, one sentence each.
fn validate_jobs(jobs: &[CronJob]) -> Vec<String> {
    use crate::config::document::Seg;
    let config = Config {
        cron: crate::config::CronConfig {
            jobs: jobs.to_vec(),
            ..Default::default()
        },
        ..Default::default()
    };
    crate::config::validate::validate(&config)
        .into_iter()
        .filter(|f| f.severity == crate::config::validate::Severity::Error)
        .filter_map(|f| match f.path.as_slice() {
            [Seg::Key(c), Seg::Key(j), Seg::Index(i), ..] if c == "cron" && j == "jobs" => {
                Some(format!(
                    "[[cron.jobs]] #{} (`{}`): {}",
                    i + 1,
                    jobs[*i].name,
                    f.message
                ))
            }
            _ => None,
        })
        .collect()
}

#[test]
fn job_validation_names_each_problem() {
    let mut bad = job("x", "0 9 * * 8");
    bad.timezone = Some("Mars/Base".into());
    bad.deliver_to = Some("irc:#c".into());
    let dup = job("x", "@daily");
    let problems = validate_jobs(&[bad, dup, job("ok", "@daily")]);
    assert_eq!(problems.len(), 4, "{problems:#?}");
    assert!(problems[0].contains("#1 (`x`)") && problems[0].contains("out of range"));
    assert!(problems[1].contains("Mars/Base"));
    assert!(problems[2].contains("unknown channel"));
    assert!(problems[3].contains("#2") && problems[3].contains("same name"));
}
