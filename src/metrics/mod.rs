//! What `/metrics` shows, through `prometheus-client`: every component
//! records into one [`Metrics`], the gateway renders it in the Prometheus
//! text format (0.0.4), every family with `# HELP` and `# TYPE`.
//!
//! Families known up front are typed (their labels are structs, the hot path
//! is a read lock and an atomic add); [`Metrics::inc`] and friends keep a
//! way for a component to count something new without touching this file
//! ([`adhoc`]). The tree, uptime and the channels' idle time are read at
//! scrape time ([`scrape`]), as are the process figures ([`process`]).

mod adhoc;
mod http;
mod labels;
mod process;
mod scrape;
mod series;

use labels::{
    ChannelDirection, ChannelLabel, JobLabel, JobStatus, ProviderOutcome, TokenLabels, ToolLabel,
};
use prometheus_client::encoding::prometheus_text;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::metrics::info::Info;
use prometheus_client::registry::Registry;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};
use zeroclaw_actors::TreeSnapshot;

pub use series::Series;

/// The `Content-Type` of [`Metrics::render_prometheus`].
pub const CONTENT_TYPE: &str = prometheus_text::CONTENT_TYPE;

type Histograms<L> = Family<L, Histogram, fn() -> Histogram>;

/// Process-wide metrics; one per daemon, shared behind an `Arc`.
pub struct Metrics {
    registry: Registry,
    http: http::HttpSeries,
    open_connections: Gauge,
    channel_messages: Family<ChannelDirection, Counter>,
    channel_send: Histograms<ChannelLabel>,
    cron_runs: Family<JobStatus, Counter>,
    cron_duration: Histograms<JobLabel>,
    agent_responses: Family<ProviderOutcome, Counter>,
    agent_duration: Histograms<ProviderOutcome>,
    agent_tokens: Family<TokenLabels, Counter>,
    agent_tool_calls: Family<ToolLabel, Counter>,
    adhoc: Arc<adhoc::AdHoc>,
    /// When each channel last completed a poll or got an event: rendered as
    /// a Unix time and as seconds since, at scrape time.
    activity: Mutex<BTreeMap<String, SystemTime>>,
    /// Bumped when a cron run starts or ends: lets a watcher (the status
    /// page) read the jobs again only when they changed.
    cron_changes: crate::component::Changes,
}

/// Request latencies: sub-millisecond for `/health`, seconds for a webhook
/// that waits on the agent.
const HTTP_BUCKETS: [f64; 14] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];
/// Model calls and cron runs: from a local model's 100 ms to a long tool loop.
const SLOW_BUCKETS: [f64; 13] = [
    0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0, 300.0, 600.0,
];
/// One message sent to a chat service.
const SEND_BUCKETS: [f64; 11] = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0];

fn http_histogram() -> Histogram {
    Histogram::new(HTTP_BUCKETS)
}
fn slow_histogram() -> Histogram {
    Histogram::new(SLOW_BUCKETS)
}
fn send_histogram() -> Histogram {
    Histogram::new(SEND_BUCKETS)
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::default();
        let m = Self {
            http: http::HttpSeries::new(Family::new_with_constructor(http_histogram)),
            open_connections: Gauge::default(),
            channel_messages: Family::default(),
            channel_send: Family::new_with_constructor(send_histogram),
            cron_runs: Family::default(),
            cron_duration: Family::new_with_constructor(slow_histogram),
            agent_responses: Family::default(),
            agent_duration: Family::new_with_constructor(slow_histogram),
            agent_tokens: Family::default(),
            agent_tool_calls: Family::default(),
            adhoc: Arc::new(adhoc::AdHoc::default()),
            activity: Mutex::new(BTreeMap::new()),
            cron_changes: crate::component::Changes::default(),
            registry: Registry::default(),
        };
        m.register_all(&mut registry);
        Self { registry, ..m }
    }
}

impl Metrics {
    /// Register every typed family (each a cheap handle onto the same series).
    fn register_all(&self, r: &mut Registry) {
        r.register(
            "zeroclaw_build",
            "Version of the running daemon",
            Info::new(vec![("version", crate::VERSION)]),
        );
        r.register(
            "zeroclaw_http_requests",
            "HTTP requests answered, by route and status code",
            self.http.requests.clone(),
        );
        r.register(
            "zeroclaw_http_request_duration_seconds",
            "Time from a request's arrival to its response head, by route and status class",
            self.http.duration.clone(),
        );
        r.register(
            "zeroclaw_gateway_open_connections",
            "HTTP connections open now",
            self.open_connections.clone(),
        );
        r.register(
            "zeroclaw_channel_messages",
            "Chat messages by channel and direction (in/out)",
            self.channel_messages.clone(),
        );
        r.register(
            "zeroclaw_channel_send_duration_seconds",
            "Time to deliver one message part to the chat service, by channel",
            self.channel_send.clone(),
        );
        r.register(
            "zeroclaw_cron_runs",
            "Cron job runs by job and final status",
            self.cron_runs.clone(),
        );
        r.register(
            "zeroclaw_cron_run_duration_seconds",
            "Duration of a cron run from its start to its recorded end, by job",
            self.cron_duration.clone(),
        );
        r.register(
            "zeroclaw_agent_responses",
            "Agent answers by provider and outcome (ok or the error kind)",
            self.agent_responses.clone(),
        );
        r.register(
            "zeroclaw_agent_request_duration_seconds",
            "Time the agent took to answer one message, tool loop included, by provider and outcome",
            self.agent_duration.clone(),
        );
        r.register(
            "zeroclaw_agent_tokens",
            "Tokens the providers reported, by provider, model and direction (in = prompt, out = completion)",
            self.agent_tokens.clone(),
        );
        r.register(
            "zeroclaw_agent_tool_calls",
            "Tool calls the model asked for, by tool",
            self.agent_tool_calls.clone(),
        );
        r.register_collector(Box::new(self.adhoc.clone()));
        r.register_collector(Box::new(process::Process));
    }

    /// One HTTP answer: counted by route and status, timed by route and
    /// status class ([`http`] keeps this off the families' locks).
    pub fn http_request(&self, route: &'static str, status: u16, elapsed: Duration) {
        self.http.record(route, status, elapsed);
    }

    /// An HTTP connection opened (`1`) or closed (`-1`).
    pub fn connections_add(&self, delta: i64) {
        self.open_connections.inc_by(delta);
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
    pub fn channel_message(&self, channel: &'static str, direction: &'static str) {
        self.channel_messages
            .get_or_create(&ChannelDirection { channel, direction })
            .inc();
    }

    /// One part delivered to `channel`'s service in `elapsed`.
    pub fn channel_sent(&self, channel: &'static str, elapsed: Duration) {
        self.channel_message(channel, "out");
        self.channel_send
            .get_or_create(&ChannelLabel { channel })
            .observe(elapsed.as_secs_f64());
    }

    /// `channel` completed a poll or got an event just now.
    pub fn channel_activity(&self, channel: &str) {
        if let Ok(mut map) = self.activity.lock() {
            map.insert(channel.to_string(), SystemTime::now());
        }
    }

    /// A cron run began (see [`Metrics::cron_changes`]).
    pub fn cron_started(&self) {
        self.cron_changes.bump();
    }

    /// A job was enabled or disabled (see [`Metrics::cron_changes`]).
    pub fn cron_changed(&self) {
        self.cron_changes.bump();
    }

    /// Moves whenever a cron run started or ended, or a job was enabled or
    /// disabled: what the status page waits on to read the jobs again.
    pub fn cron_changes(&self) -> &crate::component::Changes {
        &self.cron_changes
    }

    /// Cron runs by job and final status (without a duration: missed or skipped fires).
    pub fn cron_run(&self, job: &str, status: &str) {
        self.cron_changes.bump();
        self.cron_runs
            .get_or_create(&JobStatus {
                job: job.to_string(),
                status: status.to_string(),
            })
            .inc();
    }

    /// A cron run that ran, with how long it took.
    pub fn cron_finished(&self, job: &str, status: &str, elapsed: Duration) {
        self.cron_run(job, status);
        self.cron_duration
            .get_or_create(&JobLabel {
                job: job.to_string(),
            })
            .observe(elapsed.as_secs_f64());
    }

    /// One answer of the agent (`outcome` = `ok` or the error kind).
    pub fn agent_response(&self, provider: &str, outcome: &'static str, elapsed: Duration) {
        let labels = ProviderOutcome {
            provider: provider.to_string(),
            outcome,
        };
        self.agent_responses.get_or_create(&labels).inc();
        self.agent_duration
            .get_or_create(&labels)
            .observe(elapsed.as_secs_f64());
    }

    /// Tokens a provider reported for one completion.
    pub fn agent_tokens(&self, provider: &str, model: &str, input: u64, output: u64) {
        for (direction, n) in [("in", input), ("out", output)] {
            if n > 0 {
                self.agent_tokens
                    .get_or_create(&TokenLabels {
                        provider: provider.to_string(),
                        model: model.to_string(),
                        direction,
                    })
                    .inc_by(n);
            }
        }
    }

    /// The model asked for `tool`.
    pub fn agent_tool_call(&self, tool: &str) {
        self.agent_tool_calls
            .get_or_create(&ToolLabel {
                tool: tool.to_string(),
            })
            .inc();
    }

    /// Add one to the counter `name{labels}` (`name` ends in `_total`): for a
    /// component's own counter; its `# HELP` comes from [`adhoc`]'s table.
    pub fn inc(&self, name: &'static str, labels: &[(&'static str, &str)]) {
        self.adhoc.inc(name, labels);
    }

    /// Add `delta` to the gauge `name{labels}` (a component's own gauge).
    pub fn gauge_add(&self, name: &'static str, labels: &[(&'static str, &str)], delta: i64) {
        self.adhoc.gauge_add(name, labels, delta);
    }

    /// Set the gauge `name{labels}` (a component's own gauge, like [`Metrics::inc`]).
    pub fn gauge_set(&self, name: &'static str, labels: &[(&'static str, &str)], value: i64) {
        self.adhoc.gauge_set(name, labels, value);
    }

    /// Every counter now, for tests and `status`-like reports.
    pub fn counters(&self) -> Vec<Series> {
        series::counters(&self.render_prometheus(None, 0))
    }

    /// Everything in the Prometheus text format (version 0.0.4): the
    /// families above, the process, and, from the tree's snapshot, restarts
    /// and the state of each child (one 0/1 series per possible state, so a
    /// dashboard can graph and alert on `state="failed"`).
    pub fn render_prometheus(&self, tree: Option<&TreeSnapshot>, uptime_secs: u64) -> String {
        let mut out = String::with_capacity(8192);
        let activity = self.activity.lock().map(|m| m.clone()).unwrap_or_default();
        let now = scrape::Scrape {
            tree,
            uptime_secs,
            activity: &activity,
        }
        .registry();
        // Writing into a String cannot fail; an encoder error would only
        // mean a family refused to encode, and the rest is still worth serving.
        if let Err(e) = prometheus_text::encode(&mut out, &self.registry)
            .and_then(|()| prometheus_text::encode(&mut out, &now))
        {
            tracing::warn!(error = %e, "a metrics family failed to encode");
        }
        out
    }
}

#[cfg(test)]
mod tests;
