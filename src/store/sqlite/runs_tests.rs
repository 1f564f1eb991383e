//! Unit tests of the synchronous store, without a runtime.

use super::*;
use crate::store::sqlite::Db as Store;
use chrono::TimeZone;

fn t(s: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, s).single().unwrap()
}

#[test]
fn running_becomes_interrupted_on_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state/cron.sqlite3");
    let id = {
        let s = Store::open(&path).unwrap();
        s.begin_run("abcd1234", "备份提醒", Some(t(0)), t(1))
            .unwrap()
    };
    let s = Store::open(&path).unwrap();
    assert_eq!(s.run(id).unwrap().unwrap().status, RunStatus::Running);
    assert_eq!(s.recover_interrupted(t(5)).unwrap(), 1);
    let r = s.run(id).unwrap().unwrap();
    assert_eq!(r.status, RunStatus::Interrupted);
    assert_eq!(r.finished_at, Some(t(5)));
    assert_eq!(r.job_name, "备份提醒");
    assert_eq!(s.integrity_check().unwrap(), "ok");
    let mode: String = s
        .conn
        .pragma_query_value(None, "journal_mode", |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
}

#[test]
fn finish_truncates_output_and_counts_failures() {
    let dir = tempfile::tempdir().unwrap();
    let s = Store::open(&dir.path().join("c.db")).unwrap();
    let a = s.begin_run("j", "job", None, t(0)).unwrap();
    s.finish_run(a, t(1), RunStatus::Ok, Some(&"é".repeat(100)), None, 11)
        .unwrap();
    let r = s.run(a).unwrap().unwrap();
    let out = r.output.unwrap();
    assert!(out.starts_with("ééééé\n… [truncated 190 bytes]"), "{out}");
    for st in [RunStatus::Error, RunStatus::Timeout] {
        let id = s.begin_run("j", "job", None, t(2)).unwrap();
        s.finish_run(id, t(3), st, None, Some("boom"), 100).unwrap();
    }
    s.record("j", "job", t(4), RunStatus::Skipped, "busy", t(4))
        .unwrap();
    assert_eq!(s.failures_in_a_row("j").unwrap(), 2);
    assert_eq!(
        s.last_finished("j").unwrap().unwrap().status,
        RunStatus::Skipped
    );
    let runs = s.runs(Some("j"), 10).unwrap();
    assert_eq!(runs.len(), 4);
    assert!(runs[0].id > runs[1].id);
    assert_eq!(s.runs(Some("other"), 10).unwrap().len(), 0);
}

#[test]
fn retention_keeps_newest() {
    let dir = tempfile::tempdir().unwrap();
    let s = Store::open(&dir.path().join("c.db")).unwrap();
    for i in 0..10 {
        s.record("j", "job", t(i), RunStatus::Skipped, "", t(i))
            .unwrap();
        s.record("k", "other", t(i), RunStatus::Skipped, "", t(i))
            .unwrap();
    }
    assert_eq!(s.prune("j", 3).unwrap(), 7);
    let left = s.runs(Some("j"), 100).unwrap();
    assert_eq!(left.len(), 3);
    assert_eq!(left[2].scheduled_at, Some(t(7)));
    assert_eq!(s.runs(Some("k"), 100).unwrap().len(), 10);
}

#[test]
fn overrides_persist() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.db");
    {
        let s = Store::open(&path).unwrap();
        s.set_override("j", "job", Some(false), t(0)).unwrap();
        s.set_override("k", "job2", Some(true), t(0)).unwrap();
        s.set_override("k", "job2", None, t(0)).unwrap();
    }
    let s = Store::open_read_only(&path).unwrap();
    assert_eq!(s.override_for("j").unwrap(), Some(false));
    assert_eq!(s.override_for("k").unwrap(), None);
    assert_eq!(s.overrides().unwrap().len(), 1);
    assert!(s.set_override("j", "job", Some(true), t(0)).is_err());
}

#[test]
fn missed_records_and_anchor() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = Store::open(&dir.path().join("c.db")).unwrap();
    assert_eq!(s.anchor("j").unwrap(), None);
    s.set_anchor("j", "job", t(1)).unwrap();
    s.record_missed("j", "job", &[t(2), t(3)], "down", t(9))
        .unwrap();
    assert_eq!(s.anchor("j").unwrap(), Some(t(3)));
    // Never back: a late begin of an earlier run keeps the anchor.
    s.set_anchor("j", "job", t(2)).unwrap();
    assert_eq!(s.anchor("j").unwrap(), Some(t(3)));
    let runs = s.runs(Some("j"), 10).unwrap();
    assert_eq!(runs.len(), 2);
    assert!(runs.iter().all(|r| r.status == RunStatus::Missed));
    assert_eq!(s.integrity_check().unwrap(), "ok");
}

#[test]
fn atomically_rolls_back_on_error() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = Store::open(&dir.path().join("c.db")).unwrap();
    let r: Result<(), _> = s.atomically(|s| {
        s.record("j", "job", t(0), RunStatus::Skipped, "", t(0))?;
        Err(StoreError::Task("boom".into()))
    });
    assert!(r.is_err());
    assert!(s.runs(Some("j"), 10).unwrap().is_empty());
    s.atomically(|s| s.record("j", "job", t(0), RunStatus::Skipped, "", t(0)))
        .unwrap();
    assert_eq!(s.runs(Some("j"), 10).unwrap().len(), 1);
}

#[test]
fn missing_database_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let err = Store::open_read_only(&dir.path().join("nope.db"))
        .err()
        .unwrap();
    assert!(err.to_string().contains("does not exist"));
}

#[test]
fn a_stopped_jobs_running_rows_become_interrupted_and_no_other_jobs() {
    let dir = tempfile::tempdir().unwrap();
    let s = Store::open(&dir.path().join("c.db")).unwrap();
    let mine = s.begin_run("a", "job-a", Some(t(0)), t(0)).unwrap();
    let other = s.begin_run("b", "job-b", Some(t(0)), t(0)).unwrap();
    assert_eq!(s.interrupt_running("a", t(2), "stopped").unwrap(), 1);
    let r = s.run(mine).unwrap().unwrap();
    assert_eq!(r.status, RunStatus::Interrupted);
    assert_eq!(r.finished_at, Some(t(2)));
    assert_eq!(r.error.as_deref(), Some("stopped"));
    assert_eq!(s.run(other).unwrap().unwrap().status, RunStatus::Running);
    assert_eq!(s.interrupt_running("a", t(3), "again").unwrap(), 0);
}
