//! A toy child for the supervision tests: it does whatever its start plan and
//! its messages tell it to, and reports every step on a channel.
#![allow(dead_code)]

use ractor::{Actor, ActorProcessingErr, ActorRef, RpcReplyPort};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::time::Instant;
use zeroclaw_actors::{
    ChildSnapshot, ChildSpec, ChildState, RestartPolicy, SupervisorHandle, SupervisorOptions,
    TreeSnapshot,
};

/// What the n-th start (1-based) does in `pre_start`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StartMode {
    Ok,
    Err,
    Panic,
    Hang,
}

/// How a running toy ends when told to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum How {
    Clean,
    Err,
    Panic,
    /// A clean stop whose reason says a restart cannot help.
    Fatal,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// `pre_start` entered for the n-th time.
    Entered { child: String, n: u32, at: Instant },
    /// `post_start` done: the child is running.
    Running { child: String, n: u32, at: Instant },
    /// About to end on request.
    Ending { child: String, at: Instant },
    /// `post_stop` ran (graceful stop only).
    PostStop { child: String },
    /// The actor's state was dropped (any end, including kill).
    Dropped { child: String, at: Instant },
}

pub enum ToyMsg {
    Ping(RpcReplyPort<u32>),
    Exit(How),
    /// Never returns: the child ignores `stop` from now on.
    Block,
}

type Plan = Arc<dyn Fn(u32) -> StartMode + Send + Sync>;

/// One toy child's counters and reporting channel.
#[derive(Clone)]
pub struct Probe {
    child: String,
    starts: Arc<AtomicU32>,
    plan: Plan,
    events: mpsc::UnboundedSender<Event>,
}

impl Probe {
    pub fn new(
        child: &str,
        events: &mpsc::UnboundedSender<Event>,
        plan: impl Fn(u32) -> StartMode + Send + Sync + 'static,
    ) -> Self {
        Self {
            child: child.to_string(),
            starts: Arc::new(AtomicU32::new(0)),
            plan: Arc::new(plan),
            events: events.clone(),
        }
    }

    pub fn starts(&self) -> u32 {
        self.starts.load(Ordering::SeqCst)
    }
}

pub struct Toy;

pub struct ToyArgs {
    pub probe: Probe,
    pub tag: u32,
}

pub struct ToyState {
    child: String,
    n: u32,
    tag: u32,
    events: mpsc::UnboundedSender<Event>,
}

impl Drop for ToyState {
    fn drop(&mut self) {
        let _ = self.events.send(Event::Dropped {
            child: self.child.clone(),
            at: Instant::now(),
        });
    }
}

impl Actor for Toy {
    type Msg = ToyMsg;
    type State = ToyState;
    type Arguments = ToyArgs;

    async fn pre_start(
        &self,
        _myself: ActorRef<ToyMsg>,
        args: ToyArgs,
    ) -> Result<ToyState, ActorProcessingErr> {
        let probe = args.probe;
        let n = probe.starts.fetch_add(1, Ordering::SeqCst) + 1;
        let _ = probe.events.send(Event::Entered {
            child: probe.child.clone(),
            n,
            at: Instant::now(),
        });
        match (probe.plan)(n) {
            StartMode::Ok => {}
            StartMode::Err => return Err(format!("{} refused start {n}", probe.child).into()),
            StartMode::Panic => panic!("{} panicked in pre_start {n}", probe.child),
            StartMode::Hang => std::future::pending::<()>().await,
        }
        Ok(ToyState {
            child: probe.child.clone(),
            n,
            tag: args.tag,
            events: probe.events.clone(),
        })
    }

    async fn post_start(
        &self,
        _myself: ActorRef<ToyMsg>,
        state: &mut ToyState,
    ) -> Result<(), ActorProcessingErr> {
        let _ = state.events.send(Event::Running {
            child: state.child.clone(),
            n: state.n,
            at: Instant::now(),
        });
        Ok(())
    }

    async fn post_stop(
        &self,
        _myself: ActorRef<ToyMsg>,
        state: &mut ToyState,
    ) -> Result<(), ActorProcessingErr> {
        let _ = state.events.send(Event::PostStop {
            child: state.child.clone(),
        });
        Ok(())
    }

    async fn handle(
        &self,
        myself: ActorRef<ToyMsg>,
        msg: ToyMsg,
        state: &mut ToyState,
    ) -> Result<(), ActorProcessingErr> {
        match msg {
            ToyMsg::Ping(reply) => {
                let _ = reply.send(state.tag);
            }
            ToyMsg::Exit(how) => {
                let _ = state.events.send(Event::Ending {
                    child: state.child.clone(),
                    at: Instant::now(),
                });
                match how {
                    How::Clean => myself.stop(Some("done".to_string())),
                    How::Err => return Err(format!("{} failed on request", state.child).into()),
                    How::Panic => panic!("{} panicked on request", state.child),
                    How::Fatal => myself.stop(Some(format!(
                        "{}token revoked",
                        zeroclaw_actors::FATAL_PREFIX
                    ))),
                }
            }
            ToyMsg::Block => std::future::pending::<()>().await,
        }
        Ok(())
    }
}

/// A toy child spec; every start uses `probe`'s plan.
pub fn toy(name: &str, policy: RestartPolicy, probe: &Probe, tag: u32) -> ChildSpec {
    let probe = probe.clone();
    ChildSpec::actor(name, policy, move || {
        (
            Toy,
            ToyArgs {
                probe: probe.clone(),
                tag,
            },
        )
    })
}

/// A policy that restarts at once and never hits the start limit.
pub fn fast_policy() -> RestartPolicy {
    RestartPolicy {
        restart_sec: Duration::ZERO,
        start_limit_burst: 1000,
        start_timeout: Duration::from_secs(5),
        stop_timeout: Duration::from_secs(2),
        ..RestartPolicy::default()
    }
}

/// A tree of `children` under `name` with default options; panics if it does not start.
pub async fn start_tree(name: &str, children: Vec<ChildSpec>) -> SupervisorHandle {
    SupervisorHandle::start(name, children, SupervisorOptions::default())
        .await
        .expect("tree starts")
}

pub fn channel() -> (mpsc::UnboundedSender<Event>, mpsc::UnboundedReceiver<Event>) {
    mpsc::unbounded_channel()
}

/// The live toy registered under `child` in this tree, if any.
pub fn toy_ref(tree: &SupervisorHandle, child: &str) -> Option<ActorRef<ToyMsg>> {
    ractor::registry::where_is(tree.registered_name(child)).map(ActorRef::from)
}

/// Ask a child for its tag; `None` if it is not there or does not answer.
pub async fn ping(tree: &SupervisorHandle, child: &str) -> Option<u32> {
    let actor = toy_ref(tree, child)?;
    match actor.call(ToyMsg::Ping, Some(Duration::from_secs(1))).await {
        Ok(ractor::rpc::CallResult::Success(tag)) => Some(tag),
        _ => None,
    }
}

/// Tell a running child to end; panics if it is not registered.
pub fn tell(tree: &SupervisorHandle, child: &str, msg: ToyMsg) {
    let actor = toy_ref(tree, child).unwrap_or_else(|| panic!("{child} is not registered"));
    actor.cast(msg).expect("child mailbox open");
}

/// Poll the snapshot until `pred` holds; fail after `within` (tokio time).
pub async fn until(
    tree: &SupervisorHandle,
    within: Duration,
    what: &str,
    pred: impl Fn(&TreeSnapshot) -> bool,
) -> TreeSnapshot {
    let deadline = Instant::now() + within;
    loop {
        let snap = tree.snapshot().await.expect("tree running");
        if pred(&snap) {
            return snap;
        }
        if Instant::now() >= deadline {
            panic!("timed out waiting for {what}; last snapshot: {snap:#?}");
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// Receive events until one matches `pred`; fail after `within` (tokio time).
pub async fn next_matching(
    rx: &mut mpsc::UnboundedReceiver<Event>,
    within: Duration,
    pred: impl Fn(&Event) -> bool,
) -> Event {
    let deadline = Instant::now() + within;
    loop {
        match tokio::time::timeout_at(deadline, rx.recv()).await {
            Ok(Some(ev)) if pred(&ev) => return ev,
            Ok(Some(_)) => {}
            Ok(None) => panic!("event channel closed"),
            Err(_) => panic!("timed out waiting for an event"),
        }
    }
}

/// Poll until `child` is in `state`; fail after `within` (tokio time).
pub async fn until_state(
    tree: &SupervisorHandle,
    within: Duration,
    child: &str,
    state: ChildState,
) -> TreeSnapshot {
    let what = format!("{child} {state:?}");
    until(tree, within, &what, |s| state_of(s, child).state == state).await
}

pub fn state_of<'a>(snap: &'a TreeSnapshot, child: &str) -> &'a ChildSnapshot {
    snap.children
        .iter()
        .find(|c| c.name == child)
        .unwrap_or_else(|| panic!("{child} not in snapshot {snap:#?}"))
}
