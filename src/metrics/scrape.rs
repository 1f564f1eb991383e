//! What is read at scrape time rather than counted: the tree's restarts and
//! states, the daemon's uptime, each channel's last activity.

use super::labels::{ChildLabel, ChildStateLabels};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;
use std::collections::BTreeMap;
use std::time::SystemTime;
use zeroclaw_actors::{ChildState, TreeSnapshot};

const STATES: [(ChildState, &str); 5] = [
    (ChildState::Starting, "starting"),
    (ChildState::Running, "running"),
    (ChildState::Backoff, "backoff"),
    (ChildState::Failed, "failed"),
    (ChildState::Stopped, "stopped"),
];

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ChannelName {
    channel: String,
}

pub(super) struct Scrape<'a> {
    pub tree: Option<&'a TreeSnapshot>,
    pub uptime_secs: u64,
    pub activity: &'a BTreeMap<String, SystemTime>,
}

impl Scrape<'_> {
    /// A registry of this scrape's values, encoded after the counted ones.
    pub fn registry(&self) -> Registry {
        let mut r = Registry::default();
        let uptime: Gauge = Gauge::default();
        uptime.set(i64::try_from(self.uptime_secs).unwrap_or(i64::MAX));
        r.register(
            "zeroclaw_uptime_seconds",
            "Seconds since the daemon started",
            uptime,
        );
        self.channels(&mut r);
        if let Some(tree) = self.tree {
            tree_families(&mut r, tree);
        }
        r
    }

    fn channels(&self, r: &mut Registry) {
        let last: Family<ChannelName, Gauge> = Family::default();
        let idle: Family<ChannelName, Gauge> = Family::default();
        let now = SystemTime::now();
        for (channel, at) in self.activity {
            let labels = ChannelName {
                channel: channel.clone(),
            };
            let unix = at
                .duration_since(SystemTime::UNIX_EPOCH)
                .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
            last.get_or_create(&labels).set(unix);
            let since = now
                .duration_since(*at)
                .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
            idle.get_or_create(&labels).set(since);
        }
        r.register(
            "zeroclaw_channel_last_activity_seconds",
            "Unix time of the channel's last completed poll or event from its service",
            last,
        );
        r.register(
            "zeroclaw_channel_idle_seconds",
            "Seconds since the channel's last completed poll or event from its service",
            idle,
        );
    }
}

fn tree_families(r: &mut Registry, tree: &TreeSnapshot) {
    let restarts: Family<ChildLabel, Counter> = Family::default();
    let requested: Family<ChildLabel, Counter> = Family::default();
    let state: Family<ChildStateLabels, Gauge> = Family::default();
    for c in &tree.children {
        restarts
            .get_or_create(&ChildLabel {
                child: c.name.clone(),
            })
            .inc_by(c.restarts);
        requested
            .get_or_create(&ChildLabel {
                child: c.name.clone(),
            })
            .inc_by(c.restarts_requested);
        for (s, name) in STATES {
            state
                .get_or_create(&ChildStateLabels {
                    child: c.name.clone(),
                    state: name,
                })
                .set(i64::from(c.state == s));
        }
    }
    r.register(
        "zeroclaw_child_restarts",
        "Restarts of each child since the tree started",
        restarts,
    );
    r.register(
        "zeroclaw_child_requested_restarts",
        "Restarts of each child an operator asked for (zeroclaw restart) since the tree started",
        requested,
    );
    r.register(
        "zeroclaw_child_state",
        "Lifecycle state of each child (1 = in this state)",
        state,
    );
}
