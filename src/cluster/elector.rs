//! Holding the lease: try to take it (a follower) or renew it (the leader)
//! every third of its time to live, and publish the role.
//!
//! A leader that cannot renew steps down once two thirds of the lease have
//! passed since its last renewal began, by its own monotonic clock: the
//! remaining third is for its leader-only children to stop before the lease
//! can expire in the database. The database's clock alone decides expiry,
//! so no two machines' clocks are compared. Fire claims are fenced by the
//! epoch besides ([`crate::store::postgres::Fence`]), so a leader that was
//! paused past its lease cannot run a fire time even before it notices.

use super::{ClusterView, Leadership, Role};
use crate::store::StoreError;
use crate::store::postgres::{Lease, PgStore};
use chrono::Utc;
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio::time::Instant;

/// The running elector: the role it publishes, and the store it holds the
/// lease in (to release it at a clean stop).
pub struct Elector {
    pub leadership: Leadership,
    store: PgStore,
    task: JoinHandle<()>,
}

struct State {
    store: PgStore,
    ttl: Duration,
    tx: watch::Sender<Option<ClusterView>>,
    /// When the last successful renewal was sent (leader only).
    renewed: Option<Instant>,
    epoch: i64,
    /// The last attempt got no answer: retry sooner.
    failing: bool,
    /// The schema is migrated and this instance's stale runs are closed
    /// ([`join`]); until then it does not try to lead.
    joined: bool,
}

impl Elector {
    /// One attempt now (so a lone instance starts as the leader with its
    /// whole tree), then the loop in the background.
    pub async fn start(store: PgStore, ttl: Duration, joined: bool) -> Self {
        let view = ClusterView {
            role: Role::Follower,
            instance: store.instance().to_string(),
            leader: None,
            epoch: 0,
            lease_expires: None,
        };
        let (tx, leadership) = Leadership::channel(view);
        let mut state = State {
            store: store.clone(),
            ttl,
            tx,
            renewed: None,
            epoch: 0,
            failing: false,
            joined,
        };
        state.attempt().await;
        let task = tokio::spawn(async move { state.run().await });
        Self {
            leadership,
            store,
            task,
        }
    }

    /// A clean stop: no more renewals, and the lease is given up so a
    /// follower takes over at once.
    pub async fn leave(self) {
        self.task.abort();
        let was_leader = self.leadership.is_leader();
        if was_leader {
            match tokio::time::timeout(Duration::from_secs(2), self.store.release()).await {
                Ok(Ok(())) => tracing::info!("cluster: lease released"),
                Ok(Err(e)) => tracing::warn!(error = %e, "cluster: cannot release the lease"),
                Err(_) => tracing::warn!("cluster: releasing the lease timed out"),
            }
        }
    }
}

/// Migrate the schema and mark this instance's own runs left `running` by
/// its previous process: what must happen before this instance may lead.
pub async fn join(store: &PgStore) -> Result<(), StoreError> {
    store.migrate().await.map_err(StoreError::from)?;
    let n = crate::store::RunStore::recover_interrupted(store, chrono::Utc::now()).await?;
    if n > 0 {
        tracing::warn!(
            runs = n,
            "cron runs interrupted by this instance's previous end marked `interrupted`"
        );
    }
    Ok(())
}

impl State {
    fn every(&self) -> Duration {
        self.ttl / 3
    }

    /// Two thirds of the lease after the last renewal began.
    fn step_down_at(&self) -> Option<Instant> {
        self.renewed.map(|t| t + self.ttl - self.every())
    }

    async fn run(&mut self) {
        loop {
            let pause = match self.failing {
                false => self.every(),
                true => self.every() / 2,
            };
            let mut next = Instant::now() + pause;
            if let Some(at) = self.step_down_at() {
                next = next.min(at);
            }
            tokio::time::sleep_until(next).await;
            if self.step_down_at().is_some_and(|at| Instant::now() >= at) {
                self.step_down("the lease could not be renewed in time");
            }
            self.attempt().await;
        }
    }

    async fn attempt(&mut self) {
        if !self.joined {
            match tokio::time::timeout(self.every(), join(&self.store)).await {
                Ok(Ok(())) => {
                    tracing::info!("cluster: the database answers; joining the election");
                    self.joined = true;
                }
                Ok(Err(e)) => {
                    tracing::warn!(error = %e, "cluster: cannot reach the database; retrying");
                    self.failing = true;
                    return self.unreachable();
                }
                Err(_) => {
                    tracing::warn!("cluster: the database did not answer in time; retrying");
                    self.failing = true;
                    return self.unreachable();
                }
            }
        }
        let sent = Instant::now();
        let mut limit = self.every();
        if let Some(at) = self.step_down_at() {
            limit = limit.min(at.saturating_duration_since(sent));
        }
        self.failing = true;
        let role = match tokio::time::timeout(limit, self.store.acquire(self.ttl)).await {
            Ok(Ok(Some(lease))) => {
                self.lead(lease, sent).await;
                "leader"
            }
            Ok(Ok(None)) => {
                if self.renewed.is_some() {
                    self.step_down("another instance holds the lease");
                }
                self.follow().await;
                "follower"
            }
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "cluster: cannot reach the lease");
                return self.unreachable();
            }
            Err(_) => {
                tracing::warn!("cluster: renewing the lease timed out");
                return self.unreachable();
            }
        };
        self.failing = false;
        let beat = self.store.heartbeat(role);
        let _ = tokio::time::timeout(self.every(), beat).await;
    }

    async fn lead(&mut self, lease: Lease, sent: Instant) {
        let new_term = self.renewed.is_none() || lease.epoch != self.epoch;
        self.renewed = Some(sent);
        self.epoch = lease.epoch;
        if new_term {
            tracing::info!(epoch = lease.epoch, "cluster: this instance leads");
            match self
                .store
                .interrupt_older_terms(lease.epoch, Utc::now())
                .await
            {
                Ok(0) => {}
                Ok(n) => tracing::warn!(
                    runs = n,
                    "cluster: runs of the previous leader marked interrupted"
                ),
                Err(e) => {
                    tracing::warn!(error = %e, "cluster: cannot close the previous leader's runs")
                }
            }
        }
        self.publish(ClusterView {
            role: Role::Leader,
            instance: self.store.instance().to_string(),
            leader: Some(self.store.instance().to_string()),
            epoch: lease.epoch,
            lease_expires: Some(lease.expires_at),
        });
    }

    async fn follow(&mut self) {
        let row = self.store.lease_row().await.ok().flatten();
        let live = row.filter(|r| r.live);
        self.publish(ClusterView {
            role: Role::Follower,
            instance: self.store.instance().to_string(),
            leader: live.as_ref().map(|r| r.holder.clone()),
            epoch: live.as_ref().map_or(0, |r| r.epoch),
            lease_expires: live.map(|r| r.expires_at),
        });
    }

    /// The database did not answer: a leader keeps leading until its
    /// step-down time (checked by the loop), a follower stays one.
    fn unreachable(&mut self) {
        if self.renewed.is_none() {
            let mut view = self.current();
            view.leader = None;
            self.publish(view);
        }
    }

    fn step_down(&mut self, why: &str) {
        self.store.fence().set(0);
        self.renewed = None;
        tracing::warn!(
            reason = why,
            "cluster: stepping down; stopping the leader-only children"
        );
        let mut view = self.current();
        view.role = Role::Follower;
        view.leader = None;
        self.publish(view);
    }

    fn current(&self) -> ClusterView {
        self.tx.borrow().clone().unwrap_or(ClusterView {
            role: Role::Follower,
            instance: self.store.instance().to_string(),
            leader: None,
            epoch: 0,
            lease_expires: None,
        })
    }

    fn publish(&self, view: ClusterView) {
        self.tx.send_if_modified(|v| {
            let changed = v.as_ref() != Some(&view);
            *v = Some(view);
            changed
        });
    }
}
