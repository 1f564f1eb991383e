//! Backoff, start limit, give-up and backoff reset, through real actors on paused time.

mod support;

use std::time::Duration;
use support::*;
use tokio::sync::mpsc::UnboundedReceiver;
use tokio::time::Instant;
use zeroclaw_actors::{
    ChildState, ExitKind, OnGiveUp, Restart, RestartPolicy, SupervisorExit, SupervisorHandle,
};

const LONG: Duration = Duration::from_secs(3600);

fn entered_at(ev: &Event) -> Option<Instant> {
    match ev {
        Event::Entered { at, .. } => Some(*at),
        _ => None,
    }
}

/// Crashes `child` and returns the seconds from its end to its next start.
async fn crash_to_restart_secs(
    tree: &SupervisorHandle,
    rx: &mut UnboundedReceiver<Event>,
    child: &str,
) -> u64 {
    tell(tree, child, ToyMsg::Exit(How::Err));
    let crashed = next_matching(rx, LONG, |e| matches!(e, Event::Ending { .. })).await;
    let next = next_matching(rx, LONG, |e| entered_at(e).is_some()).await;
    let (Event::Ending { at: crash_at, .. }, Some(restart_at)) = (crashed, entered_at(&next))
    else {
        unreachable!()
    };
    (restart_at - crash_at).as_secs()
}

#[tokio::test(start_paused = true)]
async fn backoff_grows_geometrically_to_the_maximum() {
    let (tx, mut rx) = channel();
    let probe = Probe::new("flaky", &tx, |_| StartMode::Err);
    let policy = RestartPolicy {
        restart: Restart::OnFailure,
        restart_sec: Duration::from_secs(10),
        restart_steps: 4,
        restart_max_delay: Some(Duration::from_secs(160)),
        start_limit_burst: 100,
        ..RestartPolicy::default()
    };
    let tree = start_tree("backoff-seq", vec![toy("flaky", policy, &probe, 0)]).await;

    let mut starts = Vec::new();
    while starts.len() < 8 {
        let ev = next_matching(&mut rx, LONG, |e| entered_at(e).is_some()).await;
        starts.extend(entered_at(&ev));
        if starts.len() == 3 {
            // While waiting for the third restart: backoff with a countdown.
            let snap = until_state(&tree, LONG, "flaky", ChildState::Backoff).await;
            let flaky = state_of(&snap, "flaky");
            assert_eq!(flaky.next_restart_ms, Some(40_000));
            assert_eq!(flaky.restarts, 2);
            assert_eq!(
                flaky.last_exit.as_ref().map(|e| e.kind),
                Some(ExitKind::Failure)
            );
        }
    }
    let gaps: Vec<u64> = starts.windows(2).map(|w| (w[1] - w[0]).as_secs()).collect();
    assert_eq!(gaps, vec![10, 20, 40, 80, 160, 160, 160]);
    tree.shutdown().await.expect("shutdown");
}

fn limited(on_give_up: OnGiveUp) -> RestartPolicy {
    RestartPolicy {
        restart: Restart::Always,
        restart_sec: Duration::from_millis(100),
        start_limit_burst: 3,
        start_limit_interval: Duration::from_secs(10),
        on_give_up,
        ..RestartPolicy::default()
    }
}

#[tokio::test(start_paused = true)]
async fn start_limit_marks_the_child_failed_and_the_tree_keeps_running() {
    let (tx, mut rx) = channel();
    let steady = Probe::new("steady", &tx, |_| StartMode::Ok);
    let flaky = Probe::new("flaky", &tx, |_| StartMode::Panic);
    let tree = start_tree(
        "limit-stay",
        vec![
            toy("steady", fast_policy(), &steady, 7),
            toy("flaky", limited(OnGiveUp::StayFailed), &flaky, 0),
        ],
    )
    .await;

    let snap = until_state(&tree, LONG, "flaky", ChildState::Failed).await;
    // 3 starts allowed inside 10 s; the 4th would exceed the burst.
    assert_eq!(flaky.starts(), 3);
    let f = state_of(&snap, "flaky");
    assert_eq!(f.restarts, 2);
    assert_eq!(f.last_exit.as_ref().map(|e| e.kind), Some(ExitKind::Abort));
    assert_eq!(f.next_restart_ms, None);

    // Left down: no further start, however long we wait.
    tokio::time::sleep(Duration::from_secs(60)).await;
    assert_eq!(flaky.starts(), 3);
    assert_eq!(ping(&tree, "steady").await, Some(7));
    let wait = tokio::time::timeout(Duration::from_secs(1), tree.wait()).await;
    assert!(wait.is_err(), "the tree must keep running");

    // A restart on request resets the limit: three more starts before failing again.
    tree.restart_child("flaky").await.expect("restart");
    until(&tree, LONG, "flaky failed again", |s| {
        state_of(s, "flaky").state == ChildState::Failed && flaky.starts() == 6
    })
    .await;
    let snap = tree.snapshot().await.expect("snapshot");
    assert_eq!(state_of(&snap, "flaky").restarts_requested, 1);
    assert_eq!(state_of(&snap, "steady").restarts_requested, 0);
    drop(rx.try_recv());
    tree.shutdown().await.expect("shutdown");
}

#[tokio::test(start_paused = true)]
async fn give_up_with_exit_stops_the_tree_in_reverse_order() {
    let (tx, mut rx) = channel();
    let first = Probe::new("first", &tx, |_| StartMode::Ok);
    let flaky = Probe::new("flaky", &tx, |n| {
        if n == 1 {
            StartMode::Ok
        } else {
            StartMode::Err
        }
    });
    let last = Probe::new("last", &tx, |_| StartMode::Ok);
    let tree = start_tree(
        "limit-exit",
        vec![
            toy("first", fast_policy(), &first, 1),
            toy("flaky", limited(OnGiveUp::Exit), &flaky, 2),
            toy("last", fast_policy(), &last, 3),
        ],
    )
    .await;
    tell(&tree, "flaky", ToyMsg::Exit(How::Err));

    let exit = tokio::time::timeout(LONG, tree.wait())
        .await
        .expect("tree ends");
    match &exit {
        SupervisorExit::GaveUp { child, reason } => {
            assert_eq!(child, "flaky");
            assert!(reason.contains("start limit"), "{reason}");
        }
        other => panic!("expected GaveUp, got {other:?}"),
    }
    assert_eq!(flaky.starts(), 3);
    let mut stopped = Vec::new();
    while let Ok(ev) = rx.try_recv() {
        if let Event::PostStop { child } = ev {
            stopped.push(child);
        }
    }
    // `flaky` is down already (an `Err` skips `post_stop`); the others stop
    // gracefully, last first.
    assert_eq!(stopped, vec!["last", "first"]);
    assert!(tree.snapshot().await.is_err());
}

#[tokio::test(start_paused = true)]
async fn backoff_resets_after_a_stable_run() {
    let (tx, mut rx) = channel();
    // Starts 1 and 2 fail; start 3 comes up and stays.
    let probe = Probe::new("worker", &tx, |n| {
        if n <= 2 {
            StartMode::Err
        } else {
            StartMode::Ok
        }
    });
    let policy = RestartPolicy {
        restart: Restart::OnFailure,
        restart_sec: Duration::from_secs(1),
        restart_steps: 3,
        restart_max_delay: Some(Duration::from_secs(8)),
        start_limit_burst: 100,
        start_limit_interval: Duration::from_secs(10),
        ..RestartPolicy::default()
    };
    let tree = start_tree("backoff-reset", vec![toy("worker", policy, &probe, 0)]).await;

    let mut starts = Vec::new();
    while starts.len() < 3 {
        let ev = next_matching(&mut rx, LONG, |e| entered_at(e).is_some()).await;
        starts.extend(entered_at(&ev));
    }
    let gaps: Vec<u64> = starts.windows(2).map(|w| (w[1] - w[0]).as_secs()).collect();
    assert_eq!(
        gaps,
        vec![1, 2],
        "delays grow while the child keeps failing"
    );

    // A short run does not reset: the next delay is the third step (4 s).
    next_matching(&mut rx, LONG, |e| matches!(e, Event::Running { .. })).await;
    assert_eq!(crash_to_restart_secs(&tree, &mut rx, "worker").await, 4);

    // A run longer than start_limit_interval resets it to restart_sec.
    next_matching(&mut rx, LONG, |e| matches!(e, Event::Running { .. })).await;
    tokio::time::sleep(Duration::from_secs(11)).await;
    assert_eq!(crash_to_restart_secs(&tree, &mut rx, "worker").await, 1);
    tree.shutdown().await.expect("shutdown");
}

#[tokio::test(start_paused = true)]
async fn a_panic_in_pre_start_is_an_abort_and_a_failed_start() {
    let (tx, _rx) = channel();
    let probe = Probe::new("boot", &tx, |n| {
        if n == 1 {
            StartMode::Panic
        } else {
            StartMode::Ok
        }
    });
    // on-abort restarts only after a panic: a restart proves the classification.
    let policy = RestartPolicy {
        restart: Restart::OnAbort,
        ..fast_policy()
    };
    let tree = start_tree("prestart-panic", vec![toy("boot", policy, &probe, 5)]).await;
    let snap = until_state(&tree, LONG, "boot", ChildState::Running).await;
    let boot = state_of(&snap, "boot");
    assert_eq!(probe.starts(), 2);
    assert_eq!(boot.restarts, 1);
    let last = boot.last_exit.as_ref().expect("last exit");
    assert_eq!(last.kind, ExitKind::Abort);
    assert!(
        last.message.contains("panicked in pre_start 1"),
        "{}",
        last.message
    );
    assert_eq!(ping(&tree, "boot").await, Some(5));
    tree.shutdown().await.expect("shutdown");
}

#[tokio::test(start_paused = true)]
async fn an_err_in_pre_start_is_a_failure() {
    let (tx, _rx) = channel();
    let probe = Probe::new("boot", &tx, |_| StartMode::Err);
    let policy = RestartPolicy {
        restart: Restart::OnAbort,
        ..fast_policy()
    };
    let tree = start_tree("prestart-err", vec![toy("boot", policy, &probe, 5)]).await;
    let snap = until_state(&tree, LONG, "boot", ChildState::Failed).await;
    let last = state_of(&snap, "boot")
        .last_exit
        .clone()
        .expect("last exit");
    assert_eq!(last.kind, ExitKind::Failure);
    assert!(last.message.contains("refused start 1"), "{}", last.message);
    assert_eq!(probe.starts(), 1);
    tree.shutdown().await.expect("shutdown");
}

#[tokio::test(start_paused = true)]
async fn a_fatal_stop_reason_marks_failed_without_restart_even_with_always() {
    let (tx, mut rx) = channel();
    let probe = Probe::new("tokened", &tx, |_| StartMode::Ok);
    let policy = RestartPolicy {
        restart: Restart::Always,
        restart_sec: Duration::from_millis(100),
        ..RestartPolicy::default()
    };
    let tree = start_tree("fatal-reason", vec![toy("tokened", policy, &probe, 0)]).await;
    until_state(&tree, LONG, "tokened", ChildState::Running).await;
    tell(&tree, "tokened", ToyMsg::Exit(How::Fatal));
    let snap = until_state(&tree, LONG, "tokened", ChildState::Failed).await;
    let child = state_of(&snap, "tokened");
    assert_eq!(child.restarts, 0);
    let exit = child.last_exit.as_ref().expect("last exit");
    assert_eq!(exit.kind, ExitKind::Failure);
    assert!(exit.message.contains("token revoked"), "{}", exit.message);
    // Well past restart_sec: still exactly one start.
    tokio::time::sleep(Duration::from_secs(60)).await;
    assert_eq!(probe.starts(), 1);
    // An operator's restart still brings it back.
    tree.restart_child("tokened")
        .await
        .expect("restart on request");
    until_state(&tree, LONG, "tokened", ChildState::Running).await;
    assert_eq!(probe.starts(), 2);
    drop(rx.try_recv());
    tree.shutdown().await.expect("shutdown");
}
