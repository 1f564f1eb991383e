//! Schedule maths throughput: `cargo bench --bench cron`.

use chrono::{TimeZone, Utc};
use chrono_tz::Tz;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;
use zeroclaw::cron::schedule::Schedule;

fn next_fire(c: &mut Criterion) {
    let from = Utc
        .with_ymd_and_hms(2026, 3, 10, 9, 30, 17)
        .single()
        .unwrap();
    let berlin: Tz = "Europe/Berlin".parse().unwrap();
    let cases = [
        ("every_second", "* * * * * *", Tz::UTC),
        ("daily_0900", "0 9 * * *", Tz::UTC),
        ("weekdays_0900_berlin", "0 9 * * 1-5", berlin),
        ("friday_1800", "0 18 * * 5", Tz::UTC),
        ("dom_or_dow", "0 0 13 * 5", Tz::UTC),
        ("yearly", "@yearly", Tz::UTC),
    ];
    let mut g = c.benchmark_group("next_after");
    g.throughput(Throughput::Elements(1));
    for (name, expr, tz) in cases {
        let s = Schedule::parse(expr, tz).unwrap();
        g.bench_function(name, |b| {
            b.iter(|| black_box(s.next_after(black_box(from))))
        });
    }
    g.finish();
    let mut g = c.benchmark_group("parse");
    g.bench_function("weekdays_0900", |b| {
        b.iter(|| black_box(Schedule::parse(black_box("0 9 * * MON-FRI"), Tz::UTC)))
    });
    g.finish();
}

criterion_group!(benches, next_fire);
criterion_main!(benches);
