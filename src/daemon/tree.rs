//! Which components the daemon runs, in start order, and with which policy.

use super::wiring::Shared;
use crate::channels::Channel;
use crate::cluster::{Leadership, leader_only};
use crate::component::{ChannelKind, ChildName, Component};
use crate::config::Config;
use crate::control::actor::Control;
use crate::cron::{Cron, CronHandle};
use crate::gateway::Gateway;
use crate::logging::{LogHandle, Logger};
use crate::mcp::Mcp;
use std::sync::Arc;
use std::time::Duration;
use zeroclaw_actors::{ChildSpec, RestartPolicy};

/// What the process runs: the whole tree, or `zeroclaw gateway`'s subset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Full,
    GatewayOnly,
}

/// `[supervisor]` with the `[supervisor.children.<child>]` override applied.
pub fn policy_for(config: &Config, child: &ChildName) -> RestartPolicy {
    let s = &config.supervisor;
    let o = s
        .children
        .get(&child.to_string())
        .cloned()
        .unwrap_or_default();
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

/// Every component but control, built from the shared dependencies.
pub struct Components {
    logger: Logger,
    /// Started before every user of the servers' tools, stopped after them.
    mcp: Option<Mcp>,
    gateway: Gateway,
    /// Empty in [`Mode::GatewayOnly`].
    channels: Vec<Channel>,
    /// `None` in [`Mode::GatewayOnly`] (no job store is opened).
    cron: Option<Cron>,
    /// A follower runs no leader-only child.
    leadership: Leadership,
}

impl Components {
    pub fn build(shared: &Shared, log: LogHandle, cron: Option<CronHandle>, mode: Mode) -> Self {
        let full = mode == Mode::Full;
        let channels = match full {
            true => ChannelKind::ALL
                .into_iter()
                .map(|kind| Channel::new(shared.channel_deps(kind)))
                .collect(),
            false => Vec::new(),
        };
        let cron = cron.filter(|_| full);
        // The status page shows and drives the jobs as the control socket does.
        let gateway = match &cron {
            Some(handle) => shared
                .gateway_deps()
                .with_cron(shared.cron_control(handle.clone())),
            None => shared.gateway_deps(),
        };
        let cron = cron.map(|handle| {
            let runner = Arc::new(shared.agent_runner());
            Cron::new(shared.job_deps(handle), runner, shared.registry.clone())
        });
        Self {
            logger: Logger::new(log),
            mcp: full.then(|| shared.mcp_component()),
            gateway: Gateway::new(gateway),
            channels,
            cron,
            leadership: shared.leadership.clone(),
        }
    }

    /// In start order (stop order is the reverse), control excluded.
    fn in_order(&self) -> Vec<&dyn Component> {
        let mut all: Vec<&dyn Component> = vec![&self.logger];
        if let Some(mcp) = &self.mcp {
            all.push(mcp);
        }
        all.push(&self.gateway);
        all.extend(self.channels.iter().map(|c| c as &dyn Component));
        if let Some(cron) = &self.cron {
            all.push(cron);
        }
        all
    }

    /// The specs of every child but control, in start order.
    pub fn specs(&self, config: &Config) -> Vec<ChildSpec> {
        specs(self.in_order(), config, &self.leadership)
    }

    /// Read the opening of every job this instance starts, at once, while
    /// the tree starts them (each job actor takes its own, waiting for it).
    pub fn open_jobs(&self, config: &Config) -> Option<impl Future<Output = ()> + use<>> {
        let cron = self.cron.as_ref()?;
        // Every job is a child of one kind: they all run here, or none.
        if !runs_here(&ChildName::cron(""), &self.leadership) {
            return None;
        }
        let jobs = cron.openings(config);
        (!jobs.is_empty()).then(|| cron.handle().open_all(jobs))
    }

    /// The whole tree, once control is built from the running tree.
    pub fn with_control(self, control: Control) -> Tree {
        Tree {
            components: self,
            control,
        }
    }
}

/// Every component of the running tree.
pub struct Tree {
    components: Components,
    control: Control,
}

impl Tree {
    /// Cron, when this tree runs jobs.
    pub fn cron(&self) -> Option<&Cron> {
        self.components.cron.as_ref()
    }

    fn in_order(&self) -> Vec<&dyn Component> {
        let mut all = self.components.in_order();
        all.push(&self.control);
        all
    }

    /// Every child `config` asks for, in start order, with the component
    /// that owns it (reload asks that component whether to restart it).
    pub fn children(&self, config: &Config) -> Vec<(ChildName, &dyn Component)> {
        self.in_order()
            .into_iter()
            .flat_map(|c| c.children(config).into_iter().map(move |n| (n, c)))
            .filter(|(n, _)| runs_here(n, &self.components.leadership))
            .collect()
    }
}

/// Whether this instance runs `child` in its current role.
fn runs_here(child: &ChildName, leadership: &Leadership) -> bool {
    leadership.is_leader() || !leader_only(child)
}

fn specs(
    components: Vec<&dyn Component>,
    config: &Config,
    leadership: &Leadership,
) -> Vec<ChildSpec> {
    components
        .into_iter()
        .flat_map(|c| {
            c.children(config)
                .into_iter()
                .filter(|child| runs_here(child, leadership))
                .filter_map(|child| c.spec(&child, config, policy_for(config, &child)))
                .collect::<Vec<_>>()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{CronJob, TelegramConfig};

    fn shared() -> Shared {
        let dir = std::env::temp_dir();
        Shared::build(Config::default(), None, dir).unwrap()
    }

    fn job(name: &str, schedule: &str) -> CronJob {
        CronJob {
            name: name.into(),
            schedule: schedule.into(),
            enabled: true,
            message: "m".into(),
            provider: None,
            model: None,
            tools: Vec::new(),
            timezone: None,
            deliver_to: None,
            timeout: Duration::from_secs(5),
        }
    }

    #[test]
    fn each_component_answers_for_the_config_it_reads() {
        let shared = shared();
        let telegram = Channel::new(shared.channel_deps(ChannelKind::Telegram));
        let discord = Channel::new(shared.channel_deps(ChannelKind::Discord));
        let gateway = Gateway::new(shared.gateway_deps());
        let old = Config::default();
        let mut new = old.clone();
        new.channel.telegram = Some(TelegramConfig::default());
        let tg = ChildName::Channel(ChannelKind::Telegram);
        let dc = ChildName::Channel(ChannelKind::Discord);
        assert!(telegram.restart_needed(&tg, &old, &new));
        assert!(!discord.restart_needed(&dc, &old, &new));
        // The gateway checks Telegram's webhook secret, nothing else of it.
        let mut users = new.clone();
        if let Some(t) = users.channel.telegram.as_mut() {
            t.allowed_users = vec!["42".into()];
        }
        assert!(telegram.restart_needed(&tg, &new, &users));
        assert!(!gateway.restart_needed(&ChildName::Gateway, &new, &users));
        let mut secret = new.clone();
        if let Some(t) = secret.channel.telegram.as_mut() {
            t.webhook_secret = Some(crate::config::Secret::new("s"));
        }
        assert!(gateway.restart_needed(&ChildName::Gateway, &new, &secret));
        // A channel runs only while its table is present and enabled.
        assert_eq!(telegram.children(&new), vec![tg]);
        assert!(telegram.children(&old).is_empty());
    }

    #[test]
    fn cron_restarts_only_the_job_that_changed() {
        let shared = shared();
        let dir = tempfile::tempdir().unwrap();
        let store = crate::cron::Store::open(&dir.path().join("c.db")).unwrap();
        let handle = CronHandle::with_store(store, 1);
        let cron = Cron::new(
            shared.job_deps(handle),
            Arc::new(shared.agent_runner()),
            shared.registry.clone(),
        );
        let mut old = Config::default();
        old.cron.jobs = vec![job("a", "@daily"), job("b", "@daily")];
        let mut new = old.clone();
        new.cron.jobs[1].schedule = "@hourly".into();
        assert_eq!(
            cron.children(&new),
            vec![ChildName::cron("a"), ChildName::cron("b")]
        );
        assert!(!cron.restart_needed(&ChildName::cron("a"), &old, &new));
        assert!(cron.restart_needed(&ChildName::cron("b"), &old, &new));
        let spec = cron.spec(
            &ChildName::cron("b"),
            &new,
            policy_for(&new, &ChildName::cron("b")),
        );
        assert_eq!(spec.map(|s| s.name), Some("cron:b".to_string()));
        assert!(
            cron.spec(&ChildName::cron("gone"), &new, RestartPolicy::default())
                .is_none()
        );
    }

    #[test]
    fn a_child_override_applies_to_that_child_only() {
        let mut config = Config::default();
        config.supervisor.children.insert(
            "channel:slack".into(),
            crate::config::RestartOverride {
                start_limit_burst: Some(1),
                ..Default::default()
            },
        );
        let slack = policy_for(&config, &ChildName::Channel(ChannelKind::Slack));
        let gateway = policy_for(&config, &ChildName::Gateway);
        assert_eq!(slack.start_limit_burst, 1);
        assert_eq!(
            gateway.start_limit_burst,
            config.supervisor.start_limit_burst
        );
    }
}
