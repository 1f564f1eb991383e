//! What every child of the tree shares: config, agent, metrics, the tree itself.

use crate::agent::Agent;
use crate::config::Config;
use crate::metrics::Metrics;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock, RwLock};
use tokio::time::Instant;
use zeroclaw_actors::SupervisorHandle;

/// Shared by all children; children read the current config through it so a
/// reload that restarts them hands them the new one.
pub struct DaemonCtx {
    config: RwLock<Arc<Config>>,
    agent: RwLock<Arc<Agent>>,
    /// The file the config came from (`None` = built-in defaults).
    pub config_path: Option<PathBuf>,
    pub workdir: PathBuf,
    pub metrics: Arc<Metrics>,
    /// Set once the root supervisor is up.
    pub tree: OnceLock<SupervisorHandle>,
    /// Cron's store and run limiter, set by `cron::init` before the jobs start.
    pub cron: OnceLock<crate::cron::CronHandle>,
    pub started: Instant,
    /// The logging pipeline (the `logger` child drains it).
    pub log: OnceLock<crate::logging::LogHandle>,
    /// The main loop's inbox for reload/shutdown (set by the daemon at start).
    pub lifecycle: OnceLock<super::lifecycle::LifecycleSender>,
    /// Free-form per-child details shown by `status` (e.g. the gateway's bound address).
    details: Mutex<BTreeMap<String, String>>,
}

impl DaemonCtx {
    pub fn new(
        config: Config,
        config_path: Option<PathBuf>,
        workdir: PathBuf,
        agent: Agent,
    ) -> Self {
        // The agent counts into the daemon's metrics, whoever built it.
        let metrics = Arc::new(Metrics::default());
        let agent = agent.with_metrics(metrics.clone());
        Self {
            config: RwLock::new(Arc::new(config)),
            agent: RwLock::new(Arc::new(agent)),
            config_path,
            workdir,
            metrics,
            tree: OnceLock::new(),
            cron: OnceLock::new(),
            started: Instant::now(),
            lifecycle: OnceLock::new(),
            log: OnceLock::new(),
            details: Mutex::new(BTreeMap::new()),
        }
    }

    /// The shared context for `config`, with the agent it describes: what the
    /// daemon builds at start, and what a test or bench needs to run one
    /// component without the tree.
    pub fn build(
        config: Config,
        config_path: Option<PathBuf>,
        workdir: PathBuf,
    ) -> Result<Ctx, crate::agent::AgentError> {
        let agent = Agent::new(&config, workdir.clone())?;
        Ok(Arc::new(Self::new(config, config_path, workdir, agent)))
    }

    /// The config in force now.
    pub fn config(&self) -> Arc<Config> {
        match self.config.read() {
            Ok(c) => c.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    pub fn set_config(&self, config: Config) {
        match self.config.write() {
            Ok(mut c) => *c = Arc::new(config),
            Err(poisoned) => *poisoned.into_inner() = Arc::new(config),
        }
    }

    /// The agent in force now (rebuilt on reload when its config changed).
    pub fn agent(&self) -> Arc<Agent> {
        match self.agent.read() {
            Ok(a) => a.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    pub fn set_agent(&self, agent: Agent) {
        let agent = agent.with_metrics(self.metrics.clone());
        match self.agent.write() {
            Ok(mut a) => *a = Arc::new(agent),
            Err(poisoned) => *poisoned.into_inner() = Arc::new(agent),
        }
    }

    /// The registry name of a child of this daemon's tree (`None` before the tree is up).
    pub fn child_name(&self, child: &str) -> Option<String> {
        self.tree.get().map(|t| t.registered_name(child))
    }

    pub fn set_detail(&self, child: &str, detail: impl Into<String>) {
        if let Ok(mut d) = self.details.lock() {
            d.insert(child.to_string(), detail.into());
        }
    }

    pub fn detail(&self, child: &str) -> Option<String> {
        self.details.lock().ok()?.get(child).cloned()
    }
}

/// The shared context as children hold it.
pub type Ctx = Arc<DaemonCtx>;
