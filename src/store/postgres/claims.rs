//! Claims of polled updates on PostgreSQL (see [`crate::store::Claim`]):
//! an update is claimed in the leader's term before it is answered and
//! marked delivered right before its answer is sent, both only while the
//! lease row still names this process in that term and has not expired.

use super::{PgError, PgStore};
use crate::store::Claim;

/// Claims older than this are forgotten: Telegram keeps an unconfirmed
/// update for 24 hours, so none older can come back.
const KEEP: &str = "2 days";

impl PgStore {
    pub(super) async fn claim_update_tx(&self, channel: &str, id: i64) -> Result<Claim, PgError> {
        let epoch = self.fence.epoch();
        if epoch == 0 {
            return Ok(Claim::NotLeading);
        }
        let c = self.client().await?;
        // New, or taken over from a term that ended before its answer went
        // out; a claim of this same term (an earlier start of the channel
        // that did not get to answer) is this term's to answer too.
        let claimed = c
            .execute(
                "INSERT INTO update_claims AS u (channel, update_id, epoch, instance)
                 SELECT $1, $2, $3, $4 FROM lease
                 WHERE id = 1 AND token = $5 AND epoch = $3 AND expires_at > now()
                 ON CONFLICT (channel, update_id) DO UPDATE
                   SET epoch = EXCLUDED.epoch, instance = EXCLUDED.instance, claimed_at = now()
                   WHERE NOT u.delivered AND u.epoch <= EXCLUDED.epoch",
                &[
                    &channel,
                    &id,
                    &epoch,
                    &self.fence.instance,
                    &self.fence.token,
                ],
            )
            .await?;
        if claimed == 1 {
            if id % 100 == 0 {
                c.execute(
                    &format!(
                        "DELETE FROM update_claims WHERE claimed_at < now() - interval '{KEEP}'"
                    ),
                    &[],
                )
                .await?;
            }
            return Ok(Claim::Mine);
        }
        Ok(if self.leads(&c, epoch).await? {
            Claim::Taken
        } else {
            Claim::NotLeading
        })
    }

    pub(super) async fn deliver_update_tx(&self, channel: &str, id: i64) -> Result<bool, PgError> {
        let epoch = self.fence.epoch();
        if epoch == 0 {
            return Ok(false);
        }
        let c = self.client().await?;
        let n = c
            .execute(
                "UPDATE update_claims u SET delivered = true FROM lease l
                 WHERE u.channel = $1 AND u.update_id = $2 AND u.epoch = $3
                   AND l.id = 1 AND l.token = $4 AND l.epoch = $3 AND l.expires_at > now()",
                &[&channel, &id, &epoch, &self.fence.token],
            )
            .await?;
        Ok(n == 1)
    }

    /// Whether the lease row still names this process in term `epoch`.
    async fn leads(&self, c: &deadpool_postgres::Object, epoch: i64) -> Result<bool, PgError> {
        Ok(c.query_opt(
            "SELECT 1 FROM lease WHERE id = 1 AND token = $1 AND epoch = $2
                 AND expires_at > now()",
            &[&self.fence.token, &epoch],
        )
        .await?
        .is_some())
    }
}
