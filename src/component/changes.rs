//! "Something shown changed": a counter that moves when a part of the
//! daemon's picture changes, so a live view (the status page's hub) waits
//! for a move instead of reading everything on a timer. The tree has its
//! own counter in the kernel (`TreeReader::changes`); this one is for what
//! the components keep: the status board's lines and activity, and the
//! cron jobs (a run began or ended, a job was enabled or disabled).
//! See docs/architecture.md, "The status page".

use std::sync::Arc;
use tokio::sync::watch;

/// Cheap to clone; every clone moves and shows the same counter.
#[derive(Clone, Debug)]
pub struct Changes {
    tx: Arc<watch::Sender<u64>>,
}

impl Default for Changes {
    fn default() -> Self {
        Self {
            tx: Arc::new(watch::Sender::new(0)),
        }
    }
}

impl Changes {
    /// Wake every receiver. Costs an atomic add and a wake-up of the
    /// tasks waiting, none when nobody looks.
    pub fn bump(&self) {
        self.tx.send_modify(|n| *n = n.wrapping_add(1));
    }

    /// A receiver of every later move.
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.tx.subscribe()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_clone_moves_the_same_counter() {
        let changes = Changes::default();
        let mut rx = changes.subscribe();
        assert!(!rx.has_changed().unwrap());
        changes.clone().bump();
        assert!(rx.has_changed().unwrap());
        rx.borrow_and_update();
        assert!(!rx.has_changed().unwrap());
    }
}
