//! 10,000 idle children under one supervisor: time to start them all (in
//! order, as `start` does) and resident memory per child.
//!
//! RSS comes from `/proc/self/statm` (resident pages × 4 KiB pages, Linux
//! x86_64) read before `start` and after it returned; one pass, printed.

use criterion::{Criterion, criterion_group, criterion_main};
use ractor::{Actor, ActorProcessingErr, ActorRef};
use std::time::{Duration, Instant};
use zeroclaw_actors::{ChildSpec, RestartPolicy, SupervisorHandle, SupervisorOptions};

const CHILDREN: usize = 10_000;
const PAGE: u64 = 4096;

struct Idle;

impl Actor for Idle {
    type Msg = ();
    type State = ();
    type Arguments = ();

    async fn pre_start(&self, _: ActorRef<()>, _: ()) -> Result<(), ActorProcessingErr> {
        Ok(())
    }
}

fn specs() -> Vec<ChildSpec> {
    (0..CHILDREN)
        .map(|i| ChildSpec::actor(format!("idle-{i}"), RestartPolicy::default(), || (Idle, ())))
        .collect()
}

fn rss_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages = statm
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.parse::<u64>().ok())
        .unwrap_or(0);
    pages * PAGE
}

async fn start_tree(ns: &str) -> (SupervisorHandle, Duration) {
    let specs = specs();
    let t0 = Instant::now();
    let tree = SupervisorHandle::start(ns, specs, SupervisorOptions::default())
        .await
        .expect("tree starts");
    (tree, t0.elapsed())
}

fn spawn_many(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");

    rt.block_on(async {
        // The first tree of the process, so that no memory freed by an earlier
        // tree is reused and hides the cost (registry growth included).
        let before = rss_bytes();
        let (tree, took) = start_tree("bench-spawn-rss").await;
        let after = rss_bytes();
        let snap = tree.snapshot().await.expect("snapshot");
        let running = snap
            .children
            .iter()
            .filter(|c| c.state == zeroclaw_actors::ChildState::Running)
            .count();
        assert_eq!(running, CHILDREN);
        println!(
            "{CHILDREN} idle children: started in {took:?} ({:?}/child); RSS {} KiB -> {} KiB, {} bytes/child",
            took / CHILDREN as u32,
            before / 1024,
            after / 1024,
            after.saturating_sub(before) / CHILDREN as u64,
        );
        let t0 = Instant::now();
        tree.shutdown().await.expect("shutdown");
        println!("shutdown of {CHILDREN} children in reverse order: {:?}", t0.elapsed());
    });

    let mut group = c.benchmark_group("spawn_many");
    group.sample_size(10);
    group.bench_function("start_10000_idle_children", |b| {
        b.iter_custom(|iters| {
            rt.block_on(async {
                let mut total = Duration::ZERO;
                for i in 0..iters {
                    let (tree, took) = start_tree(&format!("bench-spawn-{i}")).await;
                    total += took;
                    tree.shutdown().await.expect("shutdown");
                }
                total
            })
        })
    });
    group.finish();
}

criterion_group!(benches, spawn_many);
criterion_main!(benches);
