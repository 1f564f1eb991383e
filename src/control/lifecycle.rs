//! Requests that only the daemon's main loop may carry out (they change the
//! tree as a whole), sent to it from the control socket. The daemon creates
//! the channel before the tree starts and keeps the receiving end.

use super::protocol::{ControlError, ReloadReport};
use tokio::sync::{mpsc, oneshot};

pub enum LifecycleRequest {
    /// Re-read the config; the reply is a report or every config error.
    Reload(oneshot::Sender<Result<ReloadReport, String>>),
    /// Stop the tree gracefully and exit 0.
    Shutdown,
}

/// The control socket's end of the main loop's inbox.
#[derive(Clone)]
pub struct LifecycleSender(mpsc::UnboundedSender<LifecycleRequest>);

/// The main loop's end.
pub type LifecycleReceiver = mpsc::UnboundedReceiver<LifecycleRequest>;

impl LifecycleSender {
    /// A connected pair: the daemon keeps the receiver.
    pub fn channel() -> (Self, LifecycleReceiver) {
        let (tx, rx) = mpsc::unbounded_channel();
        (Self(tx), rx)
    }

    /// Hand a request to the main loop.
    pub fn send(&self, request: LifecycleRequest) -> Result<(), ControlError> {
        self.0
            .send(request)
            .map_err(|_| ControlError::new("stopping", "the daemon is shutting down"))
    }
}
