//! The request path's share of `/metrics`: every HTTP answer is counted by
//! route and status and timed by route and status class.
//!
//! A `Family` lookup takes a read lock and hashes the labels; from the
//! gateway's two workers at once the lock's counter bounces between the
//! cores (117 ns alone, 317 ns contended, `cargo bench --bench metrics`,
//! benches/README.md). The handles of the series already made are
//! therefore kept in fixed slots, one per route, read with an atomic load:
//! the families stay the one source of what `/metrics` renders, the slots
//! only skip the lookup. The gateway has about ten route labels; a label
//! past [`SLOTS`] is still counted, through the family.

use super::Histograms;
use super::labels::{HttpClass, HttpRoute, status_class};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::Histogram;
use std::sync::OnceLock;
use std::time::Duration;

/// Route labels with their own slot.
const SLOTS: usize = 16;
/// `1xx` … `5xx`.
const CLASSES: usize = 5;

/// One route's series handles, made on its first answer of each kind.
#[derive(Default)]
struct Slot {
    route: OnceLock<&'static str>,
    /// The counter of status 200, by far the most common.
    ok: OnceLock<Counter>,
    classes: [OnceLock<Histogram>; CLASSES],
}

pub(super) struct HttpSeries {
    pub requests: Family<HttpRoute, Counter>,
    pub duration: Histograms<HttpClass>,
    slots: Box<[Slot]>,
}

impl HttpSeries {
    pub fn new(duration: Histograms<HttpClass>) -> Self {
        Self {
            requests: Family::default(),
            duration,
            slots: (0..SLOTS).map(|_| Slot::default()).collect(),
        }
    }

    /// Count and time one answer.
    pub fn record(&self, route: &'static str, status: u16, elapsed: Duration) {
        let class = status_class(status);
        let Some(slot) = self.slot(route) else {
            self.requests
                .get_or_create(&HttpRoute { route, status })
                .inc();
            self.duration
                .get_or_create(&HttpClass {
                    route,
                    status_class: class,
                })
                .observe(elapsed.as_secs_f64());
            return;
        };
        if status == 200 {
            slot.ok
                .get_or_init(|| {
                    self.requests
                        .get_or_create_owned(&HttpRoute { route, status })
                })
                .inc();
        } else {
            self.requests
                .get_or_create(&HttpRoute { route, status })
                .inc();
        }
        // The same grouping as `status_class`: 1xx to 4xx, else 5xx.
        let index = match status / 100 {
            c @ 1..=4 => usize::from(c) - 1,
            _ => CLASSES - 1,
        };
        slot.classes[index]
            .get_or_init(|| {
                self.duration.get_or_create_owned(&HttpClass {
                    route,
                    status_class: class,
                })
            })
            .observe(elapsed.as_secs_f64());
    }

    /// The slot of `route`, taking a free one on its first answer.
    fn slot(&self, route: &'static str) -> Option<&Slot> {
        self.slots.iter().find(|slot| {
            let taken = slot.route.get_or_init(|| route);
            std::ptr::eq(*taken, route) || *taken == route
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn series() -> HttpSeries {
        HttpSeries::new(Family::new_with_constructor(super::super::http_histogram))
    }

    fn count(s: &HttpSeries, route: &'static str, status: u16) -> u64 {
        s.requests.get_or_create(&HttpRoute { route, status }).get()
    }

    #[test]
    fn a_cached_route_counts_into_the_same_series_the_family_renders() {
        let s = series();
        for _ in 0..3 {
            s.record("/health", 200, Duration::from_micros(10));
        }
        s.record("/health", 503, Duration::from_micros(10));
        s.record("/webhook", 200, Duration::from_micros(10));
        assert_eq!(count(&s, "/health", 200), 3);
        assert_eq!(count(&s, "/health", 503), 1);
        assert_eq!(count(&s, "/webhook", 200), 1);
    }

    #[test]
    fn routes_past_the_slots_are_still_counted() {
        let s = series();
        let routes: Vec<&'static str> = (0..SLOTS + 4)
            .map(|i| &*Box::leak(format!("/r{i}").into_boxed_str()))
            .collect();
        for route in &routes {
            s.record(route, 200, Duration::from_micros(10));
            s.record(route, 200, Duration::from_micros(10));
        }
        for route in &routes {
            assert_eq!(count(&s, route, 200), 2, "{route}");
        }
    }
}
