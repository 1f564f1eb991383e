//! Lines per second written to a rotating log file from 4 concurrent tasks:
//! zeroclaw's queue + logger actor + RotatingFile, side by side with
//! tracing-appender's non-blocking writer over its rolling file appender.
//!
//! Both use tracing-subscriber's text formatter with the same filter and the
//! same events; an iteration ends when every line has reached the file writer.
//! tracing-appender rotates by time only (hourly here, so it never rotates
//! during the run); zeroclaw rotates by size (4 MB x 3), so it pays for
//! several rotations per sample.
//!
//! `cargo bench --bench logging`

use bytesize::ByteSize;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use ractor::Actor;
use std::io::{self, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tracing::Dispatch;
use tracing::instrument::WithSubscriber;
use tracing_subscriber::filter::Targets;
use tracing_subscriber::layer::SubscriberExt;
use zeroclaw::config::schema::LoggingConfig;
use zeroclaw::logging::{LogSettings, LoggerActor, build};

const TASKS: u64 = 4;
const LINES_PER_TASK: u64 = 10_000;
const LINES: u64 = TASKS * LINES_PER_TASK;

/// Emits `LINES` events from `TASKS` tasks under `dispatch`.
async fn emit(dispatch: &Dispatch) {
    let mut tasks = Vec::new();
    for t in 0..TASKS {
        tasks.push(tokio::spawn(
            async move {
                for i in 0..LINES_PER_TASK {
                    tracing::info!(target: "zeroclaw::bench", task = t, seq = i, "a benchmark line with some payload");
                    if i % 512 == 0 {
                        tokio::task::yield_now().await;
                    }
                }
            }
            .with_subscriber(dispatch.clone()),
        ));
    }
    for t in tasks {
        let _ = t.await;
    }
}

async fn wait_for(count: impl Fn() -> u64, target: u64) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while count() < target {
        assert!(tokio::time::Instant::now() < deadline, "writer stalled");
        tokio::time::sleep(Duration::from_micros(200)).await;
    }
}

/// Counts lines as tracing-appender's worker hands them to the file.
struct Counting<W> {
    inner: W,
    lines: Arc<AtomicU64>,
}

impl<W: Write> Write for Counting<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        let newlines = buf[..n].iter().filter(|b| **b == b'\n').count();
        self.lines.fetch_add(newlines as u64, Ordering::Relaxed);
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

fn runtime() -> tokio::runtime::Runtime {
    match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => panic!("tokio runtime: {e}"),
    }
}

fn bench(c: &mut Criterion) {
    let rt = runtime();
    let mut group = c.benchmark_group("rotating_file_4_tasks");
    group.throughput(Throughput::Elements(LINES));
    group.sample_size(20);
    group.measurement_time(Duration::from_secs(10));

    // zeroclaw
    let dir = match tempfile::tempdir() {
        Ok(d) => d,
        Err(e) => panic!("tempdir: {e}"),
    };
    let settings = LogSettings {
        config: LoggingConfig {
            file: Some(dir.path().join("daemon.log")),
            max_size: ByteSize::mb(4),
            max_files: 3,
            ..LoggingConfig::default()
        },
        ..LogSettings::default()
    };
    let (dispatch, handle) = match build(settings, Some("info"), false) {
        Ok(x) => x,
        Err(e) => panic!("logging::build: {e}"),
    };
    let (logger, logger_done) = match rt.block_on(Actor::spawn(None, LoggerActor, handle.clone())) {
        Ok(x) => x,
        Err(e) => panic!("spawn logger: {e}"),
    };
    group.bench_function("zeroclaw_logger", |b| {
        b.iter_custom(|iters| {
            rt.block_on(async {
                let start = Instant::now();
                for _ in 0..iters {
                    let before = handle.stats().written;
                    emit(&dispatch).await;
                    wait_for(|| handle.stats().written, before + LINES).await;
                }
                start.elapsed()
            })
        })
    });
    let stats = handle.stats();
    eprintln!("zeroclaw logger: {stats:?}");
    logger.stop(None);
    let _ = rt.block_on(logger_done);

    // tracing-appender
    let dir2 = match tempfile::tempdir() {
        Ok(d) => d,
        Err(e) => panic!("tempdir: {e}"),
    };
    let appender = match tracing_appender::rolling::RollingFileAppender::builder()
        .rotation(tracing_appender::rolling::Rotation::HOURLY)
        .filename_prefix("daemon.log")
        .max_log_files(3)
        .build(dir2.path())
    {
        Ok(a) => a,
        Err(e) => panic!("rolling appender: {e}"),
    };
    let lines = Arc::new(AtomicU64::new(0));
    let (writer, guard) = tracing_appender::non_blocking::NonBlockingBuilder::default()
        // Block rather than drop, so every line is written and counted.
        .lossy(false)
        .finish(Counting {
            inner: appender,
            lines: lines.clone(),
        });
    let filter = match "info".parse::<Targets>() {
        Ok(f) => f,
        Err(e) => panic!("filter: {e}"),
    };
    let appender_dispatch = Dispatch::new(
        tracing_subscriber::registry().with(filter).with(
            tracing_subscriber::fmt::layer()
                .with_ansi(false)
                .with_writer(writer),
        ),
    );
    group.bench_function("tracing_appender_non_blocking", |b| {
        b.iter_custom(|iters| {
            rt.block_on(async {
                let start = Instant::now();
                for _ in 0..iters {
                    let before = lines.load(Ordering::Relaxed);
                    emit(&appender_dispatch).await;
                    wait_for(|| lines.load(Ordering::Relaxed), before + LINES).await;
                }
                start.elapsed()
            })
        })
    });
    drop(guard);
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
