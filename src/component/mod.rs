//! The component contract: what every child of the tree (logger, gateway,
//! each channel, cron, control) states about itself, and the small shared
//! pieces the daemon builds before the tree starts and hands to the
//! components that use them. See docs/architecture.md, "The component contract".

pub mod live;
pub mod names;
pub mod registry;
pub mod status;

pub use live::Live;
pub use names::{ChannelKind, ChildName, UnknownChild};
pub use registry::Registry;
pub use status::{Activity, StatusBoard, StatusLine};
/// A change counter (the tree has one too): what a live view waits on.
pub use zeroclaw_actors::Changes;

use crate::config::Config;
use zeroclaw_actors::{ChildSpec, RestartPolicy};

/// One component of the daemon. It is built from exactly the dependencies
/// it uses (each component's constructor lists them), so a component never
/// reaches into a shared context and nothing is filled in after the tree
/// starts. None of the methods has a default: a new component that does not
/// say when it must restart does not compile.
pub trait Component: Send + Sync {
    /// The children this component runs under `config`, in start order.
    fn children(&self, config: &Config) -> Vec<ChildName>;

    /// The spec of `child` (one of [`Component::children`]) under `config`.
    fn spec(&self, child: &ChildName, config: &Config, policy: RestartPolicy) -> Option<ChildSpec>;

    /// Whether the change from `old` to `new` requires restarting `child`
    /// (beyond its restart policy, which the daemon compares for every child).
    fn restart_needed(&self, child: &ChildName, old: &Config, new: &Config) -> bool;
}

/// The specs of every child `component` runs under `config`, each with the
/// policy `policy_for` gives its name.
pub fn specs_of(
    component: &dyn Component,
    config: &Config,
    policy_for: &dyn Fn(&ChildName) -> RestartPolicy,
) -> Vec<ChildSpec> {
    component
        .children(config)
        .into_iter()
        .filter_map(|child| component.spec(&child, config, policy_for(&child)))
        .collect()
}
