//! A counter per tree that moves whenever the tree's picture may have
//! changed, so a reader (a live status page) waits for a change instead of
//! asking for a snapshot on a timer.
//!
//! Like the supervisor itself, the counter is found by the tree's namespace
//! (see docs/architecture.md, "Names"): a [`crate::TreeReader`] made before
//! its tree starts subscribes to the same counter the tree will move. The
//! counters live in one process-wide table; it holds one entry per
//! namespace ever used, which is a handful in a daemon.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use tokio::sync::watch;

static COUNTERS: OnceLock<Mutex<HashMap<Arc<str>, watch::Sender<u64>>>> = OnceLock::new();

/// The counter of the tree named `namespace`, made on first use.
pub(crate) fn counter(namespace: &str) -> watch::Sender<u64> {
    let table = COUNTERS.get_or_init(|| Mutex::new(HashMap::new()));
    // A poisoned lock only means a thread panicked between two map
    // operations, which leave the map whole.
    let mut table = table.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(tx) = table.get(namespace) {
        return tx.clone();
    }
    let tx = watch::Sender::new(0);
    table.insert(Arc::from(namespace), tx.clone());
    tx
}

/// A receiver that sees every later move of `namespace`'s counter.
pub(crate) fn subscribe(namespace: &str) -> watch::Receiver<u64> {
    counter(namespace).subscribe()
}

/// Move the counter: wakes every receiver.
pub(crate) fn bump(tx: &watch::Sender<u64>) {
    tx.send_modify(|n| *n = n.wrapping_add(1));
}
