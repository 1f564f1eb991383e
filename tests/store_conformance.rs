//! The store interface's behaviour, the same on SQLite and on PostgreSQL;
//! and what only a cluster's store does: versioned migrations, and fire
//! claims fenced by the leader's lease.

mod store_suite;
mod support;

use std::sync::Arc;
use std::time::Duration;
use store_suite as suite;
use support::postgres::Postgres;
use zeroclaw::store::postgres::PgStore;
use zeroclaw::store::sqlite::{Db, SqliteStore};
use zeroclaw::store::{ChannelStore, Claim, RunStore, Store, StoreError};

fn sqlite() -> (tempfile::TempDir, Arc<dyn Store>) {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(&dir.path().join("state.db")).unwrap();
    (dir, Arc::new(SqliteStore::new(db)))
}

/// A migrated store that holds the lease (scheduled runs need it).
async fn postgres(pg: &Postgres, db: &str) -> PgStore {
    let url = pg.database(db);
    let store = PgStore::open(&url, "a".into()).await.unwrap();
    assert!(
        store
            .acquire(Duration::from_secs(60))
            .await
            .unwrap()
            .is_some()
    );
    store
}

macro_rules! both {
    ($name:ident) => {
        mod $name {
            use super::*;
            #[tokio::test]
            async fn sqlite() {
                let (_dir, store) = super::sqlite();
                suite::$name(store).await;
            }
            #[tokio::test]
            async fn postgres() {
                let pg = Postgres::start();
                let store = super::postgres(&pg, "zc").await;
                suite::$name(Arc::new(store)).await;
            }
        }
    };
}

both!(runs_and_retention);
both!(anchors_overrides_missed_skipped);
both!(runtime_jobs);
both!(memory_and_channels);
both!(open_jobs_at_once);

#[tokio::test]
async fn migrations_run_once_even_when_instances_start_together() {
    let pg = Postgres::start();
    let url = pg.database("zc");
    let (a, b) = tokio::join!(
        PgStore::open(&url, "a".into()),
        PgStore::open(&url, "b".into())
    );
    assert_eq!(a.unwrap().migrate().await.unwrap(), 2);
    assert_eq!(b.unwrap().migrate().await.unwrap(), 2);
}

#[tokio::test]
async fn a_fire_time_is_claimed_once_and_only_by_the_lease_holder() {
    let pg = Postgres::start();
    let url = pg.database("zc");
    let ttl = Duration::from_secs(3);
    let a = PgStore::open(&url, "a".into()).await.unwrap();
    let b = PgStore::open(&url, "b".into()).await.unwrap();
    let lease = a.acquire(ttl).await.unwrap().expect("a leads");
    assert!(
        b.acquire(ttl).await.unwrap().is_none(),
        "b waits while a's lease lives"
    );
    let at = chrono::Utc::now();
    let (id, name) = (String::from("j"), String::from("job"));
    a.begin_run(id.clone(), name.clone(), Some(at), at)
        .await
        .unwrap();
    let again = a.begin_run(id.clone(), name.clone(), Some(at), at).await;
    assert!(
        matches!(again, Err(StoreError::NotClaimed { .. })),
        "{again:?}"
    );
    // b, not leading, cannot claim a new fire time.
    let later = at + chrono::Duration::seconds(1);
    let by_b = b
        .begin_run(id.clone(), name.clone(), Some(later), later)
        .await;
    assert!(
        matches!(by_b, Err(StoreError::NotClaimed { .. })),
        "{by_b:?}"
    );
    // a stops renewing (paused): b takes over in a new term once it expires.
    let taken = take_over(&b, ttl).await;
    assert!(taken.epoch > lease.epoch);
    // a wakes still believing it leads: its claim is fenced off, b's is not.
    let stale = a
        .begin_run(id.clone(), name.clone(), Some(later), later)
        .await;
    assert!(
        matches!(stale, Err(StoreError::NotClaimed { .. })),
        "{stale:?}"
    );
    a.record_skipped(id.clone(), name.clone(), later, "n".into(), later, 10)
        .await
        .expect_err("a fenced-off skip writes nothing");
    b.begin_run(id.clone(), name.clone(), Some(later), later)
        .await
        .unwrap();
    let runs = b.runs(Some(id), 10).await.unwrap();
    assert_eq!(runs.len(), 2, "one run per fire time: {runs:?}");
    // a learns it lost the lease when it renews.
    assert!(a.acquire(ttl).await.unwrap().is_none());
    assert_eq!(a.fence().epoch(), 0);
}

/// Until `store` holds the lease (the holder before it stopped renewing).
async fn take_over(store: &PgStore, ttl: Duration) -> zeroclaw::store::postgres::Lease {
    let deadline = tokio::time::Instant::now() + ttl * 3;
    loop {
        if let Some(l) = store.acquire(ttl).await.unwrap() {
            return l;
        }
        assert!(tokio::time::Instant::now() < deadline, "never took over");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn a_polled_update_is_answered_in_one_term_only() {
    let pg = Postgres::start();
    let url = pg.database("zc");
    let ttl = Duration::from_secs(3);
    let a = PgStore::open(&url, "a".into()).await.unwrap();
    let b = PgStore::open(&url, "b".into()).await.unwrap();
    let tg = || String::from("telegram");
    assert_eq!(b.claim_update(tg(), 1).await.unwrap(), Claim::NotLeading);
    a.acquire(ttl).await.unwrap().expect("a leads");
    assert_eq!(b.claim_update(tg(), 1).await.unwrap(), Claim::NotLeading);
    assert_eq!(a.claim_update(tg(), 1).await.unwrap(), Claim::Mine);
    // The same term again (a restart of the channel before it answered).
    assert_eq!(a.claim_update(tg(), 1).await.unwrap(), Claim::Mine);
    assert_eq!(a.claim_update(tg(), 2).await.unwrap(), Claim::Mine);
    assert!(a.deliver_update(tg(), 2).await.unwrap());
    assert_eq!(a.claim_update(tg(), 2).await.unwrap(), Claim::Taken);

    // a is paused with update 1 claimed and not answered; b takes over.
    take_over(&b, ttl).await;
    assert!(
        !a.deliver_update(tg(), 1).await.unwrap(),
        "the paused leader must not send its answer"
    );
    assert_eq!(a.claim_update(tg(), 3).await.unwrap(), Claim::NotLeading);
    assert_eq!(
        b.claim_update(tg(), 1).await.unwrap(),
        Claim::Mine,
        "an update the old term never answered is the new term's"
    );
    assert!(b.deliver_update(tg(), 1).await.unwrap());
    assert_eq!(
        b.claim_update(tg(), 2).await.unwrap(),
        Claim::Taken,
        "answered by the old term"
    );
    assert!(!b.deliver_update(tg(), 9).await.unwrap(), "never claimed");
}

#[tokio::test]
async fn a_single_instance_always_answers_its_polled_updates() {
    let (_dir, store) = sqlite();
    for _ in 0..2 {
        assert_eq!(
            store.claim_update("telegram".into(), 1).await.unwrap(),
            Claim::Mine
        );
        assert!(store.deliver_update("telegram".into(), 1).await.unwrap());
    }
}

#[tokio::test]
async fn sslmode_prefer_falls_back_and_require_refuses_a_server_without_tls() {
    let pg = Postgres::start();
    let plain = pg.database("zc");
    let prefer = plain.replace("sslmode=disable", "sslmode=prefer");
    PgStore::open(&prefer, "a".into()).await.unwrap();
    let require = plain.replace("sslmode=disable", "sslmode=require");
    let refused = PgStore::open(&require, "a".into()).await;
    let err = refused.err().map(|e| e.to_string()).unwrap_or_default();
    assert!(err.to_lowercase().contains("tls"), "{err}");
}

#[tokio::test]
async fn two_processes_given_one_instance_name_never_both_lead() {
    let pg = Postgres::start();
    let url = pg.database("zc");
    let ttl = Duration::from_secs(30);
    let first = PgStore::open(&url, "same".into()).await.unwrap();
    let second = PgStore::open(&url, "same".into()).await.unwrap();
    assert!(first.acquire(ttl).await.unwrap().is_some());
    assert!(
        second.acquire(ttl).await.unwrap().is_none(),
        "the lease is the first process's"
    );
    assert!(
        first.acquire(ttl).await.unwrap().is_some(),
        "the holder still renews"
    );
}
