//! Stop order and stop timeout, runtime add/remove/restart/replace, snapshot
//! while a child starts, the tick callback.

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use support::*;
use tokio::time::Instant;
use zeroclaw_actors::{
    ChildState, ExitKind, Restart, RestartPolicy, SupervisorError, SupervisorExit,
    SupervisorHandle, SupervisorOptions,
};

const LONG: Duration = Duration::from_secs(600);

#[tokio::test(start_paused = true)]
async fn children_start_in_order_and_stop_in_reverse_a_stuck_one_is_killed() {
    let (tx, mut rx) = channel();
    let names = ["a", "b", "c"];
    let probes: Vec<Probe> = names
        .iter()
        .map(|n| Probe::new(n, &tx, |_| StartMode::Ok))
        .collect();
    let policy = RestartPolicy {
        stop_timeout: Duration::from_secs(3),
        ..fast_policy()
    };
    let specs = names
        .iter()
        .zip(&probes)
        .map(|(n, p)| toy(n, policy.clone(), p, 0))
        .collect();
    let tree = SupervisorHandle::start("stop-order", specs, SupervisorOptions::default())
        .await
        .expect("tree starts");

    let mut started = Vec::new();
    while let Ok(ev) = rx.try_recv() {
        if let Event::Running { child, .. } = ev {
            started.push(child);
        }
    }
    assert_eq!(started, names, "start order");

    // `b` gets stuck in a handler: it can no longer see `stop`.
    tell(&tree, "b", ToyMsg::Block);
    let t0 = Instant::now();
    tokio::time::timeout(LONG, tree.shutdown())
        .await
        .expect("shutdown finishes")
        .expect("shutdown");
    assert_eq!(tree.wait().await, SupervisorExit::Shutdown);

    let mut ended = Vec::new();
    let mut graceful = Vec::new();
    let mut b_dropped_at = None;
    while let Ok(ev) = rx.try_recv() {
        match ev {
            Event::Dropped { child, at } => {
                if child == "b" {
                    b_dropped_at = Some(at);
                }
                ended.push(child);
            }
            Event::PostStop { child } => graceful.push(child),
            _ => {}
        }
    }
    assert_eq!(ended, ["c", "b", "a"], "stop order");
    assert_eq!(graceful, ["c", "a"], "b was killed, not stopped");
    let b_after = b_dropped_at.expect("b ended") - t0;
    assert_eq!(b_after.as_secs(), 3, "b was killed after its stop timeout");
    for name in names {
        assert!(ractor::registry::where_is(tree.registered_name(name)).is_none());
    }
    assert!(matches!(
        tree.add_child(toy("late", fast_policy(), &probes[0], 0))
            .await,
        Err(SupervisorError::NotRunning)
    ));
}

/// A restart of one child whose stop hangs is not waited on forever: the
/// child is killed after its stop timeout and a new instance started.
#[tokio::test(start_paused = true)]
async fn restarting_a_stuck_child_kills_it_after_its_stop_timeout_and_replaces_it() {
    let (tx, mut rx) = channel();
    let a = Probe::new("a", &tx, |_| StartMode::Ok);
    let policy = RestartPolicy {
        stop_timeout: Duration::from_secs(2),
        ..fast_policy()
    };
    let tree = SupervisorHandle::start(
        "stuck-restart",
        vec![toy("a", policy, &a, 1)],
        SupervisorOptions::default(),
    )
    .await
    .expect("tree starts");
    let before = toy_ref(&tree, "a").expect("a").get_id();
    // Stuck in a handler: it can no longer see `stop`.
    tell(&tree, "a", ToyMsg::Block);
    let t0 = Instant::now();
    tokio::time::timeout(LONG, tree.restart_child("a"))
        .await
        .expect("the restart is not waited on forever")
        .expect("restart a");
    let after = toy_ref(&tree, "a").expect("a again").get_id();
    assert_ne!(before, after, "a new instance");
    assert_eq!(a.starts(), 2);
    assert_eq!(ping(&tree, "a").await, Some(1), "the new instance answers");
    let mut dropped_at = None;
    let mut graceful = false;
    while let Ok(ev) = rx.try_recv() {
        match ev {
            Event::Dropped { child, at } if child == "a" => dropped_at = Some(at),
            Event::PostStop { child } if child == "a" => graceful = true,
            _ => {}
        }
    }
    assert!(!graceful, "killed, not stopped");
    let killed_after = dropped_at.expect("the stuck instance ended") - t0;
    assert_eq!(killed_after.as_secs(), 2, "killed after its stop timeout");
    let snap = tree.snapshot().await.expect("snapshot");
    assert_eq!(state_of(&snap, "a").state, ChildState::Running);
    tree.shutdown().await.expect("shutdown");
}

#[tokio::test(start_paused = true)]
async fn add_remove_restart_and_replace_at_runtime() {
    let (tx, _rx) = channel();
    let a = Probe::new("a", &tx, |_| StartMode::Ok);
    let b = Probe::new("b", &tx, |_| StartMode::Ok);
    let tree = SupervisorHandle::start(
        "runtime-ops",
        vec![toy("a", fast_policy(), &a, 1)],
        SupervisorOptions::default(),
    )
    .await
    .expect("tree starts");

    // add
    tree.add_child(toy("b", fast_policy(), &b, 2))
        .await
        .expect("add b");
    assert_eq!(ping(&tree, "b").await, Some(2));
    assert!(matches!(
        tree.add_child(toy("b", fast_policy(), &b, 2)).await,
        Err(SupervisorError::DuplicateChild(n)) if n == "b"
    ));
    let snap = tree.snapshot().await.expect("snapshot");
    let order: Vec<&str> = snap.children.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(order, ["a", "b"]);

    // restart a running child: a new instance, no automatic restart counted
    let before = toy_ref(&tree, "a").expect("a").get_id();
    tree.restart_child("a").await.expect("restart a");
    let after = toy_ref(&tree, "a").expect("a again").get_id();
    assert_ne!(before, after);
    assert_eq!(a.starts(), 2);
    let snap = tree.snapshot().await.expect("snapshot");
    assert_eq!(state_of(&snap, "a").state, ChildState::Running);
    assert_eq!(state_of(&snap, "a").restarts, 0);

    // restart from `failed` (restart = no leaves it down)
    tree.replace_child(toy(
        "a",
        RestartPolicy {
            restart: Restart::No,
            ..fast_policy()
        },
        &a,
        10,
    ))
    .await
    .expect("replace a");
    assert_eq!(ping(&tree, "a").await, Some(10), "replaced spec in use");
    tell(&tree, "a", ToyMsg::Exit(How::Panic));
    until(&tree, LONG, "a failed", |s| {
        let c = state_of(s, "a");
        c.state == ChildState::Failed
            && c.last_exit.as_ref().map(|e| e.kind) == Some(ExitKind::Abort)
    })
    .await;
    tree.restart_child("a").await.expect("restart failed a");
    assert_eq!(ping(&tree, "a").await, Some(10));

    // restart from `backoff`: starts now instead of in an hour
    tree.replace_child(toy(
        "a",
        RestartPolicy {
            restart_sec: Duration::from_secs(3600),
            ..fast_policy()
        },
        &a,
        11,
    ))
    .await
    .expect("replace a again");
    tell(&tree, "a", ToyMsg::Exit(How::Err));
    until(&tree, LONG, "a in backoff", |s| {
        state_of(s, "a").state == ChildState::Backoff
    })
    .await;
    let t0 = Instant::now();
    tree.restart_child("a").await.expect("restart from backoff");
    assert!(t0.elapsed() < Duration::from_secs(60));
    assert_eq!(ping(&tree, "a").await, Some(11));

    // remove
    tree.remove_child("b").await.expect("remove b");
    assert!(toy_ref(&tree, "b").is_none(), "b unregistered");
    let snap = tree.snapshot().await.expect("snapshot");
    assert_eq!(snap.children.len(), 1);
    assert!(matches!(
        tree.remove_child("b").await,
        Err(SupervisorError::UnknownChild(n)) if n == "b"
    ));
    assert!(matches!(
        tree.restart_child("nope").await,
        Err(SupervisorError::UnknownChild(_))
    ));
    // a removed child that exits is not restarted, and its name can be reused
    tree.add_child(toy("b", fast_policy(), &b, 3))
        .await
        .expect("re-add b");
    assert_eq!(ping(&tree, "b").await, Some(3));
    tree.shutdown().await.expect("shutdown");
}

#[tokio::test(start_paused = true)]
async fn snapshot_answers_while_a_child_is_starting() {
    let (tx, _rx) = channel();
    let slow = Probe::new("slow", &tx, |n| {
        if n == 1 {
            StartMode::Hang
        } else {
            StartMode::Ok
        }
    });
    let tree = SupervisorHandle::start("starting", vec![], SupervisorOptions::default())
        .await
        .expect("tree starts");
    let policy = RestartPolicy {
        start_timeout: Duration::from_secs(30),
        ..fast_policy()
    };
    let adder = {
        let tree = tree.clone();
        let spec = toy("slow", policy, &slow, 4);
        tokio::spawn(async move { tree.add_child(spec).await })
    };
    let snap = until(&tree, Duration::from_secs(1), "slow starting", |s| {
        s.children.len() == 1 && state_of(s, "slow").state == ChildState::Starting
    })
    .await;
    assert_eq!(state_of(&snap, "slow").uptime_secs, None);
    // The first start times out, counts as a timeout, and on-failure restarts it.
    adder.await.expect("join").expect("add");
    let snap = until(&tree, LONG, "slow running", |s| {
        state_of(s, "slow").state == ChildState::Running
    })
    .await;
    let last = state_of(&snap, "slow").last_exit.clone().expect("exit");
    assert_eq!(last.kind, ExitKind::Timeout);
    assert_eq!(ping(&tree, "slow").await, Some(4));
    tree.shutdown().await.expect("shutdown");
}

#[tokio::test(start_paused = true)]
async fn tick_is_called_from_the_supervisor_loop() {
    let ticks = Arc::new(AtomicU64::new(0));
    let counter = Arc::clone(&ticks);
    let options = SupervisorOptions {
        tick: Some((
            Duration::from_secs(1),
            Arc::new(move || {
                counter.fetch_add(1, Ordering::SeqCst);
            }),
        )),
    };
    let tree = SupervisorHandle::start("tick", vec![], options)
        .await
        .expect("tree starts");
    let t0 = Instant::now();
    until(&tree, LONG, "five ticks", |_| {
        ticks.load(Ordering::SeqCst) >= 5
    })
    .await;
    assert!(t0.elapsed() >= Duration::from_secs(5));
    tree.shutdown().await.expect("shutdown");
    let after = ticks.load(Ordering::SeqCst);
    tokio::time::sleep(Duration::from_secs(10)).await;
    assert_eq!(
        ticks.load(Ordering::SeqCst),
        after,
        "no tick after shutdown"
    );
}

#[tokio::test(start_paused = true)]
async fn a_clean_exit_under_on_failure_is_stopped_not_failed() {
    let (tx, _rx) = channel();
    let p = Probe::new("job", &tx, |_| StartMode::Ok);
    let tree = SupervisorHandle::start(
        "clean-exit",
        vec![toy("job", fast_policy(), &p, 0)],
        SupervisorOptions::default(),
    )
    .await
    .expect("tree starts");
    tell(&tree, "job", ToyMsg::Exit(How::Clean));
    let snap = until(&tree, LONG, "job stopped", |s| {
        state_of(s, "job").state == ChildState::Stopped
    })
    .await;
    let last = state_of(&snap, "job").last_exit.clone().expect("exit");
    assert_eq!(
        (last.kind, last.message.as_str()),
        (ExitKind::Success, "done")
    );
    let json = serde_json::to_string(&snap).expect("snapshot serialises");
    assert!(json.contains("\"state\":\"stopped\""), "{json}");
    tree.shutdown().await.expect("shutdown");
}

#[tokio::test(start_paused = true)]
async fn a_spawn_function_that_does_not_link_is_a_failed_start() {
    let (tx, _rx) = channel();
    let p = Probe::new("loner", &tx, |_| StartMode::Ok);
    let spec = zeroclaw_actors::ChildSpec::new(
        "loner",
        RestartPolicy {
            restart: Restart::No,
            ..fast_policy()
        },
        move |ctx: zeroclaw_actors::SpawnContext| {
            let probe = p.clone();
            async move {
                let (actor, _) =
                    ractor::Actor::spawn(Some(ctx.registered_name), Toy, ToyArgs { probe, tag: 0 })
                        .await?;
                Ok(actor.get_cell())
            }
        },
    );
    let tree = SupervisorHandle::start("unlinked", vec![spec], SupervisorOptions::default())
        .await
        .expect("tree starts");
    let snap = until(&tree, LONG, "loner failed", |s| {
        state_of(s, "loner").state == ChildState::Failed
    })
    .await;
    let last = state_of(&snap, "loner").last_exit.clone().expect("exit");
    assert!(last.message.contains("did not link"), "{}", last.message);
    tree.shutdown().await.expect("shutdown");
}
