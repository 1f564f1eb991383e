//! Counters behind `/metrics`; every component bumps them, the gateway renders them.

use std::collections::BTreeMap;
use std::sync::Mutex;

/// Process-wide counters. Cheap enough for every request: one short lock.
#[derive(Default)]
pub struct Metrics {
    counters: Mutex<BTreeMap<(&'static str, Vec<(&'static str, String)>), u64>>,
}

impl Metrics {
    /// Add one to `name{labels}`.
    pub fn inc(&self, name: &'static str, labels: &[(&'static str, &str)]) {
        let key = (
            name,
            labels.iter().map(|(k, v)| (*k, (*v).to_string())).collect(),
        );
        if let Ok(mut map) = self.counters.lock() {
            *map.entry(key).or_insert(0) += 1;
        }
    }

    /// HTTP requests by route and status.
    pub fn http_request(&self, route: &str, status: u16) {
        self.inc(
            "zeroclaw_http_requests_total",
            &[("route", route), ("status", &status.to_string())],
        );
    }

    /// Messages in/out by channel (`direction` = `in` | `out`).
    pub fn channel_message(&self, channel: &str, direction: &str) {
        self.inc(
            "zeroclaw_channel_messages_total",
            &[("channel", channel), ("direction", direction)],
        );
    }

    /// Cron runs by job and final status.
    pub fn cron_run(&self, job: &str, status: &str) {
        self.inc(
            "zeroclaw_cron_runs_total",
            &[("job", job), ("status", status)],
        );
    }

    /// Every counter, for rendering.
    pub fn counters(&self) -> Vec<(String, Vec<(String, String)>, u64)> {
        let Ok(map) = self.counters.lock() else {
            return Vec::new();
        };
        map.iter()
            .map(|((name, labels), v)| {
                (
                    (*name).to_string(),
                    labels
                        .iter()
                        .map(|(k, v)| ((*k).to_string(), v.clone()))
                        .collect(),
                    *v,
                )
            })
            .collect()
    }
}
