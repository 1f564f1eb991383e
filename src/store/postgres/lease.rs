//! The leader's lease: one row naming the holder, its term (epoch) and when
//! the lease ends by the database's clock, so no two instances' clocks are
//! compared. Taking over bumps the epoch; renewing keeps it.

use super::{PgError, PgStore};
use chrono::{DateTime, Utc};
use std::time::Duration;

/// A lease this instance holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lease {
    pub epoch: i64,
    pub expires_at: DateTime<Utc>,
}

/// The lease row as any instance reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeaseRow {
    pub holder: String,
    pub epoch: i64,
    pub expires_at: DateTime<Utc>,
    /// Whether it has not expired by the database's clock.
    pub live: bool,
}

/// An instance as the cluster last saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstanceSeen {
    pub name: String,
    pub role: String,
    pub seen_at: DateTime<Utc>,
    /// The instance's own clock minus the database's at its last heartbeat
    /// (plus the heartbeat's transit time), in milliseconds.
    pub skew_ms: i64,
}

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

impl PgStore {
    /// Take the lease when it is free or expired, or renew it when this
    /// instance holds it; `None` when another instance holds a live lease.
    /// The fence follows the answer.
    pub async fn acquire(&self, ttl: Duration) -> Result<Option<Lease>, PgError> {
        let c = self.client().await?;
        let row = c
            .query_opt(
                "INSERT INTO lease AS l (id, holder, token, epoch, expires_at)
                 VALUES (1, $1, $3, 1, now() + $2::BIGINT * interval '1 millisecond')
                 ON CONFLICT (id) DO UPDATE SET
                     holder = EXCLUDED.holder,
                     token = EXCLUDED.token,
                     epoch = CASE WHEN l.token = EXCLUDED.token AND l.expires_at > now()
                                  THEN l.epoch ELSE l.epoch + 1 END,
                     expires_at = EXCLUDED.expires_at
                 WHERE l.token = EXCLUDED.token OR l.expires_at <= now()
                 RETURNING epoch, expires_at",
                &[&self.fence.instance, &millis(ttl), &self.fence.token],
            )
            .await?;
        let lease = row.map(|r| Lease {
            epoch: r.get(0),
            expires_at: r.get(1),
        });
        self.fence.set(lease.map_or(0, |l| l.epoch));
        Ok(lease)
    }

    /// Give the lease up now (a clean stop), so a standby need not wait
    /// for it to expire.
    pub async fn release(&self) -> Result<(), PgError> {
        let epoch = self.fence.epoch();
        self.fence.set(0);
        let c = self.client().await?;
        c.execute(
            "UPDATE lease SET expires_at = now() WHERE id = 1 AND token = $1 AND epoch = $2",
            &[&self.fence.token, &epoch],
        )
        .await?;
        Ok(())
    }

    pub async fn lease_row(&self) -> Result<Option<LeaseRow>, PgError> {
        let c = self.client().await?;
        let row = c
            .query_opt(
                "SELECT holder, epoch, expires_at, expires_at > now() FROM lease WHERE id = 1",
                &[],
            )
            .await?;
        Ok(row.map(|r| LeaseRow {
            holder: r.get(0),
            epoch: r.get(1),
            expires_at: r.get(2),
            live: r.get(3),
        }))
    }

    /// The database's clock (what the lease's expiry is measured by).
    pub async fn db_now(&self) -> Result<DateTime<Utc>, PgError> {
        let c = self.client().await?;
        Ok(c.query_one("SELECT now()", &[]).await?.get(0))
    }

    /// Record that this instance is alive in `role`.
    pub async fn heartbeat(&self, role: &str) -> Result<(), PgError> {
        let c = self.client().await?;
        c.execute(
            "INSERT INTO instances (name, role, seen_at, local_at) VALUES ($1, $2, now(), $3)
             ON CONFLICT (name) DO UPDATE SET role = EXCLUDED.role, seen_at = EXCLUDED.seen_at,
                 local_at = EXCLUDED.local_at",
            &[&self.fence.instance, &role, &Utc::now()],
        )
        .await?;
        Ok(())
    }

    /// Instances seen within `within`, by name.
    pub async fn instances(&self, within: Duration) -> Result<Vec<InstanceSeen>, PgError> {
        let c = self.client().await?;
        let rows = c
            .query(
                "SELECT name, role, seen_at, local_at FROM instances
                 WHERE seen_at > now() - $1::BIGINT * interval '1 millisecond' ORDER BY name",
                &[&millis(within)],
            )
            .await?;
        Ok(rows
            .iter()
            .map(|r| {
                let seen_at: DateTime<Utc> = r.get(2);
                let local_at: DateTime<Utc> = r.get(3);
                InstanceSeen {
                    name: r.get(0),
                    role: r.get(1),
                    seen_at,
                    skew_ms: (local_at - seen_at).num_milliseconds(),
                }
            })
            .collect())
    }
}
