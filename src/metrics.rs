//! Counters behind `/metrics`; every component bumps them, the gateway renders them.

use std::collections::hash_map::DefaultHasher;
use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::hash::{Hash, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, RwLock};
use zeroclaw_actors::{ChildState, TreeSnapshot};

type Key = (&'static str, Vec<(&'static str, String)>);

/// One counter as [`Metrics::counters`] lists it: name, labels, value.
pub type Series = (String, Vec<(String, String)>, u64);

/// Process-wide counters. Cheap enough for every request: a shared lock
/// and an atomic add once a series exists (no allocation, no exclusive lock).
#[derive(Default)]
pub struct Metrics {
    /// Series by a hash of name and labels (collisions share a bucket).
    counters: RwLock<HashMap<u64, Vec<(Key, AtomicU64)>>>,
    gauges: Mutex<BTreeMap<Key, i64>>,
    /// HTTP requests by status, then route: bumped on every request, so the
    /// hot path takes a shared lock and an atomic add, not the counters' mutex.
    http: RwLock<HashMap<u16, HashMap<String, AtomicU64>>>,
}

/// `# HELP` lines of the known metrics; others are rendered without one.
const HELP: &[(&str, &str)] = &[
    (
        "zeroclaw_http_requests_total",
        "HTTP requests by route and status",
    ),
    (
        "zeroclaw_channel_messages_total",
        "Chat messages by channel and direction (in/out)",
    ),
    (
        "zeroclaw_cron_runs_total",
        "Cron job runs by job and final status",
    ),
    (
        "zeroclaw_mcp_tool_calls_total",
        "MCP tool calls by server and tool",
    ),
    (
        "zeroclaw_mcp_tool_errors_total",
        "MCP tool calls that failed, timed out or returned isError, by server and tool",
    ),
    (
        "zeroclaw_gateway_open_connections",
        "HTTP connections open now",
    ),
    (
        "zeroclaw_channel_last_activity_seconds",
        "Unix time of the channel's last completed poll or event from its service",
    ),
];

impl Metrics {
    /// Add one to `name{labels}`.
    pub fn inc(&self, name: &'static str, labels: &[(&'static str, &str)]) {
        let mut h = DefaultHasher::new();
        name.hash(&mut h);
        labels.hash(&mut h);
        let hash = h.finish();
        let same = |(n, l): &Key| {
            *n == name
                && l.len() == labels.len()
                && l.iter()
                    .zip(labels)
                    .all(|((k, v), (lk, lv))| k == lk && v == lv)
        };
        if let Ok(map) = self.counters.read()
            && let Some((_, c)) = map.get(&hash).and_then(|b| b.iter().find(|(k, _)| same(k)))
        {
            c.fetch_add(1, Ordering::Relaxed);
            return;
        }
        if let Ok(mut map) = self.counters.write() {
            let bucket = map.entry(hash).or_default();
            match bucket.iter().find(|(k, _)| same(k)) {
                Some((_, c)) => {
                    c.fetch_add(1, Ordering::Relaxed);
                }
                None => {
                    let key = (
                        name,
                        labels.iter().map(|(k, v)| (*k, (*v).to_string())).collect(),
                    );
                    bucket.push((key, AtomicU64::new(1)));
                }
            }
        }
    }

    /// HTTP requests by route and status.
    pub fn http_request(&self, route: &str, status: u16) {
        if let Ok(map) = self.http.read()
            && let Some(c) = map.get(&status).and_then(|m| m.get(route))
        {
            c.fetch_add(1, Ordering::Relaxed);
            return;
        }
        if let Ok(mut map) = self.http.write() {
            map.entry(status)
                .or_default()
                .entry(route.to_string())
                .or_insert_with(|| AtomicU64::new(0))
                .fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Every counter, HTTP requests included, sorted for rendering.
    fn all_counters(&self) -> BTreeMap<Key, u64> {
        let mut all: BTreeMap<Key, u64> = BTreeMap::new();
        if let Ok(map) = self.counters.read() {
            for (key, n) in map.values().flatten() {
                *all.entry(key.clone()).or_insert(0) += n.load(Ordering::Relaxed);
            }
        }
        if let Ok(http) = self.http.read() {
            for (status, routes) in http.iter() {
                for (route, n) in routes {
                    let key = (
                        "zeroclaw_http_requests_total",
                        vec![("route", route.clone()), ("status", status.to_string())],
                    );
                    *all.entry(key).or_insert(0) += n.load(Ordering::Relaxed);
                }
            }
        }
        all
    }

    /// MCP tool calls by server and tool (the server's own name); a call
    /// that failed, timed out or returned `isError` also counts as an error.
    pub fn mcp_call(&self, server: &str, tool: &str, is_error: bool) {
        let labels = [("server", server), ("tool", tool)];
        self.inc("zeroclaw_mcp_tool_calls_total", &labels);
        if is_error {
            self.inc("zeroclaw_mcp_tool_errors_total", &labels);
        }
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
    pub fn counters(&self) -> Vec<Series> {
        self.all_counters()
            .iter()
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

    /// Add `delta` to the gauge `name{labels}` (open connections and the like).
    pub fn gauge_add(&self, name: &'static str, labels: &[(&'static str, &str)], delta: i64) {
        let key = (
            name,
            labels.iter().map(|(k, v)| (*k, (*v).to_string())).collect(),
        );
        if let Ok(mut map) = self.gauges.lock() {
            *map.entry(key).or_insert(0) += delta;
        }
    }

    /// Set the gauge `name{labels}` to `value`.
    pub fn gauge_set(&self, name: &'static str, labels: &[(&'static str, &str)], value: i64) {
        let key = (
            name,
            labels.iter().map(|(k, v)| (*k, (*v).to_string())).collect(),
        );
        if let Ok(mut map) = self.gauges.lock() {
            map.insert(key, value);
        }
    }

    /// `channel` completed a poll or got an event just now.
    pub fn channel_activity(&self, channel: &str) {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
        self.gauge_set(
            "zeroclaw_channel_last_activity_seconds",
            &[("channel", channel)],
            now,
        );
    }

    /// The current value of a gauge (0 when never set).
    pub fn gauge(&self, name: &'static str, labels: &[(&'static str, &str)]) -> i64 {
        let key: Key = (
            name,
            labels.iter().map(|(k, v)| (*k, (*v).to_string())).collect(),
        );
        self.gauges
            .lock()
            .ok()
            .and_then(|m| m.get(&key).copied())
            .unwrap_or(0)
    }

    /// Everything in the Prometheus text format (version 0.0.4): the
    /// counters and gauges above, plus, from the tree's snapshot, restarts
    /// and the state of each child (one 0/1 series per possible state, so a
    /// dashboard can graph and alert on `state="failed"`).
    pub fn render_prometheus(&self, tree: Option<&TreeSnapshot>, uptime_secs: u64) -> String {
        let mut out = String::with_capacity(2048);
        let _ = writeln!(
            out,
            "# HELP zeroclaw_build_info Version of the running daemon"
        );
        let _ = writeln!(out, "# TYPE zeroclaw_build_info gauge");
        let _ = writeln!(
            out,
            "zeroclaw_build_info{{version=\"{}\"}} 1",
            escape(crate::VERSION)
        );
        let _ = writeln!(
            out,
            "# HELP zeroclaw_uptime_seconds Seconds since the daemon started"
        );
        let _ = writeln!(out, "# TYPE zeroclaw_uptime_seconds gauge");
        let _ = writeln!(out, "zeroclaw_uptime_seconds {uptime_secs}");
        let counters = self.all_counters();
        render_family(
            &mut out,
            "counter",
            counters.iter().map(|(k, v)| (k, i128::from(*v))),
        );
        if let Ok(map) = self.gauges.lock() {
            render_family(
                &mut out,
                "gauge",
                map.iter().map(|(k, v)| (k, i128::from(*v))),
            );
        }
        if let Some(tree) = tree {
            let _ = writeln!(
                out,
                "# HELP zeroclaw_child_restarts_total Restarts of each child since the tree started"
            );
            let _ = writeln!(out, "# TYPE zeroclaw_child_restarts_total counter");
            for c in &tree.children {
                let _ = writeln!(
                    out,
                    "zeroclaw_child_restarts_total{{child=\"{}\"}} {}",
                    escape(&c.name),
                    c.restarts
                );
            }
            let _ = writeln!(
                out,
                "# HELP zeroclaw_child_state Lifecycle state of each child (1 = in this state)"
            );
            let _ = writeln!(out, "# TYPE zeroclaw_child_state gauge");
            for c in &tree.children {
                for (state, name) in STATES {
                    let _ = writeln!(
                        out,
                        "zeroclaw_child_state{{child=\"{}\",state=\"{name}\"}} {}",
                        escape(&c.name),
                        u8::from(c.state == state)
                    );
                }
            }
        }
        out
    }
}

const STATES: [(ChildState, &str); 5] = [
    (ChildState::Starting, "starting"),
    (ChildState::Running, "running"),
    (ChildState::Backoff, "backoff"),
    (ChildState::Failed, "failed"),
    (ChildState::Stopped, "stopped"),
];

/// Write one `# TYPE` block per metric name, series sorted (the maps are).
fn render_family<'a>(out: &mut String, kind: &str, series: impl Iterator<Item = (&'a Key, i128)>) {
    let mut current: Option<&str> = None;
    for ((name, labels), value) in series {
        if current != Some(*name) {
            if let Some((_, help)) = HELP.iter().find(|(n, _)| n == name) {
                let _ = writeln!(out, "# HELP {name} {help}");
            }
            let _ = writeln!(out, "# TYPE {name} {kind}");
            current = Some(name);
        }
        out.push_str(name);
        if !labels.is_empty() {
            out.push('{');
            for (i, (k, v)) in labels.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                let _ = write!(out, "{k}=\"{}\"", escape(v));
            }
            out.push('}');
        }
        let _ = writeln!(out, " {value}");
    }
}

/// Label values escape `\\`, `"` and newlines (exposition format).
fn escape(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use zeroclaw_actors::ChildSnapshot;

    #[test]
    fn renders_counters_gauges_and_tree() {
        let m = Metrics::default();
        m.http_request("/webhook", 200);
        m.http_request("/webhook", 200);
        m.http_request("/webhook", 401);
        m.cron_run("daily \"report\"", "ok");
        m.channel_message("webhook", "in");
        m.channel_message("webhook", "in");
        m.channel_message("webhook", "out");
        m.gauge_add("zeroclaw_gateway_open_connections", &[], 2);
        let tree = TreeSnapshot {
            children: vec![ChildSnapshot {
                name: "gateway".into(),
                state: ChildState::Running,
                restarts: 3,
                last_exit: None,
                uptime_secs: Some(5),
                next_restart_ms: None,
            }],
        };
        let text = m.render_prometheus(Some(&tree), 42);
        assert!(
            text.contains("zeroclaw_http_requests_total{route=\"/webhook\",status=\"200\"} 2\n"),
            "{text}"
        );
        assert!(
            text.contains("zeroclaw_http_requests_total{route=\"/webhook\",status=\"401\"} 1\n")
        );
        assert_eq!(
            text.matches("# TYPE zeroclaw_http_requests_total counter")
                .count(),
            1
        );
        assert!(
            text.contains("zeroclaw_cron_runs_total{job=\"daily \\\"report\\\"\",status=\"ok\"} 1"),
            "{text}"
        );
        assert!(text.contains("zeroclaw_gateway_open_connections 2\n"));
        assert!(text.contains("zeroclaw_child_restarts_total{child=\"gateway\"} 3\n"));
        assert!(text.contains("zeroclaw_child_state{child=\"gateway\",state=\"running\"} 1\n"));
        assert!(text.contains("zeroclaw_child_state{child=\"gateway\",state=\"failed\"} 0\n"));
        assert!(text.contains("zeroclaw_uptime_seconds 42\n"));
        assert!(
            text.contains(
                "zeroclaw_channel_messages_total{channel=\"webhook\",direction=\"in\"} 2\n"
            )
        );
        assert!(text.contains(
            "zeroclaw_channel_messages_total{channel=\"webhook\",direction=\"out\"} 1\n"
        ));
        let listed = m.counters();
        assert!(
            listed
                .iter()
                .any(|(n, l, v)| n == "zeroclaw_channel_messages_total"
                    && l.contains(&("direction".to_string(), "in".to_string()))
                    && *v == 2)
        );
    }
}
