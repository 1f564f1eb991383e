//! Crash → child running again, with `restart_sec = 0`.
//!
//! The child returns `Err` from a handler (an `on-failure` restart); the time is
//! taken from sending the crash message to the new instance's `post_start`.
//! Criterion reports the mean/median per iteration; a separate pass prints the
//! median and p99 of single restarts, which criterion does not give.

use criterion::{Criterion, criterion_group, criterion_main};
use ractor::{Actor, ActorProcessingErr, ActorRef};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;
use zeroclaw_actors::{ChildSpec, RestartPolicy, SupervisorHandle, SupervisorOptions};

struct Crashy;

impl Actor for Crashy {
    type Msg = ();
    type State = mpsc::UnboundedSender<()>;
    type Arguments = mpsc::UnboundedSender<()>;

    async fn pre_start(
        &self,
        _: ActorRef<()>,
        started: mpsc::UnboundedSender<()>,
    ) -> Result<Self::State, ActorProcessingErr> {
        Ok(started)
    }

    async fn post_start(
        &self,
        _: ActorRef<()>,
        started: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        let _ = started.send(());
        Ok(())
    }

    async fn handle(
        &self,
        _: ActorRef<()>,
        _: (),
        _: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        Err("crash requested".into())
    }
}

struct Bench {
    tree: SupervisorHandle,
    started: mpsc::UnboundedReceiver<()>,
    name: String,
}

async fn setup() -> Bench {
    let (tx, mut rx) = mpsc::unbounded_channel();
    let policy = RestartPolicy {
        restart_sec: Duration::ZERO,
        start_limit_burst: 0, // no start limit
        ..RestartPolicy::default()
    };
    let spec = ChildSpec::actor("crashy", policy, move || (Crashy, tx.clone()));
    let tree = SupervisorHandle::start("bench-restart", vec![spec], SupervisorOptions::default())
        .await
        .expect("tree starts");
    rx.recv().await.expect("first start");
    let name = tree.registered_name("crashy");
    Bench {
        tree,
        started: rx,
        name,
    }
}

async fn crash_and_wait(b: &mut Bench) -> Duration {
    let cell = ractor::registry::where_is(b.name.clone()).expect("child registered");
    let t0 = Instant::now();
    cell.send_message(()).expect("child mailbox open");
    b.started.recv().await.expect("restarted");
    t0.elapsed()
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

fn restart(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let mut bench = rt.block_on(setup());

    // Our own pass for percentiles of single restarts.
    let mut samples: Vec<Duration> = rt.block_on(async {
        for _ in 0..500 {
            crash_and_wait(&mut bench).await; // warm-up
        }
        let mut v = Vec::with_capacity(10_000);
        for _ in 0..10_000 {
            v.push(crash_and_wait(&mut bench).await);
        }
        v
    });
    samples.sort();
    println!(
        "crash -> running again (restart_sec = 0), {} restarts: median {:?}, p99 {:?}, max {:?}",
        samples.len(),
        percentile(&samples, 0.5),
        percentile(&samples, 0.99),
        samples[samples.len() - 1],
    );

    c.bench_function("crash_to_running_restart_sec_0", |b| {
        b.iter_custom(|iters| {
            rt.block_on(async {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    total += crash_and_wait(&mut bench).await;
                }
                total
            })
        })
    });
    rt.block_on(bench.tree.shutdown()).expect("shutdown");
}

criterion_group!(benches, restart);
criterion_main!(benches);
