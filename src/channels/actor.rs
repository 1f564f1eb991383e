//! The channel actor, one for every service: owns the receiver (the
//! service's connection) and the worker, answers `Deliver`, takes the
//! gateway's webhook events, and turns how a connection ended into what the
//! supervisor sees (see the failure semantics in [`crate::channels`]). All
//! network I/O runs in tasks it owns, so it stays responsive to delivery and
//! to being stopped.

use super::ChannelError;
use super::backlog::Backlog;
use super::deps::ChannelDeps;
use super::lifecycle;
use super::msg::ChannelMsg;
use super::platform::{Fault, Link, Platform, Pushed, Section};
use super::task::{DRAIN_LIMIT, TaskGuard, drain, report_panic};
use super::worker;
use backon::{BackoffBuilder, ExponentialBuilder};
use ractor::{Actor, ActorProcessingErr, ActorRef};
use std::marker::PhantomData;
use std::sync::Arc;
use std::time::Duration;
use tokio::task::JoinSet;
use zeroclaw_actors::{ChildSpec, RestartPolicy};

/// Events accepted but not answered yet; more are refused with a log line
/// (the services retry or redeliver what they see fail).
pub(super) const QUEUE: usize = 256;

/// The actor of the channel for service `P`.
pub struct ChannelActor<P>(PhantomData<fn() -> P>);

impl<P> Default for ChannelActor<P> {
    fn default() -> Self {
        Self(PhantomData)
    }
}

/// What every start reads: the dependencies (the config in force, so a
/// restart picks up a reloaded one) and what the child spec keeps across
/// restarts.
pub struct ChannelArgs<P: Platform> {
    pub deps: ChannelDeps,
    pub keep: P::Keep,
    /// What earlier starts accepted and did not finish.
    pub backlog: Backlog<P::Event>,
}

pub struct ChannelState<P: Platform> {
    deps: ChannelDeps,
    platform: Arc<P>,
    /// Where accepted events wait for the worker; outlives this start.
    events: Backlog<P::Event>,
    /// Whether webhook events are still taken (not once stopping).
    taking: bool,
    deliveries: JoinSet<()>,
    /// The worker first (see [`drain`]), then the receiver.
    tasks: Vec<TaskGuard>,
}

/// The child spec of the channel for `P`: every (re)start gets the same
/// [`Platform::Keep`] and the same [`Backlog`].
pub fn child_spec<P: Platform>(deps: ChannelDeps, policy: RestartPolicy) -> ChildSpec {
    let keep = P::Keep::default();
    let backlog = Backlog::default();
    ChildSpec::actor(P::CHILD, policy, move || {
        let args = ChannelArgs::<P> {
            deps: deps.clone(),
            keep: keep.clone(),
            backlog: backlog.clone(),
        };
        (ChannelActor::<P>::default(), args)
    })
}

impl<P: Platform> Actor for ChannelActor<P> {
    type Msg = ChannelMsg;
    type State = ChannelState<P>;
    type Arguments = ChannelArgs<P>;

    async fn pre_start(
        &self,
        myself: ActorRef<ChannelMsg>,
        args: ChannelArgs<P>,
    ) -> Result<ChannelState<P>, ActorProcessingErr> {
        let ChannelArgs {
            deps,
            keep,
            backlog,
        } = args;
        let config = deps.config();
        let section = P::Config::of(&config).ok_or(ChannelError::NotConfigured(P::NAME))?;
        let platform = P::open(section, &config, keep).map_err(ChannelError::Http)?;
        let platform = Arc::new(platform.with_shared_store(deps.shared_store()));
        let tools = section.tools().to_vec();
        let worker = report_panic(
            worker::run(
                platform.clone(),
                deps.clone(),
                tools,
                backlog.clone(),
                myself.clone(),
            ),
            "worker",
            worker_crashed(myself.clone(), backlog.clone()),
        );
        let link = Link::new::<P>(backlog.clone(), deps.clone());
        let receiver = report_panic(
            receive(platform.clone(), link, myself.clone()),
            "receiver",
            crashed(myself),
        );
        Ok(ChannelState {
            deps,
            platform,
            events: backlog,
            taking: true,
            deliveries: JoinSet::new(),
            tasks: vec![TaskGuard::spawn(worker), TaskGuard::spawn(receiver)],
        })
    }

    /// A graceful stop (`restart`, shutdown) answers what was accepted.
    async fn post_stop(
        &self,
        _: ActorRef<ChannelMsg>,
        state: &mut ChannelState<P>,
    ) -> Result<(), ActorProcessingErr> {
        finish_accepted(state).await;
        Ok(())
    }

    async fn handle(
        &self,
        myself: ActorRef<ChannelMsg>,
        message: ChannelMsg,
        state: &mut ChannelState<P>,
    ) -> Result<(), ActorProcessingErr> {
        match message {
            ChannelMsg::Deliver {
                target,
                text,
                reply,
            } => {
                let platform = state.platform.clone();
                let deps = state.deps.clone();
                lifecycle::spawn_delivery(
                    &mut state.deliveries,
                    P::CHILD,
                    target,
                    reply,
                    move |to| async move {
                        worker::send_text(&*platform, &deps, &to, None, &text).await
                    },
                );
            }
            ChannelMsg::TelegramUpdate(raw) => push(state, Pushed::Telegram(raw)).await,
            ChannelMsg::SlackEvent(raw) => push(state, Pushed::Slack(raw)).await,
            ChannelMsg::ConnectionLost(reason) => {
                // Failing skips `post_stop`: answer what was accepted first.
                finish_accepted(state).await;
                return Err(lifecycle::connection_lost(&state.deps, reason));
            }
            ChannelMsg::CredentialRejected(reason) => {
                lifecycle::credential_rejected(&myself, &state.deps, P::CHILD, &reason);
            }
        }
        Ok(())
    }
}

/// Run the receiver; tell the actor how the connection ended, unless it
/// ended because there is nothing to receive. Transient trouble (unreachable,
/// 5xx, 429, a dropped connection) is retried here with jittered exponential
/// backoff, shown as the status detail, whether it hit a (re)start or a
/// channel that was working: an outage of any length costs the supervisor
/// nothing. An attempt that completed work (a poll, an event) starts the
/// backoff afresh: a working channel whose service fails now and then (a 502
/// among its polls) retries within a second, instead of growing its wait
/// with every failure until it polls too rarely to hear anyone; a service
/// that only accepts the connection and then fails is backed off from. What reaches the
/// supervisor is a rejected credential or a state the channel does not
/// expect.
async fn receive<P: Platform>(platform: Arc<P>, link: Link<P::Event>, actor: ActorRef<ChannelMsg>) {
    let mut delays = reconnect_backoff().build();
    let mut attempt = 0u32;
    let fault = loop {
        link.reset_contact();
        match platform.clone().receive(link.clone()).await {
            Ok(()) => return,
            Err(Fault::Transient { reason, wait }) => {
                if link.worked() {
                    (delays, attempt) = (reconnect_backoff().build(), 0);
                }
                attempt += 1;
                let delay = delays.next().unwrap_or(RECONNECT_MAX);
                let delay = wait.map_or(delay, |w| w.max(delay));
                tracing::warn!(
                    channel = P::NAME,
                    attempt,
                    "{reason}; retrying in {delay:?}"
                );
                link.status(format!("reconnecting (attempt {attempt}): {reason}"));
                tokio::time::sleep(delay).await;
            }
            Err(fault) => break fault,
        }
    };
    // The actor may be gone already; then there is no one left to tell.
    let _ = actor.send_message(fault.into());
}

/// The longest wait between reconnects (jitter included). It bounds how
/// long after a service's return a channel is back, whatever the outage
/// lasted (a 30 s outage with a 60 s cap came back up to 33 s late); one
/// try every 5–10 s costs a service that is down next to nothing.
pub(super) const RECONNECT_MAX: Duration = Duration::from_secs(10);

/// 0.5 s doubling, each wait plus a random part up to itself, so a fleet of
/// daemons does not come back at once; never more than [`RECONNECT_MAX`].
pub(super) fn reconnect_backoff() -> ExponentialBuilder {
    ExponentialBuilder::default()
        .with_min_delay(Duration::from_millis(500))
        .with_factor(2.0)
        .with_max_delay(RECONNECT_MAX / 2)
        .with_jitter()
        .without_max_times()
}

/// What a panicking task tells the actor: it fails, the supervisor restarts it.
fn crashed(actor: ActorRef<ChannelMsg>) -> impl FnOnce(String) {
    move |reason| {
        tracing::error!("{reason}");
        // The actor may be gone already; then there is no one left to tell.
        let _ = actor.send_message(ChannelMsg::ConnectionLost(reason));
    }
}

/// A panicking worker: the event it was on gets a strike (see
/// [`Backlog::strike`]), then the actor is told as for any crash.
fn worker_crashed<E: Send + Sync + 'static>(
    actor: ActorRef<ChannelMsg>,
    backlog: Backlog<E>,
) -> impl FnOnce(String) {
    move |reason| {
        if backlog.strike() {
            tracing::error!(
                "the event the worker was answering was dropped: it crashed the worker {} times",
                super::backlog::MAX_STRIKES
            );
        }
        crashed(actor)(reason)
    }
}

/// A webhook event from the gateway, queued for the worker.
async fn push<P: Platform>(state: &mut ChannelState<P>, event: Pushed) {
    state.deps.touch();
    let Some(event) = state.platform.pushed(event).await else {
        return;
    };
    if !(state.taking && state.events.offer(event)) {
        tracing::warn!("{}: event queue full, event dropped", P::NAME);
    }
}

/// Stop receiving, then let the worker answer what was already accepted
/// (bounded by [`DRAIN_LIMIT`]; the rest waits for the next start).
async fn finish_accepted<P: Platform>(state: &mut ChannelState<P>) {
    state.taking = false;
    let backlog = state.events.clone();
    drain(
        &mut state.tasks,
        &mut state.deliveries,
        DRAIN_LIMIT,
        backlog.drained(),
    )
    .await;
}
