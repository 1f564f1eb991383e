//! The dependencies the daemon builds, bottom-up, before the tree starts,
//! and the narrow set each component is handed out of them (see "The
//! component contract" in docs/architecture.md). Components never see this
//! struct.

use crate::agent::tools::schedule::Scheduler;
use crate::agent::{Agent, AgentError};
use crate::channels::ChannelDeps;
use crate::cluster::Leadership;
use crate::component::{ChannelKind, Live, Registry, StatusBoard};
use crate::config::Config;
use crate::cron::Cron;
use crate::cron::control::CronControl;
use crate::cron::control_runtime::TreeOps;
use crate::cron::{AgentRunner, CronHandle, JobDeps};
use crate::gateway::GatewayDeps;
use crate::mcp::McpHub;
use crate::metrics::Metrics;
use crate::store::Store;
use std::path::PathBuf;
use std::sync::Arc;
use tokio::time::Instant;
use zeroclaw_actors::TreeReader;

/// What several components share; each gets only its part.
pub struct Shared {
    /// The config in force (a reload replaces it).
    pub config: Live<Config>,
    /// The agent in force (a reload rebuilds it when its config changed).
    pub agent: Live<Agent>,
    pub metrics: Arc<Metrics>,
    /// The MCP servers' sessions and tools, shared by their children and the agent.
    pub mcp: McpHub,
    pub status: StatusBoard,
    /// Where the tree registers its children.
    pub registry: Registry,
    /// The file the config came from (`None` = built-in defaults).
    pub config_path: Option<PathBuf>,
    pub workdir: PathBuf,
    pub started: Instant,
    /// All durable state (`None` in `zeroclaw gateway`, which opens none).
    pub store: Option<Arc<dyn Store>>,
    /// This instance's role in a cluster (always leader without one).
    pub leadership: Leadership,
    /// What the agent's `schedule` tools drive (cron's runtime jobs).
    pub scheduler: Option<Arc<dyn Scheduler>>,
}

impl Shared {
    /// The dependencies for `config`, with the agent it describes, for a tree
    /// in the daemon's namespace: what the daemon builds at start, and what a
    /// test or bench needs to run one component without the tree.
    pub fn build(
        config: Config,
        config_path: Option<PathBuf>,
        workdir: PathBuf,
    ) -> Result<Self, AgentError> {
        Self::build_with_store(config, config_path, workdir, None)
    }

    /// [`Shared::build`] over the state store: the agent keeps conversation
    /// memory in it.
    pub fn build_with_store(
        config: Config,
        config_path: Option<PathBuf>,
        workdir: PathBuf,
        store: Option<Arc<dyn Store>>,
    ) -> Result<Self, AgentError> {
        let agent = Agent::new(&config, workdir.clone())?.with_store(store.clone());
        // The agent counts into the daemon's metrics, whoever built it.
        let metrics = Arc::new(Metrics::default());
        let mcp = McpHub::new(Some(metrics.clone()));
        let agent = agent.with_metrics(metrics.clone()).with_mcp(mcp.clone());
        Ok(Self {
            config: Live::new(config),
            agent: Live::new(agent),
            metrics,
            mcp,
            status: StatusBoard::new(),
            registry: Registry::default(),
            config_path,
            workdir,
            started: Instant::now(),
            store,
            leadership: Leadership::single(),
            scheduler: None,
        })
    }

    /// Cron's control over its jobs in the tree of this namespace (reached
    /// by name, so this is built before the tree starts).
    pub fn cron_control(&self, cron: CronHandle) -> CronControl {
        let component = Cron::new(
            self.job_deps(cron.clone()),
            Arc::new(self.agent_runner()),
            self.registry.clone(),
        );
        CronControl {
            cron,
            config: self.config.clone(),
            tree: Some(TreeOps {
                handle: TreeReader::new(self.registry.namespace()),
                cron: component,
                policy: super::tree::policy_for,
            }),
        }
    }

    /// With the `schedule` tools served by `scheduler` (the agent is
    /// rebuilt with it, before the tree starts).
    pub fn with_scheduler(
        mut self,
        scheduler: Option<Arc<dyn Scheduler>>,
    ) -> Result<Self, AgentError> {
        self.scheduler = scheduler;
        let agent = Agent::new(&self.config.get(), self.workdir.clone())?;
        self.set_agent(agent);
        Ok(self)
    }

    /// For a tree started under another namespace (tests run trees side by side).
    pub fn in_namespace(mut self, namespace: &str) -> Self {
        self.registry = Registry::new(namespace);
        self
    }

    /// Replace the agent; it counts into the daemon's metrics and calls
    /// the tools of the running MCP servers.
    pub fn set_agent(&self, agent: Agent) {
        self.agent.set(
            agent
                .with_metrics(self.metrics.clone())
                .with_mcp(self.mcp.clone())
                .with_store(self.store.clone())
                .with_scheduler(self.scheduler.clone()),
        );
    }

    /// The MCP servers' children.
    pub fn mcp_component(&self) -> crate::mcp::Mcp {
        crate::mcp::Mcp::new(self.mcp.clone(), &self.status, self.workdir.clone())
    }

    /// The status line of the child named `child`.
    pub fn detail(&self, child: &str) -> Option<String> {
        self.status.get_named(child)
    }

    pub fn channel_deps(&self, kind: ChannelKind) -> ChannelDeps {
        ChannelDeps::new(
            kind,
            self.config.clone(),
            self.agent.clone(),
            self.metrics.clone(),
            &self.status,
        )
        .with_shared_store(self.store.clone())
    }

    pub fn gateway_deps(&self) -> GatewayDeps {
        GatewayDeps::new(
            self.config.clone(),
            self.agent.clone(),
            self.metrics.clone(),
            &self.status,
            self.registry.clone(),
            self.started,
        )
        .with_leadership(self.leadership.clone())
    }

    pub fn job_deps(&self, cron: CronHandle) -> JobDeps {
        JobDeps {
            cron,
            config: self.config.clone(),
            metrics: self.metrics.clone(),
        }
    }

    /// Cron's production runner: the agent, then delivery to a channel of this tree.
    pub fn agent_runner(&self) -> AgentRunner {
        AgentRunner::new(self.agent.clone(), self.registry.clone())
    }
}
