//! The tree, for the one child that reports on it from inside (the
//! gateway's `/health`, `/ready` and `/metrics`).
//!
//! A tree exists only once its children are specified, so a child cannot be
//! handed it when its spec is built: the daemon resolves this link right
//! after the tree has started, and until then (or outside a tree: tests,
//! examples) a reader sees `None`, which it reports as "no tree". The
//! control socket needs no link: it is added to the running tree with the
//! tree's handle (see docs/architecture.md, "The component contract").

use std::sync::{Arc, OnceLock};
use zeroclaw_actors::SupervisorHandle;

/// Cheap to clone; every clone sees the resolved tree.
#[derive(Clone, Default)]
pub struct TreeLink(Arc<OnceLock<SupervisorHandle>>);

impl TreeLink {
    pub fn new() -> Self {
        Self::default()
    }

    /// The tree, once it has started.
    pub fn get(&self) -> Option<&SupervisorHandle> {
        self.0.get()
    }

    /// Called once by the daemon when `handle`'s tree has started.
    pub fn resolve(&self, handle: SupervisorHandle) {
        let _ = self.0.set(handle);
    }
}
