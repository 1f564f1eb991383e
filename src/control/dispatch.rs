//! Method name → handler. Adding a request is one line in `dispatch`.

use super::deps::ControlDeps;
use super::lifecycle::LifecycleRequest;
use super::protocol::ControlError;
use serde_json::{Value, json};

/// Run one request against the live tree.
pub async fn dispatch(
    ctx: &ControlDeps,
    method: &str,
    params: Value,
) -> Result<Value, ControlError> {
    match method {
        "status" => status(ctx).await,
        "restart" => restart(ctx, &params).await,
        "reload" => reload(ctx).await,
        "shutdown" => shutdown(ctx),
        "channel.list" => channel_list(ctx).await,
        "channel.doctor" => {
            Ok(json!({"checks": crate::channels::doctor::run(&ctx.config()).await}))
        }
        m if m.starts_with("cron.") => match &ctx.cron {
            Some(cron) => crate::cron::control::handle(cron, m, params)
                .await
                .unwrap_or_else(|| Err(unknown(m))),
            None => Err(ControlError::internal(
                "cron is not initialised in this daemon (no job store)",
            )),
        },
        _ => Err(unknown(method)),
    }
}

fn unknown(method: &str) -> ControlError {
    ControlError::new(
        "unknown_method",
        format!("unknown method `{method}`; see docs/control-protocol.md"),
    )
}

/// Configured channels with their child's state.
async fn channel_list(ctx: &ControlDeps) -> Result<Value, ControlError> {
    let snapshot = tree(ctx)?
        .snapshot()
        .await
        .map_err(|e| ControlError::internal(e.to_string()))?;
    let channels: Vec<Value> = crate::channels::configured(&ctx.config())
        .into_iter()
        .map(|c| {
            let child = snapshot.children.iter().find(|s| s.name == c.name);
            json!({
                "name": c.name,
                "enabled": c.enabled,
                "mode": c.mode,
                "state": child.map(|s| s.state),
                "restarts": child.map(|s| s.restarts),
                "detail": ctx.status.get_named(c.name),
            })
        })
        .collect();
    Ok(json!({ "channels": channels }))
}

/// The string parameter `key`, or a `bad_request` naming it.
pub fn str_param<'a>(params: &'a Value, key: &str) -> Result<&'a str, ControlError> {
    params
        .get(key)
        .and_then(Value::as_str)
        .ok_or_else(|| ControlError::bad_request(format!("missing string parameter `{key}`")))
}

fn tree(ctx: &ControlDeps) -> Result<&zeroclaw_actors::SupervisorHandle, ControlError> {
    Ok(&ctx.tree)
}

async fn status(ctx: &ControlDeps) -> Result<Value, ControlError> {
    let snapshot = tree(ctx)?
        .snapshot()
        .await
        .map_err(|e| ControlError::internal(e.to_string()))?;
    let children: Vec<Value> = snapshot
        .children
        .into_iter()
        .map(|c| {
            let mut v = json!({
                "name": c.name,
                "state": c.state,
                "restarts": c.restarts,
                "last_exit": c.last_exit,
                "uptime_secs": c.uptime_secs,
                "next_restart_ms": c.next_restart_ms,
            });
            if let Some(detail) = ctx.status.get_named(&c.name) {
                v["detail"] = Value::String(detail);
            }
            v
        })
        .collect();
    Ok(json!({
        "pid": std::process::id(),
        "version": crate::VERSION,
        "uptime_secs": ctx.started.elapsed().as_secs(),
        "config": ctx.config_path.as_ref().map(|p| p.display().to_string()),
        "children": children,
    }))
}

async fn restart(ctx: &ControlDeps, params: &Value) -> Result<Value, ControlError> {
    let child = str_param(params, "child")?;
    match tree(ctx)?.restart_child(child).await {
        Ok(()) => Ok(json!({"restarted": child})),
        Err(zeroclaw_actors::SupervisorError::UnknownChild(name)) => {
            let names: Vec<String> = tree(ctx)?
                .snapshot()
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

async fn reload(ctx: &ControlDeps) -> Result<Value, ControlError> {
    let (reply, answer) = tokio::sync::oneshot::channel();
    ctx.lifecycle.send(LifecycleRequest::Reload(reply))?;
    match answer.await {
        Ok(Ok(report)) => {
            serde_json::to_value(report).map_err(|e| ControlError::internal(e.to_string()))
        }
        Ok(Err(errors)) => Err(ControlError::new("invalid_config", errors)),
        Err(_) => Err(ControlError::internal("the daemon is shutting down")),
    }
}

fn shutdown(ctx: &ControlDeps) -> Result<Value, ControlError> {
    ctx.lifecycle.send(LifecycleRequest::Shutdown)?;
    Ok(json!({"stopping": true, "pid": std::process::id()}))
}
