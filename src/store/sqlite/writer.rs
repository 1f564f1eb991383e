//! The database thread behind [`SqliteStore`], and its group commit.
//!
//! Every call runs on one thread that owns the connection, in the order the
//! calls were made. When calls queue up while one runs (a second where many
//! jobs fire, a burst of messages), the thread takes all that are waiting
//! and runs them in one transaction: one commit, one WAL append and one lock
//! instead of one per call. A caller hears its result only once that commit
//! is done, so nobody acts on a write that could still vanish
//! (docs/performance.md, "Group commit").

use super::Db;
use crate::store::StoreError;

/// At most this many calls share one commit, so that one transaction never
/// holds the write lock long enough to stall a reader of the CLI.
const MAX_BATCH: usize = 256;

/// Says to one caller how its call ended, once its batch is committed:
/// `Some(error)` when the commit (or the transaction around it) failed.
type Reply = Box<dyn FnOnce(Option<&StoreError>) + Send>;

/// One unit of work for the database thread: handed the database, or why
/// it could not be opened.
type Work = Box<dyn FnOnce(Result<&mut Db, &StoreError>) -> Reply + Send>;

/// The store as the daemon's components hold it: no async worker waits on
/// the disk, no pool of blocking threads grows under a burst of calls (a
/// start with many jobs), and no lock is contended. The thread ends when
/// the last handle is dropped.
#[derive(Clone)]
pub struct SqliteStore {
    work: std::sync::mpsc::Sender<Work>,
}

impl SqliteStore {
    pub fn new(db: Db) -> Self {
        Self::spawn(move || Ok(db))
    }

    /// The database at `path`, opened (created) by its thread when the
    /// first call arrives: a daemon on a new state directory creates it
    /// only once something is to be kept (docs/performance.md, "Start").
    /// If the open fails, that call and every later one fail with its cause.
    pub fn create_on_first_call(path: std::path::PathBuf) -> Self {
        Self::spawn(move || Db::open(&path))
    }

    fn spawn(open: impl FnOnce() -> Result<Db, StoreError> + Send + 'static) -> Self {
        let (work, queue) = std::sync::mpsc::channel::<Work>();
        let spawned = std::thread::Builder::new()
            .name("zeroclaw-db".into())
            .spawn(move || {
                // Nothing is opened for a handle that is never called.
                let Ok(first) = queue.recv() else { return };
                match open() {
                    Ok(mut db) => {
                        first(Ok(&mut db))(None);
                        serve(&mut db, &queue);
                    }
                    Err(e) => {
                        tracing::error!(error = %e, "cannot open the state database; every call to it fails");
                        first(Err(&e))(None);
                        refuse(&e, &queue);
                    }
                }
            });
        if let Err(e) = spawned {
            // Every call then fails with `Task`, naming the cause below.
            tracing::error!(error = %e, "cannot start the database thread");
        }
        Self { work }
    }

    /// Run `f` against the database on its thread.
    pub async fn call<R, F>(&self, f: F) -> Result<R, StoreError>
    where
        R: Send + 'static,
        F: FnOnce(&mut Db) -> Result<R, StoreError> + Send + 'static,
    {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let job: Work = Box::new(move |db| {
            let result = db
                .map_err(|e| StoreError::NotOpen(e.to_string()))
                .and_then(f);
            Box::new(move |failed: Option<&StoreError>| {
                let _ = tx.send(match (result, failed) {
                    (Ok(_), Some(e)) => Err(StoreError::Task(format!(
                        "the write was not committed: {e}"
                    ))),
                    (result, _) => result,
                });
            })
        });
        self.work
            .send(job)
            .map_err(|_| StoreError::Task("the database thread is not running".into()))?;
        rx.await
            .map_err(|_| StoreError::Task("the database thread ended during a call".into()))?
    }
}

/// The thread's loop when the database could not be opened: every call
/// hears why, until the last handle is dropped.
fn refuse(error: &StoreError, queue: &std::sync::mpsc::Receiver<Work>) {
    while let Ok(job) = queue.recv() {
        job(Err(error))(None);
    }
}

/// The thread's loop: wait for a call, take every call already waiting
/// behind it, run them.
fn serve(db: &mut Db, queue: &std::sync::mpsc::Receiver<Work>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while let Ok(first) = queue.recv() {
        batch.push(first);
        while batch.len() < MAX_BATCH {
            match queue.try_recv() {
                Ok(next) => batch.push(next),
                Err(_) => break,
            }
        }
        if batch.len() == 1 {
            for job in batch.drain(..) {
                job(Ok(&mut *db))(None);
            }
        } else {
            run_batch(db, &mut batch);
        }
    }
}

/// Run `batch` in one transaction and answer its callers after the commit.
/// A call that fails leaves the others' writes standing (its own are undone
/// by its savepoint, or by SQLite for a single statement). Should SQLite
/// roll the whole transaction back on an error (a full disk, an I/O error),
/// the calls before it are answered with that error, and the rest of the
/// batch goes on in a new transaction.
fn run_batch(db: &mut Db, batch: &mut Vec<Work>) {
    let mut in_tx = begin(db);
    let mut done: Vec<Reply> = Vec::with_capacity(batch.len());
    for job in batch.drain(..) {
        if !in_tx {
            // Without a transaction each call commits on its own, as one alone would.
            job(Ok(&mut *db))(None);
            continue;
        }
        done.push(job(Ok(&mut *db)));
        if db.conn.is_autocommit() {
            let lost = StoreError::Task(
                "the database rolled back a batch of writes after an error".into(),
            );
            for reply in done.drain(..) {
                reply(Some(&lost));
            }
            in_tx = begin(db);
        }
    }
    let committed = if in_tx {
        db.control("COMMIT").map_err(StoreError::from)
    } else {
        Ok(())
    };
    if let Err(e) = &committed {
        tracing::error!(error = %e, calls = done.len(), "cannot commit a batch of writes");
        let _ = db.conn.execute_batch("ROLLBACK");
    }
    for reply in done {
        reply(committed.as_ref().err());
    }
}

/// Open the batch's transaction; false (logged) when SQLite refuses.
fn begin(db: &Db) -> bool {
    match db.control("BEGIN IMMEDIATE") {
        Ok(()) => true,
        Err(e) => {
            tracing::warn!(error = %e, "cannot open a batch transaction; running the calls one by one");
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    /// A call that inserts a row named `name` inside its own savepoint, and
    /// fails after the insert when `fail`; its reply lands in `heard`.
    fn insert(name: &'static str, fail: bool, heard: &Arc<Mutex<Vec<String>>>) -> Work {
        let heard = heard.clone();
        Box::new(move |db: Result<&mut Db, &StoreError>| {
            let Ok(db) = db else {
                return Box::new(|_: Option<&StoreError>| {}) as Reply;
            };
            let result = db.atomically(|db| {
                db.conn.execute(
                    "INSERT INTO channel_offsets (key, offset) VALUES (?1, 1)",
                    [name],
                )?;
                if fail {
                    return Err(StoreError::Task("refused".into()));
                }
                Ok(())
            });
            Box::new(move |failed: Option<&StoreError>| {
                let outcome = match (result, failed) {
                    (Ok(()), None) => "ok".to_string(),
                    (Err(e), _) => format!("error: {e}"),
                    (Ok(()), Some(e)) => format!("lost: {e}"),
                };
                if let Ok(mut h) = heard.lock() {
                    h.push(format!("{name} {outcome}"));
                }
            }) as Reply
        })
    }

    fn keys(path: &std::path::Path) -> Vec<String> {
        let conn = rusqlite::Connection::open(path).expect("a second connection");
        let mut st = conn
            .prepare("SELECT key FROM channel_offsets ORDER BY key")
            .expect("prepare");
        st.query_map([], |r| r.get(0))
            .expect("query")
            .collect::<Result<_, _>>()
            .expect("rows")
    }

    #[test]
    fn a_batch_is_one_commit_and_a_failed_call_undoes_only_its_own_writes() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("state.db");
        let mut db = Db::open(&path).expect("open");
        let heard = Arc::new(Mutex::new(Vec::new()));
        let mut batch = vec![
            insert("a", false, &heard),
            insert("b", true, &heard),
            insert("c", false, &heard),
        ];
        run_batch(&mut db, &mut batch);
        assert!(db.conn.is_autocommit(), "the batch's transaction is closed");
        assert_eq!(keys(&path), ["a", "c"]);
        let heard = heard.lock().expect("replies").clone();
        assert_eq!(heard.len(), 3, "{heard:?}");
        assert_eq!(heard[0], "a ok");
        assert!(heard[1].starts_with("b error:"), "{heard:?}");
        assert_eq!(heard[2], "c ok");
    }

    #[test]
    fn a_caller_hears_of_its_write_only_once_it_is_committed() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("state.db");
        let mut db = Db::open(&path).expect("open");
        let seen = Arc::new(Mutex::new(Vec::new()));
        let mut batch: Vec<Work> = ["x", "y"]
            .into_iter()
            .map(|name| {
                let (seen, path) = (seen.clone(), path.clone());
                Box::new(move |db: Result<&mut Db, &StoreError>| {
                    let Ok(db) = db else {
                        return Box::new(|_: Option<&StoreError>| {}) as Reply;
                    };
                    let inserted = db.conn.execute(
                        "INSERT INTO channel_offsets (key, offset) VALUES (?1, 1)",
                        [name],
                    );
                    assert!(inserted.is_ok(), "{inserted:?}");
                    // Another connection sees the row when the reply is given.
                    Box::new(move |_: Option<&StoreError>| {
                        if let Ok(mut s) = seen.lock() {
                            s.push(keys(&path));
                        }
                    }) as Reply
                }) as Work
            })
            .collect();
        run_batch(&mut db, &mut batch);
        let seen = seen.lock().expect("replies").clone();
        assert_eq!(seen, [vec!["x", "y"], vec!["x", "y"]]);
    }

    #[tokio::test]
    async fn a_database_created_on_first_call_exists_only_once_called() -> Result<(), StoreError> {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("state.db");
        let store = SqliteStore::create_on_first_call(path.clone());
        // The store's thread waits for a call; a store never called is
        // dropped without a file.
        drop(SqliteStore::create_on_first_call(
            dir.path().join("never.db"),
        ));
        assert!(!path.exists(), "created before any call");
        store.call(|db| db.set_channel_offset("k", 7)).await?;
        assert!(path.exists());
        assert_eq!(store.call(|db| db.channel_offset("k")).await?, Some(7));
        assert!(!dir.path().join("never.db").exists());
        Ok(())
    }

    #[tokio::test]
    async fn a_database_that_cannot_be_created_fails_every_call_with_its_cause() {
        let dir = tempfile::tempdir().expect("tempdir");
        // Its directory would have to be made inside a plain file.
        let file = dir.path().join("a-file");
        std::fs::write(&file, b"x").expect("write");
        let store = SqliteStore::create_on_first_call(file.join("state.db"));
        for _ in 0..2 {
            let err = store
                .call(|db| db.set_channel_offset("k", 1))
                .await
                .expect_err("no database");
            assert!(matches!(err, StoreError::NotOpen(_)), "{err:?}");
            assert!(err.to_string().contains("a-file"), "{err}");
        }
    }

    #[tokio::test]
    async fn calls_made_together_all_land() -> Result<(), StoreError> {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = SqliteStore::new(Db::open(&dir.path().join("state.db"))?);
        let calls = (0..500).map(|i| {
            let store = store.clone();
            tokio::spawn(async move {
                store
                    .call(move |db| db.set_channel_offset(&format!("k{i}"), i))
                    .await
            })
        });
        for call in futures_util::future::join_all(calls).await {
            call.map_err(|e| StoreError::Task(e.to_string()))??;
        }
        let n = store
            .call(|db| {
                Ok(db
                    .conn
                    .query_row("SELECT count(*) FROM channel_offsets", [], |r| {
                        r.get::<_, i64>(0)
                    })?)
            })
            .await?;
        assert_eq!(n, 500);
        Ok(())
    }
}
