//! The actor that owns one job (`cron:<name>` in the tree).
//!
//! It sleeps until the next fire time (an entry of cron's shared alarms,
//! `alarm.rs`; no polling), then starts a run in a task of its own (`run.rs`) so that it keeps answering
//! status queries and can record a fire that lands during a run as `skipped`.
//! A generation number ties each timer to the plan it was armed for: after
//! enable/disable or a run, a stale timer's `Fire` is ignored.

use super::CronHandle;
use super::interval::{OneShotAtStart, one_shot_at_start};
use super::run::run_task;
pub use super::run::{MAX_MISSED_RECORDS, missed_between};
use super::runner::Runner;
use super::schedule::{Schedule, parse_timezone};
use super::store::RunRecord;
use crate::component::Live;
use crate::config::{CatchUp, Config, CronJob};
use crate::metrics::Metrics;
use crate::store::Store;
use crate::task::TaskGuard;
use chrono::{DateTime, Utc};
use ractor::{Actor, ActorProcessingErr, ActorRef, RpcReplyPort};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// Messages a job actor accepts.
pub enum JobMsg {
    /// The timer for `scheduled` went off (internal).
    Fire {
        scheduled: DateTime<Utc>,
        generation: u64,
    },
    /// Run now. With `wait`, the reply comes when the run has finished;
    /// without, as soon as it is recorded `running`.
    RunNow {
        wait: bool,
        reply: RpcReplyPort<Result<RunRecord, String>>,
    },
    /// Apply an enable/disable already persisted by the caller.
    SetEnabled {
        enabled: bool,
        reply: Option<RpcReplyPort<JobLive>>,
    },
    /// Re-read the persisted override and apply it: sent once the daemon's
    /// socket is up, for a `cron enable|disable` that wrote the database
    /// directly while the actor was starting. Reading it here, in the
    /// actor's order, means a `SetEnabled` from the socket meanwhile is
    /// never undone by an older reading.
    Reread,
    Status(RpcReplyPort<JobLive>),
    /// A run task recorded its row (internal).
    RunBegun {
        token: u64,
        run_id: i64,
    },
    /// A run task ended (internal).
    RunDone {
        token: u64,
    },
}

/// What the actor knows that the database does not.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobLive {
    pub enabled: bool,
    pub next_fire: Option<DateTime<Utc>>,
    pub running: Option<RunningView>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunningView {
    pub run_id: Option<i64>,
    pub scheduled_at: Option<DateTime<Utc>>,
    pub started_at: DateTime<Utc>,
}

/// What every job actor is handed: the store and run limiter, the config in
/// force (retention, catch-up and output limits are read per run), metrics.
#[derive(Clone)]
pub struct JobDeps {
    pub cron: CronHandle,
    pub config: Live<Config>,
    pub metrics: Arc<Metrics>,
}

/// Everything a job actor is started with.
pub struct JobArgs {
    pub deps: JobDeps,
    /// Shared with the child's spec: every (re)start reads the same definition.
    pub job: Arc<CronJob>,
    pub runner: Arc<dyn Runner>,
}

pub struct JobActor;

/// The timer (an entry of cron's shared alarms) and the run task are held
/// in guards, so they end with the actor even when it is killed (ractor
/// skips `post_stop` then).
type Timer = super::alarm::Alarm;

struct Running {
    token: u64,
    run_id: Option<i64>,
    scheduled_at: Option<DateTime<Utc>>,
    started_at: DateTime<Utc>,
    _task: TaskGuard,
}

/// Shared with run tasks.
#[derive(Clone)]
pub(super) struct Env {
    pub deps: JobDeps,
    pub job: Arc<CronJob>,
    pub id: String,
    pub runner: Arc<dyn Runner>,
}

impl Env {
    pub fn store(&self) -> &dyn Store {
        self.deps.cron.store.as_ref()
    }

    /// Run history kept per job (`[cron] max_runs_per_job`, read per run).
    pub fn keep(&self) -> usize {
        self.deps.config.get().cron.max_runs_per_job.max(1)
    }
}

pub struct JobState {
    env: Env,
    schedule: Schedule,
    enabled: bool,
    generation: u64,
    next_token: u64,
    next_fire: Option<DateTime<Utc>>,
    timer: Option<Timer>,
    running: Option<Running>,
}

impl JobState {
    /// Put this actor's state on the board `cron list` reads.
    fn publish(&self, myself: &ActorRef<JobMsg>) {
        let board = &self.env.deps.cron.board;
        board.publish(&self.env.job.name, myself.get_id(), self.live());
    }

    fn live(&self) -> JobLive {
        JobLive {
            enabled: self.enabled,
            next_fire: self.next_fire,
            running: self.running.as_ref().map(|r| RunningView {
                run_id: r.run_id,
                scheduled_at: r.scheduled_at,
                started_at: r.started_at,
            }),
        }
    }

    /// Plan the next fire strictly after `after` (or nothing when disabled).
    fn arm(&mut self, myself: &ActorRef<JobMsg>, after: DateTime<Utc>) {
        self.generation += 1;
        self.timer = None;
        self.next_fire = None;
        if !self.enabled {
            return;
        }
        let Some(next) = self.schedule.next_after(after) else {
            tracing::warn!(job = %self.env.job.name, "schedule never fires again");
            return;
        };
        self.next_fire = Some(next);
        let delay = (next - Utc::now()).to_std().unwrap_or_default();
        let alarms = &self.env.deps.cron.alarms;
        self.timer = Some(alarms.arm(myself, delay, next, self.generation));
    }

    /// Fire times that passed while this timer was late (the process was
    /// stopped, suspended or starved): recorded `missed`, as after downtime,
    /// instead of vanishing when the next timer is armed after `now`.
    async fn record_late(&self, scheduled: DateTime<Utc>, now: DateTime<Utc>) {
        let (late, total) = missed_between(&self.schedule, scheduled, now);
        if late.is_empty() {
            return;
        }
        let (id, name) = (self.env.id.clone(), self.env.job.name.clone());
        tracing::warn!(job = %name, missed = total, %scheduled, "the job's timer went off late; fire times missed");
        for _ in 0..late.len() {
            self.env.deps.metrics.cron_run(&name, "missed");
        }
        let mut note =
            "not run: its time had passed when the job's timer went off (the process was stalled)"
                .to_string();
        if total > late.len() {
            note.push_str(&format!(
                "; {} earlier fire times not recorded",
                total - late.len()
            ));
        }
        let keep = self.env.keep();
        let res = self
            .env
            .store()
            .record_missed(id, name, late, note, now, keep)
            .await;
        if let Err(e) = res {
            tracing::error!(job = %self.env.job.name, error = %e, "cannot record missed fire times");
        }
    }

    /// The timer for `scheduled` went off: run, or record `skipped` when the
    /// previous run is still going; then plan the next fire.
    async fn fire(&mut self, myself: &ActorRef<JobMsg>, scheduled: DateTime<Utc>, generation: u64) {
        if generation != self.generation || !self.enabled {
            return;
        }
        if let Some(r) = &self.running {
            let (id, name) = (self.env.id.clone(), self.env.job.name.clone());
            let note = match r.run_id {
                Some(run) => format!("run #{run} was still running"),
                None => "the previous run was still running".to_string(),
            };
            tracing::warn!(job = %name, %scheduled, "fire skipped: {note}");
            self.env.deps.metrics.cron_run(&name, "skipped");
            let now = Utc::now();
            let keep = self.env.keep();
            let res = self
                .env
                .store()
                .record_skipped(id, name, scheduled, note, now, keep)
                .await;
            if let Err(e) = res {
                tracing::error!(job = %self.env.job.name, error = %e, "cannot record a skipped run");
            }
        } else {
            self.start_run(myself, Some(scheduled), None);
        }
        let now = Utc::now();
        self.record_late(scheduled, now).await;
        self.arm(myself, scheduled.max(now));
    }

    fn start_run(
        &mut self,
        myself: &ActorRef<JobMsg>,
        scheduled_at: Option<DateTime<Utc>>,
        reply: Option<(bool, RpcReplyPort<Result<RunRecord, String>>)>,
    ) {
        self.next_token += 1;
        let token = self.next_token;
        let task = tokio::spawn(run_task(
            self.env.clone(),
            myself.clone(),
            token,
            scheduled_at,
            reply,
        ));
        self.running = Some(Running {
            token,
            run_id: None,
            scheduled_at,
            started_at: Utc::now(),
            _task: task.into(),
        });
        // At once, not after the message: the run's task may answer its
        // caller before this actor's message ends.
        self.publish(myself);
    }
}

impl Actor for JobActor {
    type Msg = JobMsg;
    type State = JobState;
    type Arguments = JobArgs;

    async fn pre_start(
        &self,
        _myself: ActorRef<JobMsg>,
        args: JobArgs,
    ) -> Result<JobState, ActorProcessingErr> {
        let tz = parse_timezone(args.job.timezone.as_deref())
            .map_err(|e| format!("cron job `{}`: {e}", args.job.name))?;
        let schedule = Schedule::parse(&args.job.schedule, tz)
            .map_err(|e| format!("cron job `{}`: {e}", args.job.name))?;
        let id = super::job_id(&args.job.name);
        // The override is read in post_start, with the anchor, in one store call.
        let enabled = args.job.enabled;
        Ok(JobState {
            env: Env {
                deps: args.deps,
                job: args.job,
                id,
                runner: args.runner,
            },
            schedule,
            enabled,
            generation: 0,
            next_token: 0,
            next_fire: None,
            timer: None,
            running: None,
        })
    }

    async fn post_start(
        &self,
        myself: ActorRef<JobMsg>,
        state: &mut JobState,
    ) -> Result<(), ActorProcessingErr> {
        let now = Utc::now();
        let (id, name) = (state.env.id.clone(), state.env.job.name.clone());
        let config_enabled = state.env.job.enabled;
        // Nothing is owed for the time a job spends disabled. The daemon's
        // first start opened every job at once.
        let (enabled, anchor) = match state.env.deps.cron.openings.take(&id).await {
            Some(opened) => opened,
            None => {
                state
                    .env
                    .store()
                    .open_job(id, name, config_enabled, now)
                    .await?
            }
        };
        state.enabled = enabled;
        let started = start_enabled(&myself, state, anchor, now).await;
        state.publish(&myself);
        started
    }

    async fn handle(
        &self,
        myself: ActorRef<JobMsg>,
        message: JobMsg,
        state: &mut JobState,
    ) -> Result<(), ActorProcessingErr> {
        let handled = handle(&myself, message, state).await;
        state.publish(&myself);
        handled
    }

    async fn post_stop(
        &self,
        myself: ActorRef<JobMsg>,
        state: &mut JobState,
    ) -> Result<(), ActorProcessingErr> {
        state.timer = None;
        let now = Utc::now();
        let (id, name) = (state.env.id.clone(), state.env.job.name.clone());
        state.env.deps.cron.board.withdraw(&name, myself.get_id());
        // Dropping the run aborts its task; its `running` row may exist
        // before this actor heard the run's id, so it is found by job.
        let interrupted = state.running.take().is_some();
        let enabled = state.enabled;
        let res = state
            .env
            .store()
            .close_job(id, name, interrupted, !enabled, now)
            .await;
        if let Err(e) = res {
            tracing::error!(job = %state.env.job.name, error = %e, "cannot record the job's stop");
        }
        Ok(())
    }
}

/// The rest of a start once the job's opening is known: nothing when
/// disabled; a one-shot is armed, run, missed or done; a schedule records
/// what it missed while down, catches up and is armed.
async fn start_enabled(
    myself: &ActorRef<JobMsg>,
    state: &mut JobState,
    anchor: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Result<(), ActorProcessingErr> {
    if !state.enabled {
        return Ok(());
    }
    if let Some(at) = state.schedule.one_shot() {
        return one_shot_start(myself, state, at, anchor, now).await;
    }
    let Some(anchor) = anchor else {
        state.arm(myself, now);
        return Ok(());
    };
    let (id, name) = (state.env.id.clone(), state.env.job.name.clone());
    let (missed, total) = missed_between(&state.schedule, anchor, now);
    let mut catch_up_at = None;
    if let Some(last) = missed.last().copied() {
        let mut note = "not run: the daemon (or this job's actor) was down".to_string();
        if total > missed.len() {
            note.push_str(&format!(
                "; {} earlier fire times since {} not recorded",
                total - missed.len(),
                anchor.to_rfc3339()
            ));
        }
        tracing::warn!(job = %name, missed = total, "fire times missed while down");
        let keep = state.env.keep();
        for _ in 0..missed.len() {
            state.env.deps.metrics.cron_run(&name, "missed");
        }
        state
            .env
            .store()
            .record_missed(id, name, missed, note, now, keep)
            .await?;
        if state.env.deps.config.get().cron.catch_up == CatchUp::Once {
            catch_up_at = Some(last);
        }
    }
    if let Some(at) = catch_up_at {
        state.start_run(myself, Some(at), None);
    }
    state.arm(myself, now);
    Ok(())
}

/// One message, in the actor's order.
async fn handle(
    myself: &ActorRef<JobMsg>,
    message: JobMsg,
    state: &mut JobState,
) -> Result<(), ActorProcessingErr> {
    match message {
        JobMsg::Fire {
            scheduled,
            generation,
        } => {
            state.fire(myself, scheduled, generation).await;
        }
        JobMsg::RunNow { wait, reply } => {
            if let Some(r) = &state.running {
                let which = r
                    .run_id
                    .map(|id| format!(" (run #{id})"))
                    .unwrap_or_default();
                let _ = reply.send(Err(format!(
                    "job `{}` is already running{which} since {}; wait for it to finish",
                    state.env.job.name,
                    r.started_at.to_rfc3339()
                )));
            } else {
                state.start_run(myself, None, Some((wait, reply)));
            }
        }
        JobMsg::SetEnabled { enabled, reply } => {
            set_enabled(myself, state, enabled).await?;
            // Published before the answer: the caller reads the board next.
            state.publish(myself);
            if let Some(port) = reply {
                let _ = port.send(state.live());
            }
        }
        JobMsg::Reread => {
            let (id, config_enabled) = (state.env.id.clone(), state.env.job.enabled);
            let enabled = state
                .env
                .store()
                .override_for(id)
                .await?
                .unwrap_or(config_enabled);
            set_enabled(myself, state, enabled).await?;
        }
        JobMsg::Status(port) => {
            let _ = port.send(state.live());
        }
        JobMsg::RunBegun { token, run_id } => {
            if let Some(r) = state.running.as_mut().filter(|r| r.token == token) {
                r.run_id = Some(run_id);
            }
        }
        JobMsg::RunDone { token } => {
            if state.running.as_ref().is_some_and(|r| r.token == token) {
                state.running = None;
            }
        }
    }
    Ok(())
}

/// A one-shot job's start: arm it, run it (late within the grace), record
/// it missed, or nothing when it already ran.
async fn one_shot_start(
    myself: &ActorRef<JobMsg>,
    state: &mut JobState,
    at: DateTime<Utc>,
    anchor: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Result<(), ActorProcessingErr> {
    let name = state.env.job.name.clone();
    let grace = state.env.deps.config.get().cron.one_shot_grace;
    match one_shot_at_start(at, anchor, now, grace) {
        OneShotAtStart::Pending => state.arm(myself, now),
        OneShotAtStart::Run(at) => {
            tracing::info!(job = %name, %at, "one-shot job's time passed while down; running it now");
            state.start_run(myself, Some(at), None);
        }
        OneShotAtStart::Missed(at) => {
            tracing::warn!(job = %name, %at, "one-shot job missed: its time passed more than the grace ago");
            state.env.deps.metrics.cron_run(&name, "missed");
            let note = format!(
                "not run: the daemon was down at its time and for more than {} after",
                humantime::format_duration(grace)
            );
            let (id, keep) = (state.env.id.clone(), state.env.keep());
            state
                .env
                .store()
                .record_missed(id, name.clone(), vec![at], note, now, keep)
                .await?;
            state.env.deps.cron.one_shot_done(&name, now).await;
        }
        OneShotAtStart::Done => state.env.deps.cron.one_shot_done(&name, now).await,
    }
    Ok(())
}

/// Enable or disable the job (already persisted); re-anchors and re-arms
/// when the state changes.
async fn set_enabled(
    myself: &ActorRef<JobMsg>,
    state: &mut JobState,
    enabled: bool,
) -> Result<(), ActorProcessingErr> {
    if enabled != state.enabled {
        state.enabled = enabled;
        let now = Utc::now();
        let (id, name) = (state.env.id.clone(), state.env.job.name.clone());
        state.env.store().set_anchor(id, name, now).await?;
        state.arm(myself, now);
        tracing::info!(job = %state.env.job.name, enabled, "cron job state changed");
        state.env.deps.metrics.cron_changed();
    }
    Ok(())
}
