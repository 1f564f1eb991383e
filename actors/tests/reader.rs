//! A tree read by its namespace: what a child handed a `TreeReader` before
//! its tree existed sees before, during and after the tree's life.

mod support;

use support::*;
use zeroclaw_actors::{SupervisorError, SupervisorHandle, SupervisorOptions, TreeReader};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reader_made_before_the_tree_sees_it_once_started_and_not_after_it_ended() {
    let ns = "reader-test-tree";
    let reader = TreeReader::new(ns);
    assert!(
        matches!(reader.snapshot().await, Err(SupervisorError::NotRunning)),
        "no tree yet"
    );

    let (tx, _rx) = channel();
    let probe = Probe::new("gateway", &tx, |_| StartMode::Ok);
    let specs = vec![toy("gateway", fast_policy(), &probe, 1)];
    let tree = SupervisorHandle::start(ns, specs, SupervisorOptions::default())
        .await
        .expect("tree starts");
    let snap = reader.snapshot().await.expect("the running tree answers");
    let direct = tree.snapshot().await.expect("the handle answers");
    assert_eq!(snap.children.len(), 1);
    assert_eq!(snap.children[0].name, "gateway");
    assert_eq!(snap.children[0].name, direct.children[0].name);
    assert_eq!(snap.children[0].state, direct.children[0].state);

    tree.shutdown().await.expect("shutdown");
    until_not_running(&reader).await;
}

#[tokio::test]
async fn a_name_held_by_something_else_is_not_a_tree() {
    let reader = TreeReader::new("reader-test-not-a-tree");
    let (tx, _rx) = channel();
    let probe = Probe::new("x", &tx, |_| StartMode::Ok);
    // A child of another tree registered as `ns/x`; the reader of `ns/x`
    // finds an actor that is not a supervisor.
    let tree = SupervisorHandle::start(
        "reader-test-not-a-tree-parent",
        vec![toy("x", fast_policy(), &probe, 1)],
        SupervisorOptions::default(),
    )
    .await
    .expect("tree starts");
    let child = TreeReader::new(&tree.registered_name("x"));
    assert!(matches!(
        child.snapshot().await,
        Err(SupervisorError::NotRunning)
    ));
    assert!(matches!(
        reader.snapshot().await,
        Err(SupervisorError::NotRunning)
    ));
    tree.shutdown().await.expect("shutdown");
}

/// The registry forgets a stopped supervisor as its actor ends.
async fn until_not_running(reader: &TreeReader) {
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        if matches!(reader.snapshot().await, Err(SupervisorError::NotRunning)) {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the ended tree still answers"
        );
        tokio::task::yield_now().await;
    }
}
