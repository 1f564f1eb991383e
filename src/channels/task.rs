//! Background tasks owned by a channel actor.

use std::time::Duration;
use tokio::task::JoinSet;

/// How long a graceful stop waits for work already accepted (below the
/// supervisor's default 5 s `stop_timeout`, after which the actor is killed).
pub const DRAIN_LIMIT: Duration = Duration::from_secs(4);

/// Channel actors keep their I/O tasks in these inside their state, so the
/// tasks end whenever the actor ends (the one abort-on-drop guard).
pub use crate::task::TaskGuard;

/// On a graceful stop (`restart <child>`, shutdown): stop taking new work by
/// ending every task but the first (the worker: its queue closes once the
/// other senders are gone), then give the worker and in-flight deliveries up
/// to `limit` to finish what was already accepted. A Discord event or an
/// acknowledged Slack envelope is never sent again, so aborting it here would
/// lose the message (found by `benches/soak.sh`).
pub async fn drain(tasks: &mut Vec<TaskGuard>, deliveries: &mut JoinSet<()>, limit: Duration) {
    let worker = (!tasks.is_empty()).then(|| tasks.remove(0));
    tasks.clear();
    let _ = tokio::time::timeout(limit, async {
        if let Some(worker) = worker {
            worker.join().await;
        }
        while deliveries.join_next().await.is_some() {}
    })
    .await;
}
