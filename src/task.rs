//! Tasks owned by an actor, and what a task's panic says.
//!
//! ractor skips `post_stop` when an actor fails, panics or is killed, so a
//! task an actor spawned must end with the actor's state, not in `post_stop`
//! only: every actor keeps its tasks in a [`TaskGuard`], which aborts the
//! task when dropped.

use std::any::Any;
use std::future::Future;
use std::time::Duration;
use tokio::task::JoinHandle;

/// Aborts its task when dropped.
#[derive(Debug)]
pub struct TaskGuard<T = ()>(JoinHandle<T>);

impl TaskGuard {
    pub fn spawn<F>(future: F) -> Self
    where
        F: Future<Output = ()> + Send + 'static,
    {
        Self(tokio::spawn(future))
    }
}

impl<T> TaskGuard<T> {
    /// Wait up to `limit` for the task to end by itself (after it was told to
    /// stop), then abort it (by dropping the guard).
    pub async fn finish(mut self, limit: Duration) {
        let _ = tokio::time::timeout(limit, &mut self.0).await;
    }

    /// As [`TaskGuard::finish`], saying whether the task ended in time.
    pub async fn finished_within(mut self, limit: Duration) -> bool {
        tokio::time::timeout(limit, &mut self.0).await.is_ok()
    }

    /// Wait for the task to end by itself.
    pub async fn join(mut self) {
        let _ = (&mut self.0).await;
    }

    pub fn abort(&self) {
        self.0.abort();
    }
}

impl<T> From<JoinHandle<T>> for TaskGuard<T> {
    fn from(handle: JoinHandle<T>) -> Self {
        Self(handle)
    }
}

impl<T> Drop for TaskGuard<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// The message of a caught panic (`catch_unwind`, a `JoinError`'s payload).
pub fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "unknown panic".to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_dropped_guard_aborts_its_task() {
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let guard = TaskGuard::spawn(async move {
            let _keep = tx;
            std::future::pending::<()>().await;
        });
        drop(guard);
        // The sender is dropped with the aborted task.
        assert!(rx.await.is_err());
    }

    #[test]
    fn panic_payloads_become_text() {
        let p = std::panic::catch_unwind(|| panic!("boom {}", 1)).unwrap_err();
        assert_eq!(panic_message(&*p), "boom 1");
        let p = std::panic::catch_unwind(|| panic!("static")).unwrap_err();
        assert_eq!(panic_message(&*p), "static");
        let p = std::panic::catch_unwind(|| std::panic::panic_any(7_u8)).unwrap_err();
        assert_eq!(panic_message(&*p), "unknown panic");
    }
}
