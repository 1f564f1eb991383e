//! Background tasks owned by a channel actor.

use futures_util::FutureExt;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::time::Duration;
use tokio::task::JoinSet;

/// How long a graceful stop waits for work already accepted (below the
/// supervisor's default 5 s `stop_timeout`, after which the actor is killed).
pub const DRAIN_LIMIT: Duration = Duration::from_secs(4);

/// Channel actors keep their I/O tasks in these inside their state, so the
/// tasks end whenever the actor ends (the one abort-on-drop guard).
pub use crate::task::TaskGuard;

/// On a graceful stop (`restart <child>`, shutdown): stop taking new work by
/// ending every task but the first (the worker), then give the worker until
/// `finished` (its backlog is empty) and in-flight deliveries until they end,
/// up to `limit` in all; then the worker is ended too. What it did not get
/// to stays in the channel's backlog for the next start (see
/// `channels::backlog`), so a restart loses nothing the service will not
/// send again (found by `benches/soak.sh`).
pub async fn drain(
    tasks: &mut Vec<TaskGuard>,
    deliveries: &mut JoinSet<()>,
    limit: Duration,
    finished: impl Future<Output = ()>,
) {
    let worker = (!tasks.is_empty()).then(|| tasks.remove(0));
    tasks.clear();
    let _ = tokio::time::timeout(limit, async {
        finished.await;
        while deliveries.join_next().await.is_some() {}
    })
    .await;
    drop(worker);
}

/// Run `task`; when it panics, hand `crashed` why. A tokio task that panics
/// just ends, and a channel whose receiver or worker ended that way would
/// run on and hear nothing: the actor is told instead, fails, and its
/// supervisor restarts it.
pub async fn report_panic<F>(task: F, what: &str, crashed: impl FnOnce(String))
where
    F: Future<Output = ()>,
{
    if let Err(payload) = AssertUnwindSafe(task).catch_unwind().await {
        let message = crate::task::panic_message(&*payload);
        crashed(format!("the {what} panicked: {message}"));
    }
}

#[cfg(test)]
mod tests {
    use super::report_panic;

    #[tokio::test]
    async fn a_panicking_task_is_reported_and_a_finished_one_is_not() {
        let mut said = None;
        report_panic(async { panic!("boom") }, "receiver", |m| said = Some(m)).await;
        assert_eq!(said.as_deref(), Some("the receiver panicked: boom"));
        let mut said = None;
        report_panic(async {}, "worker", |m| said = Some(m)).await;
        assert_eq!(said, None);
    }
}
