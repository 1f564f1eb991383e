//! 200,000 numbered lines from 16 concurrent tasks through the real layer,
//! queue and logger actor into a 1 MB x 3 rotating file.

use bytesize::ByteSize;
use ractor::Actor;
use std::collections::HashMap;
use std::time::Duration;
use zeroclaw::config::schema::LoggingConfig;
use zeroclaw::logging::{LogSettings, LoggerActor, build, rotated_path};

const TASKS: u32 = 16;
const PER_TASK: u32 = 12_500;
const MAX_SIZE: u64 = 1_000_000;

async fn wait_until(what: &str, timeout: Duration, mut cond: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + timeout;
    while !cond() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// `(task, seq)` from a line `... task=07 seq=01234 ...`.
fn parse(line: &str) -> Option<(u32, u32)> {
    let t = line.split("task=").nth(1)?.get(..2)?.parse().ok()?;
    let s = line.split("seq=").nth(1)?.get(..5)?.parse().ok()?;
    Some((t, s))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sixteen_tasks_rotate_into_exactly_the_newest_lines()
-> Result<(), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("daemon.log");
    let settings = LogSettings {
        config: LoggingConfig {
            file: Some(path.clone()),
            max_size: ByteSize::b(MAX_SIZE),
            max_files: 3,
            rotate: true,
            ..LoggingConfig::default()
        },
        // Larger than everything written, so this test sees no drops.
        queue_bytes: 256 * 1024 * 1024,
        ..LogSettings::default()
    };
    let (dispatch, handle) = build(settings, Some("info"), false)?;
    tracing::dispatcher::set_global_default(dispatch)?;
    let (logger, logger_done) = Actor::spawn(None, LoggerActor, handle.clone()).await?;

    let mut tasks = Vec::new();
    for t in 0..TASKS {
        tasks.push(tokio::spawn(async move {
            for s in 0..PER_TASK {
                tracing::info!(target: "zeroclaw::test", "task={t:02} seq={s:05} padding");
                if s % 256 == 0 {
                    tokio::task::yield_now().await;
                }
            }
        }));
    }
    for task in tasks {
        task.await?;
    }
    let total = u64::from(TASKS * PER_TASK);
    wait_until(
        "the logger to write every line",
        Duration::from_secs(120),
        || {
            let s = handle.stats();
            s.written >= total && s.queued == 0
        },
    )
    .await;
    let stats = handle.stats();
    assert_eq!(stats.dropped, 0, "{stats:?}");
    assert_eq!(stats.written, total, "{stats:?}");
    assert_eq!(stats.to_stderr, 0, "{stats:?}");

    // Exactly three rotated files plus the current one.
    let files = [
        rotated_path(&path, 3),
        rotated_path(&path, 2),
        rotated_path(&path, 1),
        path.clone(),
    ];
    assert!(
        !rotated_path(&path, 4).exists(),
        "a 4th rotated file exists"
    );
    let mut present: Vec<(u32, u32)> = Vec::new();
    let mut longest = 0u64;
    let mut sizes = Vec::new();
    for f in &files {
        let text = std::fs::read_to_string(f).map_err(|e| format!("{}: {e}", f.display()))?;
        sizes.push(text.len() as u64);
        for line in text.lines() {
            longest = longest.max(line.len() as u64 + 1);
            present.push(parse(line).ok_or_else(|| format!("unexpected line {line:?}"))?);
        }
    }
    for (f, size) in files.iter().zip(&sizes) {
        assert!(
            *size <= MAX_SIZE + longest,
            "{} is {size} bytes, over {MAX_SIZE} + one line",
            f.display()
        );
    }
    // Rotated files were rotated because the next line did not fit.
    for size in &sizes[..3] {
        assert!(
            *size > MAX_SIZE - longest,
            "a rotated file of {size} bytes was not full"
        );
    }

    // Lines reach the file in submission order, so what survives rotation is
    // a suffix of it: per task, a run without gap or duplicate that ends at
    // the task's last line.
    let mut first: HashMap<u32, u32> = HashMap::new();
    let mut last: HashMap<u32, u32> = HashMap::new();
    for &(t, s) in &present {
        if let Some(prev) = last.get(&t) {
            assert_eq!(s, prev + 1, "task {t}: {prev} followed by {s}");
        }
        first.entry(t).or_insert(s);
        last.insert(t, s);
    }
    // A task that ran early may have had all its lines rotated away; every
    // task that still has lines must end at its last one.
    assert!(!last.is_empty());
    for (t, s) in &last {
        assert_eq!(*s, PER_TASK - 1, "task {t} ends at {s}");
    }
    let expected: u32 = first.values().map(|f| PER_TASK - f).sum();
    assert_eq!(present.len(), expected as usize);
    // Rotation really deleted the oldest lines.
    assert!((present.len() as u64) < total);

    logger.stop(None);
    logger_done.await?;
    Ok(())
}
