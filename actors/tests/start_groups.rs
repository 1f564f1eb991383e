//! Start groups: neighbours of one group start side by side, the child after
//! the group waits for every one of them, a child alone waits as before.

mod support;

use std::time::Duration;
use support::*;
use tokio::time::Instant;
use zeroclaw_actors::{ChildState, Restart, RestartPolicy};

#[tokio::test(start_paused = true)]
async fn a_group_starts_side_by_side_and_the_next_child_waits_for_all_of_it() {
    let (tx, mut rx) = channel();
    let policy = RestartPolicy {
        restart: Restart::No,
        ..fast_policy()
    };
    // `g1` hangs in its start until the start timeout (5 s): its neighbours
    // in the group start meanwhile, `last` only after it gave up.
    let plan = |name: &str| match name {
        "g1" => StartMode::Hang,
        _ => StartMode::Ok,
    };
    let names = ["first", "g1", "g2", "g3", "last"];
    let probes: Vec<Probe> = names
        .iter()
        .map(|n| {
            let mode = plan(n);
            Probe::new(n, &tx, move |_| mode)
        })
        .collect();
    let specs = names
        .iter()
        .zip(&probes)
        .map(|(n, p)| {
            let spec = toy(n, policy.clone(), p, 0);
            if n.starts_with('g') {
                spec.start_group("g")
            } else {
                spec
            }
        })
        .collect();
    let t0 = Instant::now();
    let tree = start_tree("start-groups", specs).await;

    let mut entered = Vec::new();
    while let Ok(ev) = rx.try_recv() {
        if let Event::Entered { child, at, .. } = ev {
            entered.push((child, (at - t0).as_secs()));
        }
    }
    let at = |name: &str| {
        entered
            .iter()
            .find(|(c, _)| c == name)
            .map(|(_, s)| *s)
            .unwrap_or_else(|| panic!("{name} never started: {entered:?}"))
    };
    assert_eq!(
        entered[0].0, "first",
        "a child alone starts first: {entered:?}"
    );
    for g in ["g1", "g2", "g3"] {
        assert_eq!(at(g), 0, "{g} starts beside the hanging g1");
    }
    assert_eq!(at("last"), 5, "last waits for g1's start timeout");
    let snap = tree.snapshot().await.expect("snapshot");
    let state = |name: &str| {
        snap.children
            .iter()
            .find(|c| c.name == name)
            .map(|c| c.state)
    };
    assert_ne!(state("g1"), Some(ChildState::Running), "g1 timed out");
    for name in ["first", "g2", "g3", "last"] {
        assert_eq!(state(name), Some(ChildState::Running), "{name}");
    }
    tokio::time::timeout(Duration::from_secs(60), tree.shutdown())
        .await
        .expect("shutdown finishes")
        .expect("shutdown");
}
