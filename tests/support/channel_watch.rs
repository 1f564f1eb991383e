//! A stand-in supervisor for channel tests: links to a channel actor and
//! reports how it ended, so tests observe failures the real supervisor would
//! restart without needing the supervision kernel.
#![allow(dead_code)]

use ractor::{Actor, ActorProcessingErr, ActorRef, SupervisionEvent};
use std::time::Duration;
use tokio::sync::mpsc;

/// How a watched actor ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Ended {
    /// Stopped cleanly, with the stop reason.
    Stopped(Option<String>),
    /// Failed (handler `Err` or panic), with the error text.
    Failed(String),
}

pub struct Watcher;

impl Actor for Watcher {
    type Msg = ();
    type State = mpsc::UnboundedSender<Ended>;
    type Arguments = mpsc::UnboundedSender<Ended>;

    async fn pre_start(
        &self,
        _myself: ActorRef<()>,
        tx: Self::Arguments,
    ) -> Result<Self::State, ActorProcessingErr> {
        Ok(tx)
    }

    async fn handle_supervisor_evt(
        &self,
        _myself: ActorRef<()>,
        event: SupervisionEvent,
        tx: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        let ended = match event {
            SupervisionEvent::ActorTerminated(_, _, reason) => Ended::Stopped(reason),
            SupervisionEvent::ActorFailed(_, e) => Ended::Failed(e.to_string()),
            _ => return Ok(()),
        };
        let _ = tx.send(ended);
        Ok(())
    }
}

/// A watcher and the receiving end of its reports.
pub struct Watch {
    pub watcher: ActorRef<()>,
    rx: mpsc::UnboundedReceiver<Ended>,
}

impl Watch {
    pub async fn start() -> Self {
        let (tx, rx) = mpsc::unbounded_channel();
        let (watcher, _) = Actor::spawn(None, Watcher, tx).await.expect("watcher");
        Self { watcher, rx }
    }

    /// Wait (up to `within`) for the watched actor to end.
    pub async fn ended(&mut self, within: Duration) -> Ended {
        tokio::time::timeout(within, self.rx.recv())
            .await
            .expect("the channel actor did not end in time")
            .expect("watcher gone")
    }

    /// Assert nothing ended during `within`.
    pub async fn still_running(&mut self, within: Duration) {
        if let Ok(Some(e)) = tokio::time::timeout(within, self.rx.recv()).await {
            panic!("the channel actor ended: {e:?}");
        }
    }
}

/// Poll `cond` until true or panic after `within`.
pub async fn wait_until(within: Duration, what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + within;
    while !cond() {
        if tokio::time::Instant::now() > deadline {
            panic!("timed out waiting for: {what}");
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}
