//! The log directory stops being writable mid-run (replaced by a regular file,
//! which stops root too): the logger fails, lines go to stderr, and once the
//! directory is back a restarted logger resumes in the file.
//!
//! The supervisor is played by the test: it spawns the logger again, as the
//! root supervisor will after its backoff.

mod support;

use ractor::Actor;
use std::io::Read;
use std::time::Duration;
use support::channel_watch::{Ended, Watch, wait_until};
use zeroclaw::config::schema::LoggingConfig;
use zeroclaw::logging::{LogSettings, LoggerActor, SinkState, build};

const WAIT: Duration = Duration::from_secs(30);

/// Points fd 2 at a file for the life of the guard.
struct StderrCapture {
    saved: std::os::fd::OwnedFd,
    file: std::fs::File,
}

impl StderrCapture {
    fn start(path: &std::path::Path) -> Result<Self, Box<dyn std::error::Error>> {
        let saved = nix::unistd::dup(std::io::stderr())?;
        let file = std::fs::File::create(path)?;
        nix::unistd::dup2_stderr(&file)?;
        Ok(Self {
            saved,
            file: std::fs::File::open(path)?,
        })
    }

    fn read(&mut self) -> std::io::Result<String> {
        let mut s = String::new();
        self.file.read_to_string(&mut s)?;
        Ok(s)
    }
}

impl Drop for StderrCapture {
    fn drop(&mut self) {
        let _ = nix::unistd::dup2_stderr(&self.saved);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unwritable_directory_fails_over_to_stderr_and_back()
-> Result<(), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let logs = dir.path().join("logs");
    let path = logs.join("daemon.log");
    let mut stderr = StderrCapture::start(&dir.path().join("stderr.txt"))?;

    let settings = LogSettings {
        config: LoggingConfig {
            file: Some(path.clone()),
            ..LoggingConfig::default()
        },
        ..LogSettings::default()
    };
    let (dispatch, handle) = build(settings, Some("zeroclaw=info"), false)?;
    tracing::dispatcher::set_global_default(dispatch)?;

    // Before the logger starts, lines wait in the queue; the first start
    // creates the missing log directory.
    tracing::info!(target: "zeroclaw::test", "line-before-start");
    let mut watch = Watch::start().await;
    let (_logger, first_done) =
        Actor::spawn_linked(None, LoggerActor, handle.clone(), watch.watcher.get_cell()).await?;
    tracing::info!(target: "zeroclaw::test", "line-ok");
    wait_until(WAIT, "two lines in the file", || {
        handle.stats().written == 2
    })
    .await;
    let text = std::fs::read_to_string(&path)?;
    assert!(
        text.contains("line-before-start") && text.contains("line-ok"),
        "{text}"
    );

    // The directory becomes a regular file.
    std::fs::remove_dir_all(&logs)?;
    std::fs::write(&logs, "not a directory")?;
    tracing::info!(target: "zeroclaw::test", "line-during-1");
    // The logger fails with an error: a failure, which the supervisor restarts.
    let exit = watch.ended(WAIT).await;
    assert!(
        matches!(&exit, Ended::Failed(e) if e.starts_with("cannot write log file")),
        "{exit:?}"
    );
    tokio::time::timeout(WAIT, first_done).await??;
    assert_eq!(handle.stats().state, SinkState::Down);
    tracing::info!(target: "zeroclaw::test", "line-during-2");

    // A restart while the path is still broken fails in pre_start.
    assert!(
        Actor::spawn(None, LoggerActor, handle.clone())
            .await
            .is_err(),
        "the logger must not start while its file cannot be opened"
    );
    tracing::info!(target: "zeroclaw::test", "line-during-3");

    let captured = stderr.read()?;
    for line in ["line-during-1", "line-during-2", "line-during-3"] {
        assert!(
            captured.contains(line),
            "{line} missing from stderr: {captured}"
        );
    }
    assert!(captured.contains("cannot write log file"), "{captured}");
    assert!(captured.contains("cannot open log file"), "{captured}");
    assert!(!captured.contains("line-ok"), "{captured}");
    assert_eq!(handle.stats().to_stderr, 3);

    // Writable again: the next restart succeeds and logging resumes in the file.
    std::fs::remove_file(&logs)?;
    std::fs::create_dir(&logs)?;
    let (logger, second_done) = Actor::spawn(None, LoggerActor, handle.clone()).await?;
    assert_eq!(handle.stats().state, SinkState::Up);
    tracing::info!(target: "zeroclaw::test", "line-after");
    wait_until(WAIT, "the resumed line", || {
        std::fs::read_to_string(&path).is_ok_and(|t| t.contains("line-after"))
    })
    .await;
    let text = std::fs::read_to_string(&path)?;
    assert!(
        text.contains("resumed; 3 lines went to stderr while it could not be written"),
        "{text}"
    );
    assert!(!text.contains("line-during"), "{text}");
    assert!(!stderr.read()?.contains("line-after"));

    logger.stop(None);
    second_done.await?;
    // After a clean stop lines are not lost either: they go to stderr.
    assert_eq!(handle.stats().state, SinkState::Down);
    watch.watcher.stop(None);
    Ok(())
}
