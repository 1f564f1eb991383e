//! How children find each other: by name in ractor's registry, never by an
//! `ActorRef` held across restarts. The kernel names child `c` of the tree
//! started as `ns` by `zeroclaw_actors::registered_name` (see
//! docs/architecture.md), so the registry names are known before the tree
//! starts.

use super::names::ChildName;
use ractor::ActorCell;
use std::sync::Arc;

/// The namespace of one tree; cheap to clone.
#[derive(Clone, Debug)]
pub struct Registry {
    namespace: Arc<str>,
}

impl Registry {
    /// The daemon's tree is started under this namespace.
    pub const DAEMON: &'static str = "zeroclaw";

    pub fn new(namespace: &str) -> Self {
        Self {
            namespace: Arc::from(namespace),
        }
    }

    pub fn namespace(&self) -> &str {
        &self.namespace
    }

    /// The registry name `child` runs under.
    pub fn name_of(&self, child: &ChildName) -> String {
        zeroclaw_actors::registered_name(&self.namespace, &child.to_string())
    }

    /// The live actor of `child`, if it runs now.
    pub fn cell(&self, child: &ChildName) -> Option<ActorCell> {
        ractor::registry::where_is(self.name_of(child))
    }
}

impl Default for Registry {
    fn default() -> Self {
        Self::new(Self::DAEMON)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::component::ChannelKind;

    #[test]
    fn names_are_the_kernels_namespaced_names() {
        let r = Registry::new("t1");
        assert_eq!(
            r.name_of(&ChildName::Channel(ChannelKind::Slack)),
            "t1/channel:slack"
        );
        assert_eq!(
            Registry::default().name_of(&ChildName::Control),
            "zeroclaw/control"
        );
        assert!(r.cell(&ChildName::Gateway).is_none());
    }
}
