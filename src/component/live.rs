//! A value that a reload may replace while the tree runs (the config, the
//! agent). Readers take the value in force when they need it, so a child
//! restarted after a reload sees the new one.

use std::sync::{Arc, RwLock};

/// Cheap to clone; every clone sees the same value.
pub struct Live<T> {
    inner: Arc<RwLock<Arc<T>>>,
}

impl<T> Clone for Live<T> {
    fn clone(&self) -> Self {
        Self {
            inner: Arc::clone(&self.inner),
        }
    }
}

impl<T> Live<T> {
    pub fn new(value: T) -> Self {
        Self {
            inner: Arc::new(RwLock::new(Arc::new(value))),
        }
    }

    /// The value in force now.
    pub fn get(&self) -> Arc<T> {
        match self.inner.read() {
            Ok(v) => Arc::clone(&v),
            Err(poisoned) => Arc::clone(&poisoned.into_inner()),
        }
    }

    pub fn set(&self, value: T) {
        match self.inner.write() {
            Ok(mut v) => *v = Arc::new(value),
            Err(poisoned) => *poisoned.into_inner() = Arc::new(value),
        }
    }
}
