//! Request → handler. A request is decoded once into a typed [`Call`]; each
//! handler answers a typed [`Reply`]. Adding a request is a variant of
//! `Call`, one of `Reply` and one arm in [`answer`] (the match is exhaustive).

use super::call::Call;
use super::deps::ControlDeps;
use super::lifecycle::LifecycleRequest;
use super::protocol::{
    ChannelListReply, ChannelStatus, ChildStatus, ControlError, DoctorReply, ReloadReport, Reply,
    RestartReply, ShutdownReply, StatusReply,
};
use crate::agent::memory_control::{self, MemoryReply};
use serde_json::Value;
use zeroclaw_actors::TreeSnapshot;

/// Run one request against the live tree; the reply is the wire's `result`.
pub async fn dispatch(
    ctx: &ControlDeps,
    method: &str,
    params: Value,
) -> Result<Value, ControlError> {
    if method.starts_with("cron.") && ctx.cron.is_none() {
        return Err(ControlError::internal(
            "cron is not initialised in this daemon (no job store)",
        ));
    }
    let call = Call::from_wire(method, params)?;
    answer(ctx, call).await?.into_value()
}

/// Answer one typed request.
pub async fn answer(ctx: &ControlDeps, call: Call) -> Result<Reply, ControlError> {
    match call {
        Call::Status {} => status(ctx).await.map(Reply::Status),
        Call::Restart { child } => restart(ctx, &child).await.map(Reply::Restart),
        Call::Reload {} => reload(ctx).await.map(Reply::Reload),
        Call::Shutdown {} => shutdown(ctx).map(Reply::Shutdown),
        Call::ChannelList {} => channel_list(ctx).await.map(Reply::Channels),
        Call::ChannelDoctor {} => Ok(Reply::Doctor(DoctorReply {
            checks: crate::channels::doctor::run(&ctx.config()).await,
        })),
        Call::McpList {} => {
            let tree = snapshot(ctx).await?;
            let config = ctx.config();
            Ok(Reply::McpList(crate::mcp::control::list(
                &config,
                &ctx.mcp,
                &tree,
                &ctx.status,
            )))
        }
        Call::McpCall {
            server,
            tool,
            arguments,
        } => crate::mcp::control::call(&ctx.config(), &ctx.mcp, &server, &tool, &arguments)
            .await
            .map(Reply::McpCall)
            .map_err(ControlError::bad_request),
        cron @ (Call::CronList {}
        | Call::CronStatus { .. }
        | Call::CronEnable { .. }
        | Call::CronDisable { .. }
        | Call::CronRun { .. }
        | Call::CronRuns { .. }
        | Call::CronAdd(_)
        | Call::CronRemove { .. }) => match &ctx.cron {
            Some(c) => crate::cron::control::answer(c, cron)
                .await
                .map(|r| Reply::Cron(Box::new(r))),
            None => Err(ControlError::internal(
                "cron is not initialised in this daemon (no job store)",
            )),
        },
        Call::MemoryList {} | Call::MemoryShow { .. } | Call::MemoryClear { .. } => {
            memory(ctx, call).await.map(Reply::Memory)
        }
    }
}

async fn snapshot(ctx: &ControlDeps) -> Result<TreeSnapshot, ControlError> {
    ctx.tree
        .snapshot()
        .await
        .map_err(|e| ControlError::internal(e.to_string()))
}

/// Configured channels with their child's state.
async fn channel_list(ctx: &ControlDeps) -> Result<ChannelListReply, ControlError> {
    let snapshot = snapshot(ctx).await?;
    let channels = crate::channels::configured(&ctx.config())
        .into_iter()
        .map(|c| {
            let child = snapshot.children.iter().find(|s| s.name == c.name);
            ChannelStatus {
                name: c.name.to_string(),
                enabled: c.enabled,
                mode: c.mode.to_string(),
                state: child.map(|s| s.state),
                restarts: child.map(|s| s.restarts),
                detail: ctx.status.get_named(c.name),
            }
        })
        .collect();
    Ok(ChannelListReply { channels })
}

async fn status(ctx: &ControlDeps) -> Result<StatusReply, ControlError> {
    let children = snapshot(ctx)
        .await?
        .children
        .into_iter()
        .map(|snapshot| {
            let activity = ctx
                .status
                .activity_named(&snapshot.name)
                .map(crate::component::Activity::at);
            ChildStatus {
                detail: ctx.status.get_named(&snapshot.name),
                idle_secs: activity.as_ref().map(|a| a.idle_secs),
                last_activity: activity.map(|a| a.last_activity),
                snapshot,
            }
        })
        .collect();
    Ok(StatusReply {
        pid: std::process::id(),
        version: crate::VERSION.to_string(),
        uptime_secs: ctx.started.elapsed().as_secs(),
        config: ctx.config_path.as_ref().map(|p| p.display().to_string()),
        children,
        cluster: ctx.leadership.view(),
    })
}

async fn restart(ctx: &ControlDeps, child: &str) -> Result<RestartReply, ControlError> {
    match ctx.tree.restart_child(child).await {
        Ok(()) => Ok(RestartReply {
            restarted: child.to_string(),
        }),
        Err(zeroclaw_actors::SupervisorError::UnknownChild(name)) => {
            let names: Vec<String> = snapshot(ctx)
                .await
                .map(|s| s.children.into_iter().map(|c| c.name).collect())
                .unwrap_or_default();
            Err(ControlError::not_found(format!(
                "no child named `{name}`; children are: {}",
                names.join(", ")
            )))
        }
        Err(e) => Err(ControlError::internal(e.to_string())),
    }
}

async fn reload(ctx: &ControlDeps) -> Result<ReloadReport, ControlError> {
    let (reply, answer) = tokio::sync::oneshot::channel();
    ctx.lifecycle.send(LifecycleRequest::Reload(reply))?;
    match answer.await {
        Ok(Ok(report)) => Ok(report),
        Ok(Err(errors)) => Err(ControlError::new("invalid_config", errors)),
        Err(_) => Err(ControlError::internal("the daemon is shutting down")),
    }
}

fn shutdown(ctx: &ControlDeps) -> Result<ShutdownReply, ControlError> {
    ctx.lifecycle.send(LifecycleRequest::Shutdown)?;
    Ok(ShutdownReply {
        stopping: true,
        pid: std::process::id(),
    })
}

async fn memory(ctx: &ControlDeps, call: Call) -> Result<MemoryReply, ControlError> {
    let Some(m) = &ctx.memory else {
        return Err(ControlError::new(
            "unavailable",
            "this daemon keeps no conversation memory (`zeroclaw gateway` opens no state database)",
        ));
    };
    match call {
        Call::MemoryShow { session } => memory_control::show(m, session).await,
        Call::MemoryClear { session } => memory_control::clear(m, session).await,
        _ => memory_control::list(m).await,
    }
}
