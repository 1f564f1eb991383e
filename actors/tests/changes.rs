//! The change counter: a reader waits for a change of its tree instead of
//! polling snapshots, so a live page costs nothing while nothing happens.

mod support;

use std::time::Duration;
use support::*;
use tokio::sync::watch;
use zeroclaw_actors::{ChildState, TreeReader};

/// Wait until the counter moves; fail after `within`.
async fn moves(rx: &mut watch::Receiver<u64>, within: Duration, what: &str) {
    tokio::time::timeout(within, rx.changed())
        .await
        .unwrap_or_else(|_| panic!("no change within {within:?} after {what}"))
        .expect("the counter lives as long as the process");
}

/// Mark everything seen so far as seen.
fn settle(rx: &mut watch::Receiver<u64>) {
    rx.borrow_and_update();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reader_made_before_the_tree_is_woken_by_start_crash_and_restart_only() {
    let ns = "changes-test-tree";
    let mut rx = TreeReader::new(ns).changes();
    settle(&mut rx);

    let (tx, mut events) = channel();
    let probe = Probe::new("worker", &tx, |_| StartMode::Ok);
    let tree = start_tree(ns, vec![toy("worker", fast_policy(), &probe, 1)]).await;
    moves(&mut rx, Duration::from_secs(5), "the start").await;
    // The start is several changes (added, then spawned); wait for the last
    // before marking them seen, or a late one would look like a snapshot's.
    until_state(&tree, Duration::from_secs(5), "worker", ChildState::Running).await;

    // Reading the tree is not a change: a page that only looks sees no move.
    settle(&mut rx);
    for _ in 0..20 {
        tree.snapshot().await.expect("snapshot");
    }
    assert!(
        !rx.has_changed().expect("counter alive"),
        "snapshots moved the counter"
    );

    tell(&tree, "worker", ToyMsg::Exit(How::Err));
    moves(&mut rx, Duration::from_secs(5), "a crash").await;
    next_matching(&mut events, Duration::from_secs(5), |e| {
        matches!(e, Event::Running { n: 2, .. })
    })
    .await;
    let snap = until_state(&tree, Duration::from_secs(5), "worker", ChildState::Running).await;
    assert_eq!(state_of(&snap, "worker").restarts, 1);

    settle(&mut rx);
    tree.restart_child("worker").await.expect("restart");
    moves(&mut rx, Duration::from_secs(5), "a restart on request").await;

    settle(&mut rx);
    tree.remove_child("worker").await.expect("remove");
    moves(&mut rx, Duration::from_secs(5), "a removal").await;
    tree.shutdown().await.expect("shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_handle_and_a_reader_see_the_same_counter() {
    let ns = "changes-test-same";
    let (tx, _events) = channel();
    let probe = Probe::new("a", &tx, |_| StartMode::Ok);
    let tree = start_tree(ns, vec![toy("a", fast_policy(), &probe, 1)]).await;
    let mut by_handle = tree.changes();
    let mut by_reader = TreeReader::new(ns).changes();
    settle(&mut by_handle);
    settle(&mut by_reader);
    tree.restart_child("a").await.expect("restart");
    moves(&mut by_handle, Duration::from_secs(5), "a restart (handle)").await;
    moves(&mut by_reader, Duration::from_secs(5), "a restart (reader)").await;
    assert_eq!(*by_handle.borrow(), *by_reader.borrow());
    tree.shutdown().await.expect("shutdown");
}
