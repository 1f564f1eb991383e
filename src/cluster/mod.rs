//! Several instances on one PostgreSQL database: which one leads.
//!
//! The [`elector`] holds or waits for the lease in the database and
//! publishes this instance's role as a [`Leadership`]. The tree runs the
//! leader-only children (Telegram polling, the Discord gateway, cron's job
//! actors) only while the role is leader; the main loop starts and stops
//! them when it changes. Every instance serves the gateway. Without
//! `[cluster]` the single instance always leads. See "Several instances" in
//! docs/operations.md.

pub mod cli;
pub mod doctor;
pub mod elector;

use crate::component::{ChannelKind, ChildName};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use tokio::sync::watch;

/// This instance's role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Leader,
    Follower,
}

/// What `status` shows of the cluster.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClusterView {
    pub role: Role,
    pub instance: String,
    /// The lease holder as last read (`None` = nobody holds a live lease,
    /// or the database could not be read).
    pub leader: Option<String>,
    pub epoch: i64,
    pub lease_expires: Option<DateTime<Utc>>,
}

/// The role in force, cheap to clone; a single instance always leads.
#[derive(Debug, Clone)]
pub struct Leadership {
    rx: watch::Receiver<Option<ClusterView>>,
}

impl Default for Leadership {
    fn default() -> Self {
        Self::single()
    }
}

impl Leadership {
    /// One instance, no cluster: always the leader.
    pub fn single() -> Self {
        let (_tx, rx) = watch::channel(None);
        Self { rx }
    }

    /// A cluster's role, published by the elector through `tx`.
    pub fn channel(first: ClusterView) -> (watch::Sender<Option<ClusterView>>, Self) {
        let (tx, rx) = watch::channel(Some(first));
        (tx, Self { rx })
    }

    pub fn is_leader(&self) -> bool {
        self.rx
            .borrow()
            .as_ref()
            .is_none_or(|v| v.role == Role::Leader)
    }

    /// `None` without a cluster.
    pub fn view(&self) -> Option<ClusterView> {
        self.rx.borrow().clone()
    }

    /// Wait until the role differs from `applied` (the role the tree was
    /// last set up for); at once when it already does; forever without a
    /// cluster.
    pub async fn differs_from(&mut self, applied: bool) {
        while self.is_leader() == applied {
            if self.rx.changed().await.is_err() {
                std::future::pending::<()>().await;
            }
        }
    }
}

/// Whether `child` runs on the leader only: what must not run twice
/// (a second Telegram poller gets 409 Conflict, a second scheduler runs
/// every job twice, Discord hands each event to every connection).
pub fn leader_only(child: &ChildName) -> bool {
    matches!(
        child,
        ChildName::Channel(ChannelKind::Telegram | ChannelKind::Discord) | ChildName::Cron(_)
    )
}
