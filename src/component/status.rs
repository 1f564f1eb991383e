//! The status board: one line per child that `status` and `channel list`
//! show next to the tree's own state (the gateway's bound address, a
//! channel's mode or why it failed, the log file).
//!
//! It is a dependency like any other: the daemon builds it before the tree
//! starts and hands it to the components that write their line and to the
//! control socket that reads them.
//!
//! Next to the line, a child may record when it last completed work (a
//! channel's poll or event): liveness judged by work done, not by a socket
//! being open, shown by `status`, `/ready` and `/metrics`.

use super::Changes;
use super::names::ChildName;
use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::SystemTime;

/// Cheap to clone; every clone shows the same board.
#[derive(Clone, Default)]
pub struct StatusBoard {
    lines: Arc<Mutex<BTreeMap<ChildName, String>>>,
    activity: Arc<Mutex<BTreeMap<ChildName, SystemTime>>>,
    changes: Changes,
}

/// When a child last completed work, as `status --json` and `/ready` show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Activity {
    /// RFC 3339, UTC.
    pub last_activity: String,
    /// Seconds since then.
    pub idle_secs: u64,
}

impl Activity {
    pub fn at(when: SystemTime) -> Self {
        let idle_secs = SystemTime::now()
            .duration_since(when)
            .map_or(0, |d| d.as_secs());
        let last_activity = chrono::DateTime::<chrono::Utc>::from(when)
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        Self {
            last_activity,
            idle_secs,
        }
    }
}

impl StatusBoard {
    pub fn new() -> Self {
        Self::default()
    }

    /// Replace `child`'s line.
    pub fn set(&self, child: &ChildName, detail: impl Into<String>) {
        let detail = detail.into();
        let old = self.lock().insert(child.clone(), detail.clone());
        if old.as_ref() != Some(&detail) {
            self.changes.bump();
        }
    }

    /// Moves whenever a line or an activity changes.
    pub fn changes(&self) -> &Changes {
        &self.changes
    }

    /// `child`'s line, if it wrote one.
    pub fn get(&self, child: &ChildName) -> Option<String> {
        self.lock().get(child).cloned()
    }

    /// The line of the child named `name` in text (`None` for no such child).
    pub fn get_named(&self, name: &str) -> Option<String> {
        self.get(&name.parse().ok()?)
    }

    /// When the child named `name` last completed work, if it recorded any.
    pub fn activity_named(&self, name: &str) -> Option<SystemTime> {
        let child: ChildName = name.parse().ok()?;
        lock(&self.activity).get(&child).copied()
    }

    /// Every child's last completed work, by the child's name.
    pub fn activities(&self) -> Vec<(String, SystemTime)> {
        lock(&self.activity)
            .iter()
            .map(|(child, at)| (child.to_string(), *at))
            .collect()
    }

    /// A writer for one child's line only: what a component is handed.
    pub fn line(&self, child: ChildName) -> StatusLine {
        StatusLine {
            board: self.clone(),
            child,
        }
    }

    fn lock(&self) -> MutexGuard<'_, BTreeMap<ChildName, String>> {
        lock(&self.lines)
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A poisoned lock only means a writer panicked mid-insert of a value.
    m.lock().unwrap_or_else(|e| e.into_inner())
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

    /// The child completed work just now (see [`Activity`]).
    pub fn touch(&self) {
        lock(&self.board.activity).insert(self.child.clone(), SystemTime::now());
        self.board.changes.bump();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::component::ChannelKind;

    #[test]
    fn a_line_writes_only_its_own_child() {
        let board = StatusBoard::new();
        let mut changes = board.changes().subscribe();
        let telegram = board.line(ChildName::Channel(ChannelKind::Telegram));
        telegram.set("polling");
        assert!(changes.has_changed().unwrap(), "a new line is a change");
        changes.borrow_and_update();
        telegram.set("polling");
        assert!(
            !changes.has_changed().unwrap(),
            "the same line again is not"
        );
        assert_eq!(
            board.get_named("channel:telegram").as_deref(),
            Some("polling")
        );
        assert_eq!(telegram.get().as_deref(), Some("polling"));
        assert_eq!(board.get(&ChildName::Gateway), None);
        assert_eq!(board.get_named("no such child"), None);
        assert_eq!(board.activity_named("channel:telegram"), None);
        telegram.touch();
        assert!(changes.has_changed().unwrap(), "activity is a change");
        let at = board.activity_named("channel:telegram").unwrap();
        assert_eq!(Activity::at(at).idle_secs, 0);
        assert_eq!(board.activities().len(), 1);
        assert_eq!(board.activities()[0].0, "channel:telegram");
    }
}
