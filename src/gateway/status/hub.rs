//! The hub that pushes the status view to every open `/status/events`
//! stream when something on it changed.
//!
//! One hub per gateway runs while at least one stream is open and stops
//! when the last one closes: fifty open pages cost what one does. It does
//! nothing on a timer. It waits for a move of one of three counters: the
//! tree's (a child started, exited, restarted, was added or removed), the
//! status board's (a line or a channel's activity), and cron's (a run
//! began or ended, a job was enabled or disabled). Only then does it build
//! the view, and it sends a frame only when the view differs from the
//! last one sent. The jobs and their runs (database reads) are read again
//! only after a move of cron's counter. See docs/architecture.md, "The
//! status page".

use super::view::{CronPart, View, cron_part, with_tree};
use crate::gateway::state::GatewayState;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tokio::sync::watch;

/// After a move, the hub waits this long before it builds the view, so the
/// moves that come together (a crash is an exit, a backoff and a start) are
/// sent as one frame. Well within the second in which a change must show.
pub const SETTLE: Duration = Duration::from_millis(20);

/// One rendered view (JSON) shared by every stream.
#[derive(Debug, Default)]
pub struct Frame {
    pub json: String,
}

/// The pushes of one gateway.
pub struct Hub {
    tx: watch::Sender<Arc<Frame>>,
    running: AtomicBool,
    /// `true` once the gateway stops: every stream ends.
    closed: watch::Sender<bool>,
}

impl Default for Hub {
    fn default() -> Self {
        Self {
            tx: watch::Sender::new(Arc::new(Frame::default())),
            running: AtomicBool::new(false),
            closed: watch::Sender::new(false),
        }
    }
}

impl Hub {
    /// The gateway is stopping: end every stream.
    pub fn close(&self) {
        self.closed.send_replace(true);
    }

    /// Turns `true` when the gateway stops.
    pub fn closed(&self) -> watch::Receiver<bool> {
        self.closed.subscribe()
    }

    /// A receiver of every new view; starts the hub if it is idle.
    pub fn subscribe(&self, state: &GatewayState) -> watch::Receiver<Arc<Frame>> {
        let mut rx = self.tx.subscribe();
        rx.mark_changed();
        if !self.running.swap(true, Ordering::AcqRel) {
            let state = state.clone();
            tokio::spawn(async move { run(state).await });
        }
        rx
    }

    /// Whether the hub may stop: no stream is open. A stream that
    /// subscribed while this was deciding sees `running` false and starts
    /// another hub, or is served by this one.
    fn may_stop(&self) -> bool {
        if self.tx.receiver_count() > 0 {
            return false;
        }
        self.running.store(false, Ordering::Release);
        self.tx.receiver_count() == 0 || self.running.swap(true, Ordering::AcqRel)
    }
}

/// The counters the hub waits on.
struct Moves {
    tree: watch::Receiver<u64>,
    board: watch::Receiver<u64>,
    cron: watch::Receiver<u64>,
}

impl Moves {
    fn of(state: &GatewayState) -> Self {
        Self {
            tree: state.ctx().tree().changes(),
            board: state.ctx().board_changes(),
            cron: state.metrics().cron_changes().subscribe(),
        }
    }

    /// Until one counter moves or the last stream closes; whether it was
    /// cron's (`changed` marks the move it saw as seen).
    async fn next(&mut self, hub: &Hub) -> bool {
        tokio::select! {
            _ = moved(&mut self.tree) => false,
            _ = moved(&mut self.board) => false,
            _ = moved(&mut self.cron) => true,
            _ = hub.tx.closed() => false,
        }
    }

    /// Mark every move so far as seen; whether cron's counter moved since
    /// the last call.
    fn seen(&mut self) -> bool {
        self.tree.borrow_and_update();
        self.board.borrow_and_update();
        let cron = self.cron.has_changed().unwrap_or(false);
        self.cron.borrow_and_update();
        cron
    }
}

/// Until `rx` moves; never, if its sender is gone (nothing will move it).
async fn moved(rx: &mut watch::Receiver<u64>) {
    if rx.changed().await.is_err() {
        std::future::pending::<()>().await;
    }
}

async fn run(state: GatewayState) {
    let hub = state.status_hub();
    let mut moves = Moves::of(&state);
    moves.seen();
    let mut cron: CronPart = cron_part(&state).await;
    let mut last: Option<View> = None;
    loop {
        if hub.may_stop() {
            return;
        }
        let view = with_tree(&state, &cron).await;
        let key = view.key();
        if last.as_ref() != Some(&key) {
            match serde_json::to_string(&view) {
                Ok(json) => {
                    hub.tx.send_replace(Arc::new(Frame { json }));
                }
                Err(e) => tracing::warn!(error = %e, "status view did not serialise"),
            }
            last = Some(key);
        }
        let cron_moved = moves.next(hub).await;
        tokio::time::sleep(SETTLE).await;
        if moves.seen() || cron_moved {
            cron = cron_part(&state).await;
        }
    }
}
