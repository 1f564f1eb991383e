//! What one run of a job does: ask the agent, deliver the answer.
//!
//! The job actor only knows the [`Runner`] trait, so tests and benchmarks can
//! substitute a slow, failing or counting runner without touching the agent.

use super::store::RunStatus;
use crate::agent::Agent;
use crate::channels::DeliverTarget;
use crate::component::{Live, Registry};
use crate::config::CronJob;
use futures_util::future::BoxFuture;
use std::sync::Arc;
use std::time::Duration;

/// How long a channel may take to accept a delivery.
pub const DELIVERY_TIMEOUT: Duration = Duration::from_secs(30);

/// The result of one run, before it is recorded.
#[derive(Debug, Clone, PartialEq)]
pub struct RunOutcome {
    pub status: RunStatus,
    pub output: Option<String>,
    pub error: Option<String>,
}

impl RunOutcome {
    pub fn ok(output: impl Into<String>) -> Self {
        Self {
            status: RunStatus::Ok,
            output: Some(output.into()),
            error: None,
        }
    }

    pub fn error(error: impl Into<String>) -> Self {
        Self {
            status: RunStatus::Error,
            output: None,
            error: Some(error.into()),
        }
    }
}

/// One run of a job. The job's timeout is applied around it by the actor.
pub trait Runner: Send + Sync + 'static {
    fn run(&self, job_id: String, job: Arc<CronJob>) -> BoxFuture<'static, RunOutcome>;
}

/// The production runner: agent → delivery through the channel child.
pub struct AgentRunner {
    agent: Live<Agent>,
    registry: Registry,
}

impl AgentRunner {
    /// `registry` is the tree the channels to deliver to run in.
    pub fn new(agent: Live<Agent>, registry: Registry) -> Self {
        Self { agent, registry }
    }
}

impl Runner for AgentRunner {
    fn run(&self, job_id: String, job: Arc<CronJob>) -> BoxFuture<'static, RunOutcome> {
        let (agent, registry) = (self.agent.get(), self.registry.clone());
        Box::pin(async move {
            let request = crate::agent::AgentRequest {
                session: format!("cron:{job_id}"),
                message: job.message.clone(),
                provider: job.provider.clone(),
                model: job.model.clone(),
                tools: job.tools.clone(),
            };
            let answer = match agent.respond(request).await {
                Ok(a) => a,
                Err(e) => return RunOutcome::error(format!("agent: {e}")),
            };
            let Some(target) = job.deliver_to.as_deref() else {
                return RunOutcome::ok(answer);
            };
            match deliver(&registry, target, &answer).await {
                Ok(()) => RunOutcome::ok(answer),
                Err(e) => RunOutcome {
                    status: RunStatus::Error,
                    output: Some(answer),
                    error: Some(e),
                },
            }
        })
    }
}

/// Hand `text` to the channel child of `deliver_to` and wait for its verdict.
pub async fn deliver(registry: &Registry, deliver_to: &str, text: &str) -> Result<(), String> {
    let target = DeliverTarget::parse(deliver_to).map_err(|e| e.to_string())?;
    deliver_via(&registry.name_of(&target.child()), deliver_to, text).await
}

/// [`deliver`] to the channel actor registered as `registered`, so tests
/// can register a fake channel under any name.
pub async fn deliver_via(registered: &str, deliver_to: &str, text: &str) -> Result<(), String> {
    let target = DeliverTarget::parse(deliver_to).map_err(|e| e.to_string())?;
    crate::channels::deliver_at(registered, &target, text, DELIVERY_TIMEOUT)
        .await
        .map_err(|e| format!("delivery to {deliver_to} failed: {e}"))
}
