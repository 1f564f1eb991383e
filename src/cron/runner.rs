//! What one run of a job does: ask the agent, deliver the answer.
//!
//! The job actor only knows the [`Runner`] trait, so tests and benchmarks can
//! substitute a slow, failing or counting runner without touching the agent.

use super::store::RunStatus;
use crate::channels::msg::ChannelMsg;
use crate::config::CronJob;
use crate::daemon::Ctx;
use futures_util::future::BoxFuture;
use ractor::ActorRef;
use ractor::rpc::CallResult;
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

/// The production runner: agent → delivery.
pub struct AgentRunner {
    ctx: Ctx,
}

impl AgentRunner {
    pub fn new(ctx: Ctx) -> Self {
        Self { ctx }
    }
}

impl Runner for AgentRunner {
    fn run(&self, job_id: String, job: Arc<CronJob>) -> BoxFuture<'static, RunOutcome> {
        let ctx = self.ctx.clone();
        Box::pin(async move {
            let request = crate::agent::AgentRequest {
                session: format!("cron:{job_id}"),
                message: job.message.clone(),
                provider: job.provider.clone(),
                model: job.model.clone(),
                tools: job.tools.clone(),
            };
            let answer = match ctx.agent().respond(request).await {
                Ok(a) => a,
                Err(e) => return RunOutcome::error(format!("agent: {e}")),
            };
            let Some(target) = job.deliver_to.as_deref() else {
                return RunOutcome::ok(answer);
            };
            match deliver(&ctx, target, &answer).await {
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

/// `telegram:<chat>` → (`telegram`, `<chat>`).
pub fn parse_target(deliver_to: &str) -> Result<(&str, &str), String> {
    let (channel, target) = deliver_to.split_once(':').ok_or_else(|| {
        format!(
            "deliver_to `{deliver_to}` must be `<channel>:<id>`, e.g. `telegram:123456789`, \
             `discord:<channel id>` or `slack:<channel id>`"
        )
    })?;
    if !matches!(channel, "telegram" | "discord" | "slack") {
        return Err(format!(
            "deliver_to `{deliver_to}`: unknown channel `{channel}` (use telegram, discord or slack)"
        ));
    }
    if target.trim().is_empty() {
        return Err(format!(
            "deliver_to `{deliver_to}`: the chat/channel id after `{channel}:` is empty"
        ));
    }
    Ok((channel, target))
}

/// Hand `text` to the channel actor by its registry name and wait for its verdict.
pub async fn deliver(ctx: &Ctx, deliver_to: &str, text: &str) -> Result<(), String> {
    let (channel, _) = parse_target(deliver_to)?;
    let registry_name = ctx.child_name(&format!("channel:{channel}"));
    deliver_via(registry_name, deliver_to, text).await
}

/// [`deliver`] with the channel actor's registry name already looked up
/// (`None` = no tree), so tests can register a fake channel under any name.
pub async fn deliver_via(
    registry_name: Option<String>,
    deliver_to: &str,
    text: &str,
) -> Result<(), String> {
    let (channel, target) = parse_target(deliver_to)?;
    let child = format!("channel:{channel}");
    let Some(name) = registry_name else {
        return Err(format!(
            "delivery to {deliver_to} failed: the daemon's supervision tree is not running"
        ));
    };
    let Some(cell) = ractor::registry::where_is(name) else {
        return Err(format!(
            "delivery to {deliver_to} failed: channel `{child}` is not running \
             (is [channel.{channel}] configured and enabled? see `zeroclaw status`)"
        ));
    };
    let actor: ActorRef<ChannelMsg> = cell.into();
    let (target, text) = (target.to_string(), text.to_string());
    match actor
        .call(
            move |reply| ChannelMsg::Deliver {
                target,
                text,
                reply: Some(reply),
            },
            Some(DELIVERY_TIMEOUT),
        )
        .await
    {
        Ok(CallResult::Success(Ok(()))) => Ok(()),
        Ok(CallResult::Success(Err(e))) => Err(format!("delivery to {deliver_to} failed: {e}")),
        Ok(CallResult::Timeout) => Err(format!(
            "delivery to {deliver_to} failed: `{child}` did not answer within {}s",
            DELIVERY_TIMEOUT.as_secs()
        )),
        Ok(CallResult::SenderError) => Err(format!(
            "delivery to {deliver_to} failed: `{child}` stopped before answering"
        )),
        Err(e) => Err(format!("delivery to {deliver_to} failed: `{child}`: {e}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets() {
        assert_eq!(parse_target("telegram:123").unwrap(), ("telegram", "123"));
        assert_eq!(parse_target("slack:C01").unwrap(), ("slack", "C01"));
        assert!(
            parse_target("telegram")
                .unwrap_err()
                .contains("<channel>:<id>")
        );
        assert!(
            parse_target("irc:#x")
                .unwrap_err()
                .contains("unknown channel")
        );
        assert!(parse_target("discord:").unwrap_err().contains("empty"));
    }
}
