//! The queue between the daemon and the logger: overflow accounting, SIGUSR1
//! reopen, and the formats as they land in the file.

use ractor::Actor;
use std::path::{Path, PathBuf};
use std::time::Duration;
use tracing::dispatcher::DefaultGuard;
use zeroclaw::config::schema::{LogFormat, LoggingConfig};
use zeroclaw::logging::{LogHandle, LogSettings, LoggerActor, build};

type TestResult = Result<(), Box<dyn std::error::Error>>;

async fn wait_until(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while !cond() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

fn settings(path: &Path, queue_bytes: usize, format: LogFormat) -> LogSettings {
    LogSettings {
        config: LoggingConfig {
            file: Some(path.to_path_buf()),
            format,
            ..LoggingConfig::default()
        },
        queue_bytes,
        ..LogSettings::default()
    }
}

/// A queue writing `daemon.log` in a fresh directory, its subscriber this
/// thread's default while the value lives.
struct Queue {
    dir: tempfile::TempDir,
    path: PathBuf,
    handle: LogHandle,
    _guard: DefaultGuard,
}

fn queue(
    queue_bytes: usize,
    format: LogFormat,
    level: &str,
) -> Result<Queue, Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("daemon.log");
    let (dispatch, handle) = build(settings(&path, queue_bytes, format), Some(level), false)?;
    let guard = tracing::dispatcher::set_default(&dispatch);
    Ok(Queue {
        dir,
        path,
        handle,
        _guard: guard,
    })
}

#[tokio::test]
async fn a_full_queue_counts_drops_and_says_so_once() -> TestResult {
    let Queue { path, handle, .. } = &queue(4096, LogFormat::Text, "info")?;

    // The logger has not started: the queue fills and then overflows.
    for n in 0..500 {
        tracing::info!(target: "zeroclaw::test", "n={n:04}");
    }
    let dropped = handle.stats().dropped;
    assert!(dropped > 0 && dropped < 500, "{dropped}");

    let kept = 500 - dropped as usize;
    let (logger, done) = Actor::spawn(None, LoggerActor, handle.clone()).await?;
    // The kept lines plus the notice.
    wait_until("the queue to be written", || {
        handle.stats().written == kept as u64 + 1
    })
    .await;
    tracing::info!(target: "zeroclaw::test", "n=0500 after");
    wait_until("the line after", || {
        std::fs::read_to_string(path).is_ok_and(|t| t.contains("n=0500"))
    })
    .await;

    let text = std::fs::read_to_string(path)?;
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), kept + 2, "{text}");
    for (i, line) in lines[..kept].iter().enumerate() {
        assert!(line.ends_with(&format!("n={i:04}")), "line {i}: {line}");
    }
    assert!(
        lines[kept].ends_with(&format!(
            "WARN zeroclaw::logging: {dropped} log lines dropped"
        )),
        "{}",
        lines[kept]
    );
    assert!(lines[kept + 1].ends_with("n=0500 after"));
    assert_eq!(text.matches("log lines dropped").count(), 1);

    logger.stop(None);
    done.await?;
    Ok(())
}

#[tokio::test]
async fn reopen_after_logrotate_writes_the_new_file() -> TestResult {
    let Queue {
        dir, path, handle, ..
    } = &queue(1 << 20, LogFormat::Text, "info")?;
    let (logger, done) = Actor::spawn(None, LoggerActor, handle.clone()).await?;

    tracing::info!(target: "zeroclaw::test", "old-file");
    wait_until("the first line", || handle.stats().written == 1).await;
    // logrotate with `create`: move the file away, create an empty one, signal.
    let moved = dir.path().join("daemon.log.20261125");
    std::fs::rename(path, &moved)?;
    std::fs::write(path, "")?;
    handle.reopen();
    tracing::info!(target: "zeroclaw::test", "new-file");
    wait_until("the second line", || handle.stats().written == 2).await;

    let old = std::fs::read_to_string(&moved)?;
    let new = std::fs::read_to_string(path)?;
    assert!(
        old.contains("old-file") && !old.contains("new-file"),
        "{old}"
    );
    assert!(
        new.contains("new-file") && !new.contains("old-file"),
        "{new}"
    );

    logger.stop(None);
    done.await?;
    Ok(())
}

#[tokio::test]
async fn json_format_writes_one_object_per_line() -> TestResult {
    let Queue { path, handle, .. } = &queue(1 << 20, LogFormat::Json, "debug")?;
    let (logger, done) = Actor::spawn(None, LoggerActor, handle.clone()).await?;

    tracing::debug!(target: "zeroclaw::test", chat = 42, "multi\nline");
    tracing::trace!(target: "zeroclaw::test", "filtered out");
    wait_until("the line", || handle.stats().written == 1).await;
    logger.stop(None);
    done.await?;

    let text = std::fs::read_to_string(path)?;
    assert_eq!(text.lines().count(), 1, "{text}");
    let v: serde_json::Value = serde_json::from_str(text.trim_end())?;
    assert_eq!(v["level"], "DEBUG");
    assert_eq!(v["fields"]["message"], "multi\nline");
    assert_eq!(v["fields"]["chat"], 42);
    Ok(())
}

/// A do-nothing parent for the spawn function of the child spec.
struct Parent;

impl Actor for Parent {
    type Msg = ();
    type State = ();
    type Arguments = ();

    async fn pre_start(
        &self,
        _myself: ractor::ActorRef<()>,
        _args: (),
    ) -> Result<(), ractor::ActorProcessingErr> {
        Ok(())
    }
}

#[tokio::test]
async fn child_spec_spawns_a_registered_linked_logger() -> TestResult {
    let Queue { path, handle, .. } = &queue(1 << 20, LogFormat::Text, "info")?;
    let spec =
        zeroclaw::logging::child_spec(handle.clone(), zeroclaw_actors::RestartPolicy::default());
    assert_eq!(spec.name, "logger");

    let (parent, parent_done) = Actor::spawn(None, Parent, ()).await?;
    let cell = (spec.spawn)(zeroclaw_actors::SpawnContext {
        supervisor: parent.get_cell(),
        registered_name: "logging-test.logger".into(),
    })
    .await?;
    assert!(ractor::registry::where_is("logging-test.logger").is_some());
    tracing::info!(target: "zeroclaw::test", "via child spec");
    wait_until("the line", || handle.stats().written == 1).await;
    assert!(std::fs::read_to_string(path)?.contains("via child spec"));

    cell.stop(None);
    parent.stop(None);
    parent_done.await?;
    Ok(())
}
