//! Background tasks owned by a channel actor.

use std::time::Duration;
use tokio::task::{JoinHandle, JoinSet};

/// How long a graceful stop waits for work already accepted (below the
/// supervisor's default 5 s `stop_timeout`, after which the actor is killed).
pub const DRAIN_LIMIT: Duration = Duration::from_secs(4);

/// Aborts the task when dropped. Channel actors keep their I/O tasks in these
/// inside their state, so the tasks end whenever the actor ends — also when it
/// fails or is killed, where ractor skips `post_stop`.
pub struct TaskGuard(JoinHandle<()>);

impl TaskGuard {
    pub fn spawn<F>(future: F) -> Self
    where
        F: std::future::Future<Output = ()> + Send + 'static,
    {
        Self(tokio::spawn(future))
    }
}

impl TaskGuard {
    /// Wait up to `limit` for the task to end by itself (after it was told to
    /// stop), then abort it.
    pub async fn finish(mut self, limit: Duration) {
        let _ = tokio::time::timeout(limit, &mut self.0).await;
    }
}

impl Drop for TaskGuard {
    fn drop(&mut self) {
        self.0.abort();
    }
}

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
        if let Some(mut worker) = worker {
            let _ = (&mut worker.0).await;
        }
        while deliveries.join_next().await.is_some() {}
    })
    .await;
}
