//! What every implementation of the store interface must do, run against
//! SQLite and PostgreSQL alike (`tests/store_conformance.rs`).

use chrono::{DateTime, Duration as Span, TimeZone, Utc};
use std::sync::Arc;
use zeroclaw::cron::RunStatus;
use zeroclaw::store::{AddJob, Finish, JobOpening, MemoryTurn, RuntimeJobRow, Store};

fn t(s: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(1_900_000_000 + s, 0)
        .single()
        .unwrap_or_default()
}

fn finish(run_id: i64, job: &str, status: RunStatus, keep: usize) -> Finish {
    Finish {
        run_id,
        job_id: job.into(),
        at: t(100),
        status,
        output: Some("x".repeat(50)),
        error: None,
        max_output: 10,
        keep,
    }
}

pub async fn runs_and_retention(store: Arc<dyn Store>) {
    store.recover_interrupted(t(0)).await.unwrap();
    let first = store
        .begin_run("j".into(), "job".into(), Some(t(1)), t(1))
        .await
        .unwrap();
    let rec = store
        .finish_run(finish(first, "j", RunStatus::Ok, 3))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(rec.status, RunStatus::Ok);
    assert_eq!(rec.scheduled_at, Some(t(1)));
    assert!(
        rec.output.as_deref().unwrap_or_default().len() <= 40,
        "output is cut"
    );
    for s in 2..6 {
        let id = store
            .begin_run("j".into(), "job".into(), Some(t(s)), t(s))
            .await
            .unwrap();
        store
            .finish_run(finish(id, "j", RunStatus::Error, 3))
            .await
            .unwrap();
    }
    let runs = store.runs(Some("j".into()), 100).await.unwrap();
    assert_eq!(runs.len(), 3, "kept the newest 3");
    assert_eq!(runs[0].scheduled_at, Some(t(5)), "newest first");
    let facts = store.job_facts(vec!["j".into()], 2).await.unwrap();
    assert_eq!(facts[0].failures_in_a_row, 3);
    assert_eq!(facts[0].recent.len(), 2);
    assert_eq!(
        facts[0].last_run.as_ref().map(|r| r.status),
        Some(RunStatus::Error)
    );
    // A run left running by a previous process of this instance.
    let left = store
        .begin_run("j".into(), "job".into(), None, t(7))
        .await
        .unwrap();
    assert_eq!(store.recover_interrupted(t(8)).await.unwrap(), 1);
    let all = store.runs(None, 10).await.unwrap();
    let r = all.iter().find(|r| r.id == left).unwrap();
    assert_eq!(r.status, RunStatus::Interrupted);
}

pub async fn anchors_overrides_missed_skipped(store: Arc<dyn Store>) {
    let (enabled, anchor) = store
        .open_job("a".into(), "a".into(), true, t(10))
        .await
        .unwrap();
    assert!(enabled);
    assert_eq!(anchor, None, "a new job has no anchor (it is set to now)");
    let (_, anchor) = store
        .open_job("a".into(), "a".into(), true, t(20))
        .await
        .unwrap();
    assert_eq!(anchor, Some(t(10)));
    store
        .set_anchor("a".into(), "a".into(), t(5))
        .await
        .unwrap();
    let (_, anchor) = store
        .open_job("a".into(), "a".into(), true, t(30))
        .await
        .unwrap();
    assert_eq!(anchor, Some(t(10)), "the anchor never moves back");
    store
        .record_missed(
            "a".into(),
            "a".into(),
            vec![t(11), t(12)],
            "down".into(),
            t(30),
            100,
        )
        .await
        .unwrap();
    store
        .record_skipped("a".into(), "a".into(), t(13), "busy".into(), t(30), 100)
        .await
        .unwrap();
    let runs = store.runs(Some("a".into()), 10).await.unwrap();
    let statuses: Vec<_> = runs.iter().map(|r| r.status).collect();
    assert_eq!(
        statuses,
        vec![RunStatus::Skipped, RunStatus::Missed, RunStatus::Missed]
    );
    let (_, anchor) = store
        .open_job("a".into(), "a".into(), true, t(40))
        .await
        .unwrap();
    assert_eq!(anchor, Some(t(13)));

    assert_eq!(store.override_for("a".into()).await.unwrap(), None);
    store
        .set_override("a".into(), "a".into(), Some(false), t(41))
        .await
        .unwrap();
    assert_eq!(store.override_for("a".into()).await.unwrap(), Some(false));
    let (enabled, _) = store
        .open_job("a".into(), "a".into(), true, t(42))
        .await
        .unwrap();
    assert!(!enabled, "the override wins over the config");
    assert_eq!(store.overrides().await.unwrap().get("a"), Some(&false));
    store
        .set_override("a".into(), "a".into(), None, t(43))
        .await
        .unwrap();
    assert!(store.overrides().await.unwrap().is_empty());
    store
        .begin_run("a".into(), "a".into(), None, t(44))
        .await
        .unwrap();
    store
        .close_job("a".into(), "a".into(), true, true, t(50))
        .await
        .unwrap();
    let runs = store.runs(Some("a".into()), 1).await.unwrap();
    assert_eq!(runs[0].status, RunStatus::Interrupted);
    let (_, anchor) = store
        .open_job("a".into(), "a".into(), true, t(60))
        .await
        .unwrap();
    assert_eq!(anchor, Some(t(50)), "close_job re-anchors");
    // A run whose record landed after its actor stopped: the job's next
    // start closes it, and leaves other jobs' runs alone.
    let orphan = store
        .begin_run("a".into(), "a".into(), None, t(61))
        .await
        .unwrap();
    let other = store
        .begin_run("b".into(), "b".into(), None, t(61))
        .await
        .unwrap();
    store
        .open_job("a".into(), "a".into(), true, t(62))
        .await
        .unwrap();
    let runs = store.runs(None, 10).await.unwrap();
    let status = |id| runs.iter().find(|r| r.id == id).map(|r| r.status);
    assert_eq!(status(orphan), Some(RunStatus::Interrupted));
    assert_eq!(status(other), Some(RunStatus::Running));
}

fn job(id: &str, name: &str, owner: Option<&str>, at: i64) -> RuntimeJobRow {
    RuntimeJobRow {
        id: id.into(),
        name: name.into(),
        owner: owner.map(Into::into),
        spec: "{\"schedule\":\"@every 1m\"}".into(),
        created_at: t(at),
        done_at: None,
    }
}

pub async fn runtime_jobs(store: Arc<dyn Store>) {
    assert_eq!(
        store
            .add_job(job("a1", "备份", None, 1), None)
            .await
            .unwrap(),
        AddJob::Added
    );
    assert_eq!(
        store
            .add_job(job("a2", "备份", None, 2), None)
            .await
            .unwrap(),
        AddJob::NameTaken
    );
    // Ids are short hashes of names: another name may land on a taken id.
    assert_eq!(
        store
            .add_job(job("a1", "另一个", None, 2), None)
            .await
            .unwrap(),
        AddJob::IdTaken,
        "a name hashing to a taken id is told apart from a taken name"
    );
    let chat = Some("telegram:42");
    assert_eq!(
        store
            .add_job(job("b1", "r1", chat, 3), Some(2))
            .await
            .unwrap(),
        AddJob::Added
    );
    assert_eq!(
        store
            .add_job(job("b2", "r2", chat, 4), Some(2))
            .await
            .unwrap(),
        AddJob::Added
    );
    assert_eq!(
        store
            .add_job(job("b3", "r3", chat, 5), Some(2))
            .await
            .unwrap(),
        AddJob::OverQuota
    );
    store.mark_done("b1".into(), t(6)).await.unwrap();
    assert_eq!(
        store
            .add_job(job("b3", "r3", chat, 7), Some(2))
            .await
            .unwrap(),
        AddJob::Added
    );
    let rows = store.runtime_jobs().await.unwrap();
    let names: Vec<_> = rows.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, vec!["备份", "r1", "r2", "r3"], "oldest first");
    assert_eq!(rows[1].done_at, Some(t(6)));
    assert_eq!(rows[0], job("a1", "备份", None, 1));
    assert!(store.remove_job("a1".into()).await.unwrap());
    assert!(!store.remove_job("a1".into()).await.unwrap());
    assert_eq!(store.runtime_jobs().await.unwrap().len(), 3);
}

pub async fn memory_and_channels(store: Arc<dyn Store>) {
    let turn = |u: &str, a: &str| MemoryTurn {
        user: u.into(),
        assistant: a.into(),
    };
    assert!(store.load_memory("s".into()).await.unwrap().is_empty());
    for (t, keep) in [(turn("hi", "hello"), 1), (turn("再见", "bye"), 2)] {
        store.append_memory("s".into(), t, keep).await.unwrap();
    }
    assert_eq!(
        store.load_memory("s".into()).await.unwrap(),
        vec![turn("hi", "hello"), turn("再见", "bye")]
    );
    // The bounds left one turn: the older ones go, oldest first.
    store
        .append_memory("s".into(), turn("only", "this"), 1)
        .await
        .unwrap();
    assert_eq!(
        store.load_memory("s".into()).await.unwrap(),
        vec![turn("only", "this")]
    );
    store
        .append_memory("t".into(), turn("ab", "cd"), 20)
        .await
        .unwrap();
    let sessions = store.memory_sessions().await.unwrap();
    assert_eq!(sessions.len(), 2);
    assert_eq!((sessions[1].turns, sessions[1].chars), (1, 4));
    assert!(
        sessions[0]
            .updated_at
            .is_some_and(|u| u > Utc::now() - Span::minutes(5))
    );
    assert!(store.clear_memory("s".into()).await.unwrap());
    assert!(!store.clear_memory("s".into()).await.unwrap());

    assert_eq!(store.channel_offset("telegram".into()).await.unwrap(), None);
    store
        .set_channel_offset("telegram".into(), 41)
        .await
        .unwrap();
    store
        .set_channel_offset("telegram".into(), 42)
        .await
        .unwrap();
    assert_eq!(
        store.channel_offset("telegram".into()).await.unwrap(),
        Some(42)
    );
    assert!(
        store
            .remember_event("slack".into(), "e1".into(), 2)
            .await
            .unwrap()
    );
    assert!(
        !store
            .remember_event("slack".into(), "e1".into(), 2)
            .await
            .unwrap()
    );
    assert!(
        store
            .remember_event("discord".into(), "e1".into(), 2)
            .await
            .unwrap()
    );
    assert!(
        store
            .remember_event("slack".into(), "e2".into(), 2)
            .await
            .unwrap()
    );
    assert!(
        store
            .remember_event("slack".into(), "e3".into(), 2)
            .await
            .unwrap()
    );
    assert!(
        store
            .remember_event("slack".into(), "e1".into(), 2)
            .await
            .unwrap(),
        "only the newest 2 ids per channel are kept"
    );
}

/// Opening many jobs at once is each job's opening: the override wins, the
/// anchor is the one before, a new or disabled job is anchored at `now`, and
/// a job's run left `running` by its previous start is closed.
pub async fn open_jobs_at_once(store: Arc<dyn Store>) {
    let job = |id: &str, enabled: bool| JobOpening {
        id: id.into(),
        name: format!("job {id}"),
        config_enabled: enabled,
    };
    store
        .set_anchor("old".into(), "job old".into(), t(5))
        .await
        .unwrap();
    store
        .set_override("off".into(), "job off".into(), Some(false), t(5))
        .await
        .unwrap();
    let left = store
        .begin_run("old".into(), "job old".into(), None, t(6))
        .await
        .unwrap();
    let jobs = vec![job("new", true), job("old", true), job("off", true)];
    let opened = store.open_jobs(jobs.clone(), t(10)).await.unwrap();
    assert_eq!(
        opened,
        vec![(true, None), (true, Some(t(5))), (false, None)],
        "in the order asked"
    );
    let runs = store.runs(Some("old".into()), 10).await.unwrap();
    assert_eq!(
        runs.first().map(|r| (r.id, r.status)),
        Some((left, RunStatus::Interrupted))
    );
    // What the first opening wrote, a second one (as each job alone) reads.
    let again = store.open_jobs(jobs, t(20)).await.unwrap();
    assert_eq!(
        again,
        vec![
            (true, Some(t(10))),
            (true, Some(t(5))),
            (false, Some(t(10)))
        ]
    );
    let (enabled, anchor) = store
        .open_job("off".into(), "job off".into(), true, t(30))
        .await
        .unwrap();
    assert_eq!((enabled, anchor), (false, Some(t(20))));
    assert!(store.open_jobs(Vec::new(), t(40)).await.unwrap().is_empty());
}
