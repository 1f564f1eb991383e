//! What recording one HTTP answer into `/metrics` costs on the request
//! path (`Metrics::http_request`: the request counter by route and status,
//! the latency histogram by route and status class), alone and from two
//! threads at once, next to reading the clock that times the request.
//! Compare with the CPU of a whole `/health` request from
//! `benches/gateway/run.sh` (figures in benches/README.md).
//!
//! `cargo bench --bench metrics`

use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};
use zeroclaw::metrics::Metrics;

const ELAPSED: Duration = Duration::from_micros(180);

fn one_thread(c: &mut Criterion) {
    let metrics = Metrics::default();
    c.bench_function("http_request /health 200", |b| {
        b.iter(|| metrics.http_request(black_box("/health"), black_box(200), ELAPSED))
    });
    c.bench_function("Instant::now + elapsed", |b| {
        b.iter(|| black_box(Instant::now()).elapsed())
    });
}

/// Two threads recording into the same series: the gateway's two workers
/// under load.
fn two_threads(c: &mut Criterion) {
    let metrics = Arc::new(Metrics::default());
    c.bench_function("http_request /health 200, two threads", |b| {
        b.iter_custom(|iters| {
            let other = Arc::clone(&metrics);
            let peer = std::thread::spawn(move || {
                for _ in 0..iters {
                    other.http_request("/health", 200, ELAPSED);
                }
            });
            let started = Instant::now();
            for _ in 0..iters {
                metrics.http_request(black_box("/health"), black_box(200), ELAPSED);
            }
            let took = started.elapsed();
            let _ = peer.join();
            took
        })
    });
}

criterion_group!(benches, one_thread, two_threads);
criterion_main!(benches);
