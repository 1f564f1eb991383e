//! What cron keeps beside the job actors so that many of them start and are
//! listed cheaply: each job's opening read for all jobs in one store call
//! before the tree starts ([`Openings`]), and the live state each job actor
//! publishes after every message it handles ([`LiveBoard`]), which
//! `cron list` reads instead of asking every actor in turn.

use super::job::JobLive;
use crate::store::Opened;
use ractor::ActorId;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use tokio::sync::watch;

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    match m.lock() {
        Ok(g) => g,
        Err(poisoned) => poisoned.into_inner(),
    }
}

/// The openings of the jobs of the daemon's first start, by job id: each
/// is taken once, by that job's first actor; a later start of the job (a
/// restart) asks the store again. They are read while the tree starts, so
/// an actor whose opening is still being read waits for it.
#[derive(Clone)]
pub struct Openings {
    map: Arc<Mutex<HashMap<String, Opened>>>,
    /// `false` while a reading is under way.
    ready: Arc<watch::Sender<bool>>,
}

impl Default for Openings {
    fn default() -> Self {
        Self {
            map: Arc::default(),
            ready: Arc::new(watch::Sender::new(true)),
        }
    }
}

/// A reading of openings under way: actors wait for it until it is filled
/// or dropped (a failed reading: they open themselves).
pub struct Filling(Openings);

impl Filling {
    pub fn fill(self, opened: impl IntoIterator<Item = (String, Opened)>) {
        lock(&self.0.map).extend(opened);
    }
}

impl Drop for Filling {
    fn drop(&mut self) {
        self.0.ready.send_replace(true);
    }
}

impl Openings {
    /// Actors wait from now until the returned reading ends.
    pub fn reading(&self) -> Filling {
        self.ready.send_replace(false);
        Filling(self.clone())
    }

    pub async fn take(&self, id: &str) -> Option<Opened> {
        let mut ready = self.ready.subscribe();
        // Never closed: `self` holds the sender.
        let _ = ready.wait_for(|r| *r).await;
        let mut m = lock(&self.map);
        let opened = m.remove(id);
        if m.is_empty() && m.capacity() > 0 {
            // The last one: give the table's memory back.
            *m = HashMap::new();
        }
        opened
    }

    /// Drop what no actor took (a job removed before its start): only the
    /// first start may use an opening.
    pub fn clear(&self) {
        *lock(&self.map) = HashMap::new();
    }
}

/// Each job actor's [`JobLive`] as it was after the last message it handled,
/// by job name, with the id of the actor that wrote it: an entry counts only
/// while that actor is the job's registered one.
#[derive(Clone, Default)]
pub struct LiveBoard(Arc<Mutex<HashMap<String, (ActorId, JobLive)>>>);

impl LiveBoard {
    /// Room for `n` more jobs at once (a start with many), instead of
    /// growing step by step while they start.
    pub fn reserve(&self, n: usize) {
        lock(&self.0).reserve(n);
    }

    pub fn publish(&self, job: &str, actor: ActorId, live: JobLive) {
        let mut m = lock(&self.0);
        match m.get_mut(job) {
            Some(entry) => *entry = (actor, live),
            None => {
                m.insert(job.to_string(), (actor, live));
            }
        }
    }

    /// The actor `actor` stops: its entry goes (a newer actor's stays).
    pub fn withdraw(&self, job: &str, actor: ActorId) {
        let mut m = lock(&self.0);
        if m.get(job).is_some_and(|(a, _)| *a == actor) {
            m.remove(job);
        }
    }

    /// What `actor` published for `job`, when no run is going: the answer
    /// its `Status` would give. A run in progress changes by messages from
    /// its task (`RunBegun`, `RunDone`) that a caller may have caused, so
    /// then the actor is asked, in its message order.
    pub fn idle(&self, job: &str, actor: ActorId) -> Option<JobLive> {
        let m = lock(&self.0);
        let (a, live) = m.get(job)?;
        (*a == actor && live.running.is_none()).then(|| live.clone())
    }
}
