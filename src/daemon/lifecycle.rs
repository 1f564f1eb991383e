//! Requests that only the daemon's main loop may carry out (they change the
//! tree as a whole), sent to it from the control socket and from signals.

use crate::control::protocol::ControlError;
use serde_json::Value;
use tokio::sync::{mpsc, oneshot};

pub enum LifecycleRequest {
    /// Re-read the config; the reply is a report or every config error.
    Reload(oneshot::Sender<Result<Value, String>>),
    /// Stop the tree gracefully and exit 0.
    Shutdown,
}

pub type LifecycleSender = mpsc::UnboundedSender<LifecycleRequest>;

impl super::DaemonCtx {
    /// Hand a request to the main loop.
    pub fn request_lifecycle(&self, request: LifecycleRequest) -> Result<(), ControlError> {
        self.lifecycle
            .get()
            .ok_or_else(|| ControlError::new("starting", "the daemon is still starting"))?
            .send(request)
            .map_err(|_| ControlError::new("stopping", "the daemon is shutting down"))
    }
}
