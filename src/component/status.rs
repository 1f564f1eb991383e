//! The status board: one line per child that `status` and `channel list`
//! show next to the tree's own state (the gateway's bound address, a
//! channel's mode or why it failed, the log file).
//!
//! It is a dependency like any other: the daemon builds it before the tree
//! starts and hands it to the components that write their line and to the
//! control socket that reads them.

use super::names::ChildName;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};

/// Cheap to clone; every clone shows the same board.
#[derive(Clone, Default)]
pub struct StatusBoard {
    lines: Arc<Mutex<BTreeMap<ChildName, String>>>,
}

impl StatusBoard {
    pub fn new() -> Self {
        Self::default()
    }

    /// Replace `child`'s line.
    pub fn set(&self, child: &ChildName, detail: impl Into<String>) {
        self.lock().insert(child.clone(), detail.into());
    }

    /// `child`'s line, if it wrote one.
    pub fn get(&self, child: &ChildName) -> Option<String> {
        self.lock().get(child).cloned()
    }

    /// The line of the child named `name` in text (`None` for no such child).
    pub fn get_named(&self, name: &str) -> Option<String> {
        self.get(&name.parse().ok()?)
    }

    /// A writer for one child's line only: what a component is handed.
    pub fn line(&self, child: ChildName) -> StatusLine {
        StatusLine {
            board: self.clone(),
            child,
        }
    }

    fn lock(&self) -> MutexGuard<'_, BTreeMap<ChildName, String>> {
        // A poisoned lock only means a writer panicked mid-insert of a String.
        self.lines.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// One child's line on the [`StatusBoard`].
#[derive(Clone)]
pub struct StatusLine {
    board: StatusBoard,
    child: ChildName,
}

impl StatusLine {
    pub fn set(&self, detail: impl Into<String>) {
        self.board.set(&self.child, detail);
    }

    pub fn get(&self) -> Option<String> {
        self.board.get(&self.child)
    }

    pub fn child(&self) -> &ChildName {
        &self.child
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::component::ChannelKind;

    #[test]
    fn a_line_writes_only_its_own_child() {
        let board = StatusBoard::new();
        let telegram = board.line(ChildName::Channel(ChannelKind::Telegram));
        telegram.set("polling");
        assert_eq!(
            board.get_named("channel:telegram").as_deref(),
            Some("polling")
        );
        assert_eq!(telegram.get().as_deref(), Some("polling"));
        assert_eq!(board.get(&ChildName::Gateway), None);
        assert_eq!(board.get_named("no such child"), None);
    }
}
