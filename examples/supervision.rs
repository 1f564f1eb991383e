//! The supervision kernel on its own: a child that keeps crashing is restarted
//! with a growing delay until it hits its start limit, while its sibling keeps
//! running. Prints the tree's snapshot as it goes.
//!
//! Run with `cargo run --example supervision` (add `RUST_LOG=debug` for more).

use ractor::{Actor, ActorProcessingErr, ActorRef};
use std::time::Duration;
use tracing_subscriber::filter::Targets;
use zeroclaw_actors::{
    ChildSpec, OnGiveUp, Restart, RestartPolicy, SupervisorHandle, SupervisorOptions,
};

/// Fails a short while after every start, like a worker whose upstream is down.
struct Flaky;

enum FlakyMsg {
    Crash,
}

impl Actor for Flaky {
    type Msg = FlakyMsg;
    type State = ();
    type Arguments = Duration;

    async fn pre_start(
        &self,
        myself: ActorRef<FlakyMsg>,
        crash_after: Duration,
    ) -> Result<(), ActorProcessingErr> {
        myself.send_after(crash_after, || FlakyMsg::Crash);
        Ok(())
    }

    async fn handle(
        &self,
        _myself: ActorRef<FlakyMsg>,
        msg: FlakyMsg,
        _state: &mut (),
    ) -> Result<(), ActorProcessingErr> {
        match msg {
            FlakyMsg::Crash => panic!("upstream unreachable"),
        }
    }
}

/// Does nothing, reliably.
struct Steady;

impl Actor for Steady {
    type Msg = ();
    type State = ();
    type Arguments = ();

    async fn pre_start(&self, _: ActorRef<()>, _: ()) -> Result<(), ActorProcessingErr> {
        Ok(())
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    let filter = std::env::var("RUST_LOG")
        .ok()
        .and_then(|v| v.parse::<Targets>().ok())
        .unwrap_or_else(|| Targets::new().with_default(tracing::Level::INFO));
    tracing_subscriber::registry()
        .with(tracing_subscriber::fmt::layer())
        .with(filter)
        .init();

    let flaky_policy = RestartPolicy {
        restart: Restart::OnFailure,
        restart_sec: Duration::from_millis(200),
        restart_steps: 3,
        restart_max_delay: Some(Duration::from_millis(1600)),
        start_limit_burst: 5,
        start_limit_interval: Duration::from_secs(10),
        on_give_up: OnGiveUp::StayFailed,
        ..RestartPolicy::default()
    };
    let children = vec![
        ChildSpec::actor("steady", RestartPolicy::default(), || (Steady, ())),
        ChildSpec::actor("flaky", flaky_policy, || {
            (Flaky, Duration::from_millis(300))
        }),
    ];
    // The panics are the point of the demo; keep their reports to one line.
    // Set it before starting the tree: the kernel chains its own hook (which
    // tells panics from errors) to whatever hook is installed at that moment.
    std::panic::set_hook(Box::new(|info| eprintln!("(child panicked: {info})")));

    let tree = SupervisorHandle::start("example", children, SupervisorOptions::default()).await?;
    for _ in 0..16 {
        let snapshot = tree.snapshot().await?;
        println!("{}", serde_json::to_string(&snapshot)?);
        if snapshot
            .children
            .iter()
            .any(|c| c.name == "flaky" && c.state == zeroclaw_actors::ChildState::Failed)
        {
            println!("flaky hit its start limit and stays failed; steady keeps running");
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    tree.shutdown().await?;
    println!("tree ended: {:?}", tree.wait().await);
    Ok(())
}
