//! Background tasks owned by a channel actor.

use tokio::task::JoinHandle;

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

impl Drop for TaskGuard {
    fn drop(&mut self) {
        self.0.abort();
    }
}
