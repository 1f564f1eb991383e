//! Unit tests of the tables added for runtime jobs, memory and channels,
//! and of the async store over them.

use super::Db;
use crate::store::{AddJob, MemoryTurn, RuntimeJobRow};
use chrono::Utc;

fn row(id: &str, name: &str, owner: Option<&str>) -> RuntimeJobRow {
    RuntimeJobRow {
        id: id.into(),
        name: name.into(),
        owner: owner.map(Into::into),
        spec: "{}".into(),
        created_at: Utc::now(),
        done_at: None,
    }
}

#[test]
fn runtime_jobs_refuse_taken_names_and_over_quota_owners() {
    let dir = tempfile::tempdir().unwrap();
    let mut db = Db::open(&dir.path().join("s.db")).unwrap();
    assert_eq!(
        db.add_job(&row("a1", "备份", None), None).unwrap(),
        AddJob::Added
    );
    assert_eq!(
        db.add_job(&row("a2", "备份", None), None).unwrap(),
        AddJob::NameTaken
    );
    assert_eq!(
        db.add_job(&row("a1", "另一个", None), None).unwrap(),
        AddJob::IdTaken
    );
    let chat = Some("telegram:42");
    assert_eq!(
        db.add_job(&row("b1", "r1", chat), Some(2)).unwrap(),
        AddJob::Added
    );
    assert_eq!(
        db.add_job(&row("b2", "r2", chat), Some(2)).unwrap(),
        AddJob::Added
    );
    assert_eq!(
        db.add_job(&row("b3", "r3", chat), Some(2)).unwrap(),
        AddJob::OverQuota
    );
    // A done one-shot no longer counts against its chat.
    db.mark_done("b1", Utc::now()).unwrap();
    assert_eq!(
        db.add_job(&row("b3", "r3", chat), Some(2)).unwrap(),
        AddJob::Added
    );
    let names: Vec<_> = db
        .runtime_jobs()
        .unwrap()
        .into_iter()
        .map(|r| r.name)
        .collect();
    assert_eq!(names.len(), 4, "{names:?}");
    assert!(db.remove_job("a1").unwrap());
    assert!(!db.remove_job("a1").unwrap());
    assert_eq!(db.runtime_jobs().unwrap().len(), 3);
}

#[test]
fn memory_is_appended_per_session_bounded_and_listed() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.db");
    let turn = |u: &str, a: &str| MemoryTurn {
        user: u.into(),
        assistant: a.into(),
    };
    {
        let mut db = Db::open(&path).unwrap();
        db.append_memory("telegram:1", &turn("old", "gone"), 1)
            .unwrap();
        db.append_memory("telegram:1", &turn("hi", "hello"), 1)
            .unwrap();
        assert_eq!(db.load_memory("telegram:1").unwrap(), [turn("hi", "hello")]);
        db.append_memory("telegram:1", &turn("二", "two"), 2)
            .unwrap();
        db.append_memory("webhook:x", &turn("a", "b"), 20).unwrap();
        // A turn too long for any bound leaves the session empty.
        db.append_memory("webhook:y", &turn("a", "b"), 0).unwrap();
        assert!(db.load_memory("webhook:y").unwrap().is_empty());
    }
    let db = Db::open_read_only(&path).unwrap();
    assert_eq!(db.load_memory("telegram:1").unwrap()[1], turn("二", "two"));
    let list = db.memory_sessions().unwrap();
    assert_eq!(list.len(), 2);
    assert_eq!((list[0].turns, list[0].chars), (2, 11));
    drop(db);
    let db = Db::open(&path).unwrap();
    assert!(db.clear_memory("telegram:1").unwrap());
    assert!(!db.clear_memory("telegram:1").unwrap());
    assert!(db.load_memory("telegram:1").unwrap().is_empty());
}

#[test]
fn channel_offsets_and_event_ids_are_kept_bounded() {
    let dir = tempfile::tempdir().unwrap();
    let mut db = Db::open(&dir.path().join("s.db")).unwrap();
    assert_eq!(db.channel_offset("telegram:abc").unwrap(), None);
    db.set_channel_offset("telegram:abc", 7).unwrap();
    db.set_channel_offset("telegram:abc", 9).unwrap();
    assert_eq!(db.channel_offset("telegram:abc").unwrap(), Some(9));
    assert!(db.remember_event("slack", "e1", 2).unwrap());
    assert!(!db.remember_event("slack", "e1", 2).unwrap());
    assert!(db.remember_event("slack", "e2", 2).unwrap());
    assert!(db.remember_event("slack", "e3", 2).unwrap());
    // e1 fell out of the window of 2.
    assert!(db.remember_event("slack", "e1", 2).unwrap());
}

#[tokio::test]
async fn the_async_store_serves_through_the_interface() {
    let dir = tempfile::tempdir().unwrap();
    let store = super::in_dir(dir.path());
    let now = Utc::now();
    let run = store
        .begin_run("j".into(), "job".into(), Some(now), now)
        .await
        .unwrap();
    assert_eq!(store.runs(Some("j".into()), 10).await.unwrap()[0].id, run);
    assert_eq!(
        store.add_job(row("x", "x", None), None).await.unwrap(),
        AddJob::Added
    );
    assert_eq!(store.runtime_jobs().await.unwrap().len(), 1);
    assert!(store.load_memory("s".into()).await.unwrap().is_empty());
}
