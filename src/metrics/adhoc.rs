//! Counters and gauges a component names itself ([`super::Metrics::inc`]),
//! rendered by a collector so each still gets `# HELP` and `# TYPE`.

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::MetricType;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use std::collections::BTreeMap;
use std::sync::RwLock;

type Labels = Vec<(&'static str, String)>;

/// The help of the names components are known to use; any other name is
/// described by the fallback in [`help`], so no family goes without one.
const HELP: &[(&str, &str)] = &[
    (
        "zeroclaw_mcp_tool_calls_total",
        "MCP tool calls by server and tool",
    ),
    (
        "zeroclaw_mcp_tool_errors_total",
        "MCP tool calls that failed, timed out or returned isError, by server and tool",
    ),
];

#[derive(Debug, Default)]
pub(super) struct AdHoc {
    counters: RwLock<BTreeMap<&'static str, Family<Labels, Counter>>>,
    gauges: RwLock<BTreeMap<&'static str, Family<Labels, Gauge>>>,
}

fn owned(labels: &[(&'static str, &str)]) -> Labels {
    labels.iter().map(|(k, v)| (*k, (*v).to_string())).collect()
}

fn help(name: &str) -> String {
    HELP.iter().find(|(n, _)| *n == name).map_or_else(
        || format!("{name}, as counted by its component."),
        |(_, h)| format!("{h}."),
    )
}

impl AdHoc {
    pub fn inc(&self, name: &'static str, labels: &[(&'static str, &str)]) {
        let labels = owned(labels);
        if let Ok(map) = self.counters.read()
            && let Some(f) = map.get(name)
        {
            f.get_or_create(&labels).inc();
            return;
        }
        if let Ok(mut map) = self.counters.write() {
            map.entry(name).or_default().get_or_create(&labels).inc();
        }
    }

    pub fn gauge_add(&self, name: &'static str, labels: &[(&'static str, &str)], delta: i64) {
        if let Ok(mut map) = self.gauges.write() {
            map.entry(name)
                .or_default()
                .get_or_create(&owned(labels))
                .inc_by(delta);
        }
    }

    pub fn gauge_set(&self, name: &'static str, labels: &[(&'static str, &str)], value: i64) {
        if let Ok(mut map) = self.gauges.write() {
            map.entry(name)
                .or_default()
                .get_or_create(&owned(labels))
                .set(value);
        }
    }
}

impl Collector for AdHoc {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        if let Ok(map) = self.counters.read() {
            for (name, family) in map.iter().filter(|(_, f)| !f.is_empty()) {
                // The encoder adds the `_total` of a counter itself.
                let base = name.strip_suffix("_total").unwrap_or(name);
                let m = encoder.encode_descriptor(base, &help(name), None, MetricType::Counter)?;
                family.encode(m)?;
            }
        }
        if let Ok(map) = self.gauges.read() {
            for (name, family) in map.iter().filter(|(_, f)| !f.is_empty()) {
                let m = encoder.encode_descriptor(name, &help(name), None, MetricType::Gauge)?;
                family.encode(m)?;
            }
        }
        Ok(())
    }
}
