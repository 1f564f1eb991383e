//! systemd.service(5)'s restart table, through real actors: every `Restart=`
//! value against every way a child can end.

mod support;

use std::time::Duration;
use support::*;
use zeroclaw_actors::{
    ChildState, ExitKind, Restart, RestartPolicy, SupervisorHandle, SupervisorOptions,
};

include!("../src/tree/systemd_table.rs");

#[test]
fn the_function_matches_the_table() {
    for (restart, row) in TABLE {
        for (kind, expected) in KINDS.into_iter().zip(row) {
            assert_eq!(
                restart.restarts_after(kind),
                expected,
                "Restart={restart:?} after {kind:?}"
            );
        }
    }
}

async fn run_case(restart: Restart, kind: ExitKind, expected: bool) {
    let case = format!("Restart={restart:?} after {kind:?}");
    let (tx, _rx) = channel();
    let probe = Probe::new("worker", &tx, move |n| {
        if kind == ExitKind::Timeout && n == 1 {
            StartMode::Hang
        } else {
            StartMode::Ok
        }
    });
    let policy = RestartPolicy {
        restart,
        start_timeout: Duration::from_secs(1),
        ..fast_policy()
    };
    let ns = format!("table-{restart:?}-{kind:?}");
    let tree = SupervisorHandle::start(
        &ns,
        vec![toy("worker", policy, &probe, 0)],
        SupervisorOptions::default(),
    )
    .await
    .expect("tree starts");

    let how = match kind {
        ExitKind::Success => Some(How::Clean),
        ExitKind::Failure => Some(How::Err),
        ExitKind::Abort => Some(How::Panic),
        ExitKind::Timeout => None,
    };
    if let Some(how) = how {
        let snap = tree.snapshot().await.expect("snapshot");
        assert_eq!(
            state_of(&snap, "worker").state,
            ChildState::Running,
            "{case}"
        );
        tell(&tree, "worker", ToyMsg::Exit(how));
    }

    let within = Duration::from_secs(30);
    if expected {
        let snap = until(&tree, within, &case, |s| {
            probe.starts() == 2 && state_of(s, "worker").state == ChildState::Running
        })
        .await;
        let worker = state_of(&snap, "worker");
        assert_eq!(worker.restarts, 1, "{case}");
        assert_eq!(
            worker.last_exit.as_ref().map(|e| e.kind),
            Some(kind),
            "{case}"
        );
    } else {
        let down = if kind == ExitKind::Success {
            ChildState::Stopped
        } else {
            ChildState::Failed
        };
        let snap = until(&tree, within, &case, |s| {
            let w = state_of(s, "worker");
            w.state == down && w.last_exit.as_ref().map(|e| e.kind) == Some(kind)
        })
        .await;
        assert_eq!(state_of(&snap, "worker").restarts, 0, "{case}");
        // Let any wrongly scheduled restart happen before counting starts.
        tokio::time::sleep(Duration::from_secs(2)).await;
        assert_eq!(
            probe.starts(),
            1,
            "{case}: restarted although it should not"
        );
        let snap = tree.snapshot().await.expect("snapshot");
        assert_eq!(state_of(&snap, "worker").state, down, "{case}");
    }
    tree.shutdown().await.expect("shutdown");
}

#[tokio::test(start_paused = true)]
async fn every_restart_setting_against_every_exit_kind() {
    for (restart, row) in TABLE {
        for (kind, expected) in KINDS.into_iter().zip(row) {
            run_case(restart, kind, expected).await;
        }
    }
}
