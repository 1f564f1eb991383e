//! A change counter: a value that moves whenever something a reader shows
//! may have changed, so the reader (a live status page) waits for a move
//! instead of reading everything on a timer. The tree has one per
//! namespace; a program may make its own for what it keeps.
//!
//! A tree's counter is found by the tree's namespace, like the supervisor
//! itself (see docs/architecture.md, "Names"): a [`crate::TreeReader`] made
//! before its tree starts subscribes to the counter the tree will move. The
//! trees' counters live in one process-wide table holding one entry per
//! namespace ever used, which is a handful in a daemon.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
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
    /// Wake every receiver: an atomic add, and a wake-up of the tasks
    /// waiting (none when nobody looks).
    pub fn bump(&self) {
        self.tx.send_modify(|n| *n = n.wrapping_add(1));
    }

    /// A receiver of every later move.
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.tx.subscribe()
    }
}

static TREES: OnceLock<Mutex<HashMap<Arc<str>, Changes>>> = OnceLock::new();

/// The counter of the tree named `namespace`, made on first use.
pub(crate) fn of_tree(namespace: &str) -> Changes {
    let table = TREES.get_or_init(|| Mutex::new(HashMap::new()));
    // A poisoned lock only means a thread panicked between two map
    // operations, which leave the map whole.
    let mut table = table.lock().unwrap_or_else(|e| e.into_inner());
    table.entry(Arc::from(namespace)).or_default().clone()
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

    #[test]
    fn a_namespace_has_one_counter() {
        let rx = of_tree("changes-unit-test").subscribe();
        of_tree("changes-unit-test").bump();
        assert!(rx.has_changed().unwrap());
        assert!(
            !of_tree("changes-unit-test-other")
                .subscribe()
                .has_changed()
                .unwrap()
        );
    }
}
