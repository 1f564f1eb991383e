//! One timer for every job: each job actor's next fire is an entry in a
//! shared, time-ordered table, and one task sleeps until the earliest entry
//! and sends that job its `Fire`. A daemon with many thousands of pending
//! reminders so holds one tokio timer and one task, not one of each per job,
//! and arming a job at its start is a table insert.
//!
//! Written here rather than taken from tokio-util's `DelayQueue`: that queue
//! is owned and polled by one task, so every arm and disarm from a job
//! actor's handler would be a message to that task; here an actor arms
//! under a short lock and its [`Alarm`] guard disarms on drop, even when
//! the actor is killed.

use super::job::JobMsg;
use chrono::{DateTime, Utc};
use ractor::ActorRef;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use tokio::sync::Notify;
use tokio::time::Instant;

/// Where an entry sits: its due time, then the order it was armed in.
type Key = (Instant, u64);

struct Entry {
    actor: ActorRef<JobMsg>,
    scheduled: DateTime<Utc>,
    generation: u64,
}

#[derive(Default)]
struct Table {
    entries: BTreeMap<Key, Entry>,
    next_seq: u64,
    /// What the task sleeps until (`None`: until woken); an entry due
    /// later than that needs no wake-up.
    sleeping_until: Option<Instant>,
}

/// Due times are rounded up to this step, so that many jobs armed for one
/// time (reminders set for the same minute) share a due time and do not
/// each wake the task for a few microseconds' difference.
const STEP: std::time::Duration = std::time::Duration::from_millis(1);

fn round_up(due: Instant, origin: Instant) -> Instant {
    let since = due.saturating_duration_since(origin).as_nanos();
    let step = STEP.as_nanos();
    let steps = since.div_ceil(step);
    let nanos = u64::try_from(steps.saturating_mul(step)).unwrap_or(u64::MAX);
    origin + std::time::Duration::from_nanos(nanos)
}

#[derive(Default)]
struct Inner {
    table: Mutex<Table>,
    /// Woken when an entry earlier than every other one is armed.
    earlier: Arc<Notify>,
    /// The task, spawned by the first arming (inside the runtime).
    task: OnceLock<tokio::task::AbortHandle>,
    /// What due times are rounded from (the first arming).
    origin: OnceLock<Instant>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        if let Some(task) = self.task.get() {
            task.abort();
        }
    }
}

/// The shared table, held by cron's handle.
#[derive(Clone, Default)]
pub struct Alarms(Arc<Inner>);

/// An armed entry; dropping it disarms it (the job re-armed, was disabled
/// or its actor ended).
pub struct Alarm {
    alarms: std::sync::Weak<Inner>,
    key: Key,
}

impl Drop for Alarm {
    fn drop(&mut self) {
        if let Some(inner) = self.alarms.upgrade() {
            lock(&inner.table).entries.remove(&self.key);
        }
    }
}

fn lock(m: &Mutex<Table>) -> MutexGuard<'_, Table> {
    match m.lock() {
        Ok(g) => g,
        Err(poisoned) => poisoned.into_inner(),
    }
}

impl Alarms {
    /// Send `actor` `Fire { scheduled, generation }` after `delay`.
    pub fn arm(
        &self,
        actor: &ActorRef<JobMsg>,
        delay: std::time::Duration,
        scheduled: DateTime<Utc>,
        generation: u64,
    ) -> Alarm {
        let now = Instant::now();
        let due = round_up(now + delay, *self.0.origin.get_or_init(|| now));
        let entry = Entry {
            actor: actor.clone(),
            scheduled,
            generation,
        };
        let (key, earlier) = {
            let mut t = lock(&self.0.table);
            t.next_seq += 1;
            let key = (due, t.next_seq);
            t.entries.insert(key, entry);
            let earlier = t.sleeping_until.is_none_or(|until| due < until);
            if earlier {
                // Told once: the task sets its new target when it wakes.
                t.sleeping_until = Some(due);
            }
            (key, earlier)
        };
        self.0.task.get_or_init(|| {
            let inner = Arc::downgrade(&self.0);
            tokio::spawn(run(inner)).abort_handle()
        });
        if earlier {
            self.0.earlier.notify_one();
        }
        Alarm {
            alarms: Arc::downgrade(&self.0),
            key,
        }
    }

    /// Entries armed now (for tests).
    pub fn len(&self) -> usize {
        lock(&self.0.table).entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The one task: send what is due, sleep until the earliest entry or until
/// an earlier one is armed. It ends with the table.
async fn run(inner: std::sync::Weak<Inner>) {
    loop {
        let Some(alarms) = inner.upgrade() else {
            return;
        };
        let now = Instant::now();
        let next = {
            let mut t = lock(&alarms.table);
            while let Some(entry) = t.entries.first_entry() {
                if entry.key().0 > now {
                    break;
                }
                let Entry {
                    actor,
                    scheduled,
                    generation,
                } = entry.remove();
                // An actor that is gone ignores it; a stale generation too.
                let _ = actor.cast(JobMsg::Fire {
                    scheduled,
                    generation,
                });
            }
            let next = t.entries.first_key_value().map(|(k, _)| k.0);
            t.sleeping_until = next;
            next
        };
        let notify = Arc::clone(&alarms.earlier);
        // Not holding the table while asleep: the task ends when it goes.
        drop(alarms);
        let earlier = notify.notified();
        match next {
            Some(due) => {
                tokio::select! {
                    _ = tokio::time::sleep_until(due) => {}
                    _ = earlier => {}
                }
            }
            None => earlier.await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ractor::{Actor, ActorProcessingErr};
    use std::time::Duration;
    use tokio::sync::mpsc;

    /// Stands in for a job actor: reports each `Fire` it gets.
    struct Sink;

    impl Actor for Sink {
        type Msg = JobMsg;
        type State = mpsc::UnboundedSender<(DateTime<Utc>, u64)>;
        type Arguments = mpsc::UnboundedSender<(DateTime<Utc>, u64)>;

        async fn pre_start(
            &self,
            _myself: ActorRef<JobMsg>,
            tx: Self::Arguments,
        ) -> Result<Self::State, ActorProcessingErr> {
            Ok(tx)
        }

        async fn handle(
            &self,
            _myself: ActorRef<JobMsg>,
            msg: JobMsg,
            tx: &mut Self::State,
        ) -> Result<(), ActorProcessingErr> {
            if let JobMsg::Fire {
                scheduled,
                generation,
            } = msg
            {
                let _ = tx.send((scheduled, generation));
            }
            Ok(())
        }
    }

    #[tokio::test(start_paused = true)]
    async fn entries_fire_in_time_order_once_and_a_dropped_one_never() {
        let (tx, mut rx) = mpsc::unbounded_channel();
        let (actor, _) = Actor::spawn(None, Sink, tx).await.unwrap();
        let alarms = Alarms::default();
        let now = Utc::now();
        let t0 = Instant::now();
        let late = alarms.arm(&actor, Duration::from_secs(30), now, 3);
        let dropped = alarms.arm(&actor, Duration::from_secs(20), now, 2);
        // Armed last but due first: it wakes the sleeping task earlier.
        let early = alarms.arm(&actor, Duration::from_secs(10), now, 1);
        drop(dropped);
        assert_eq!(alarms.len(), 2);
        let first = rx.recv().await.unwrap();
        assert_eq!((first.1, (Instant::now() - t0).as_secs()), (1, 10));
        let second = rx.recv().await.unwrap();
        assert_eq!((second.1, (Instant::now() - t0).as_secs()), (3, 30));
        assert!(alarms.is_empty(), "a fired entry leaves the table");
        drop((early, late));
        tokio::time::sleep(Duration::from_secs(60)).await;
        assert!(
            rx.try_recv().is_err(),
            "nothing fires twice, the dropped one never"
        );
        actor.stop(None);
    }
}
