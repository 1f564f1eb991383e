//! Which children the daemon runs, in start order, and with which policy.

use super::Ctx;
use crate::config::Config;
use std::time::Duration;
use zeroclaw_actors::{ChildSpec, RestartPolicy};

/// What the process runs: the whole tree, or `zeroclaw gateway`'s subset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Full,
    GatewayOnly,
}

/// `[supervisor]` with the `[supervisor.children.<child>]` override applied.
pub fn policy_for(config: &Config, child: &str) -> RestartPolicy {
    let s = &config.supervisor;
    let o = s.children.get(child).cloned().unwrap_or_default();
    RestartPolicy {
        restart: o.restart.unwrap_or(s.restart),
        restart_sec: o.restart_sec.unwrap_or(s.restart_sec),
        restart_steps: o.restart_steps.unwrap_or(s.restart_steps),
        restart_max_delay: o.restart_max_delay.or(s.restart_max_delay),
        start_limit_burst: o.start_limit_burst.unwrap_or(s.start_limit_burst),
        start_limit_interval: o.start_limit_interval.unwrap_or(s.start_limit_interval),
        on_give_up: o.on_give_up.unwrap_or(s.on_give_up),
        start_timeout: Duration::from_secs(30),
        stop_timeout: Duration::from_secs(5),
    }
}

/// The children of DESIGN.md's tree, in start order (stop order is the reverse).
pub fn children(ctx: &Ctx, mode: Mode) -> Result<Vec<ChildSpec>, String> {
    let config = ctx.config();
    let policy = |name: &str| policy_for(&config, name);
    let mut specs = Vec::new();
    if let Some(log) = ctx.log.get() {
        specs.push(crate::logging::child_spec(
            log.clone(),
            policy(crate::logging::CHILD_NAME),
        ));
    }
    if config.gateway.enabled {
        specs.push(crate::gateway::child_spec(ctx.clone(), policy("gateway")));
    }
    if mode == Mode::Full {
        specs.extend(crate::channels::child_specs(ctx, policy));
        let jobs =
            crate::cron::child_specs(ctx, policy).map_err(|e| format!("cron job store: {e}"))?;
        specs.extend(jobs);
    }
    specs.push(crate::control::actor::child_spec(
        ctx.clone(),
        policy("control"),
    ));
    Ok(specs)
}
