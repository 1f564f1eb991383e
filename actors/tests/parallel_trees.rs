//! Several trees with the same child names in one process, as parallel tests
//! and a daemon's sub-trees need: the registry is global, names are namespaced.

mod support;

use std::time::Duration;
use support::*;
use zeroclaw_actors::{ChildState, SupervisorError, SupervisorHandle, SupervisorOptions};

async fn tree_with_crashes(ns: String, tag: u32) -> (String, u32) {
    let (tx, _rx) = channel();
    let names = ["logger", "gateway", "control"];
    let probes: Vec<Probe> = names
        .iter()
        .map(|n| Probe::new(n, &tx, |_| StartMode::Ok))
        .collect();
    let specs = names
        .iter()
        .zip(&probes)
        .map(|(n, p)| toy(n, fast_policy(), p, tag))
        .collect();
    let tree = SupervisorHandle::start(&ns, specs, SupervisorOptions::default())
        .await
        .expect("tree starts");
    assert_eq!(tree.registered_name("gateway"), format!("{ns}/gateway"));
    for round in 1..=5u32 {
        tell(&tree, "gateway", ToyMsg::Exit(How::Err));
        until(&tree, Duration::from_secs(10), "gateway back", |s| {
            let g = state_of(s, "gateway");
            g.state == ChildState::Running && u64::from(round) == g.restarts
        })
        .await;
    }
    let got = ping(&tree, "gateway").await.expect("gateway answers");
    tree.shutdown().await.expect("shutdown");
    (ns, got)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trees_with_the_same_child_names_coexist() {
    let tasks: Vec<_> = (0..8u32)
        .map(|i| tokio::spawn(tree_with_crashes(format!("parallel-{i}"), i)))
        .collect();
    for (i, task) in tasks.into_iter().enumerate() {
        let (ns, tag) = task.await.expect("tree task");
        assert_eq!(tag, i as u32, "{ns} talked to its own gateway");
    }
}

#[tokio::test]
async fn a_second_tree_with_the_same_namespace_is_refused() {
    let tree = SupervisorHandle::start("dup-ns", vec![], SupervisorOptions::default())
        .await
        .expect("first tree");
    let second = SupervisorHandle::start("dup-ns", vec![], SupervisorOptions::default()).await;
    match second {
        Err(err @ SupervisorError::StartFailed { .. }) => {
            assert!(err.to_string().contains("dup-ns"), "{err}");
        }
        other => panic!("expected StartFailed, got {:?}", other.map(|_| ())),
    }
    tree.shutdown().await.expect("shutdown");
    // The namespace is free again once the tree has ended.
    let again = SupervisorHandle::start("dup-ns", vec![], SupervisorOptions::default())
        .await
        .expect("namespace reusable after shutdown");
    again.shutdown().await.expect("shutdown");
}

#[tokio::test]
async fn duplicate_child_names_are_refused_at_start() {
    let (tx, _rx) = channel();
    let p = Probe::new("x", &tx, |_| StartMode::Ok);
    let result = SupervisorHandle::start(
        "dup-child",
        vec![
            toy("x", fast_policy(), &p, 0),
            toy("x", fast_policy(), &p, 0),
        ],
        SupervisorOptions::default(),
    )
    .await;
    assert!(matches!(result, Err(SupervisorError::DuplicateChild(n)) if n == "x"));
    assert_eq!(p.starts(), 0);
}
