//! The agent: LLM providers, the tool loop and the tools.
//!
//! One [`Agent`] is shared (as `Arc<Agent>`) by the gateway, every channel and
//! every cron job. Messages of one session are answered in order (a per-session
//! lock, FIFO); different sessions run concurrently up to `[agent] max_concurrent`.

pub mod auth;
pub mod cli;
pub mod error;
pub mod history;
pub mod http;
pub mod memory;
pub mod memory_cli;
pub mod memory_control;
pub mod message;
pub mod providers;
pub mod tools;

pub use error::AgentError;

use crate::config::Config;
use crate::metrics::Metrics;
use memory::Session;
use message::{Block, Completion, Message, Role, ToolSpec};
use providers::{ProviderSettings, RetryPolicy};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use tokio::sync::{Mutex as AsyncMutex, Semaphore};
use tokio::time::Instant;
use tools::Toolbox;

/// Sessions remembered at once; the least recently used idle ones are
/// forgotten past this, so a flood of chat ids cannot grow memory forever.
const MAX_SESSIONS: usize = 10_000;

/// One message to answer.
#[derive(Debug, Clone, Default)]
pub struct AgentRequest {
    /// Conversation key: `telegram:<chat>`, `webhook:<session>`, `cron:<job id>`.
    pub session: String,
    pub message: String,
    /// Override of `[provider] name` (cron jobs).
    pub provider: Option<String>,
    pub model: Option<String>,
    /// Tools offered to the model (`["shell"]`); none by default.
    pub tools: Vec<String>,
}

struct SessionSlot {
    history: Arc<AsyncMutex<Session>>,
    last_used: Instant,
}

/// Shared by the gateway, every channel and every cron job.
pub struct Agent {
    config: Config,
    policy: RetryPolicy,
    client: reqwest::Client,
    toolbox: Toolbox,
    sessions: Mutex<HashMap<String, SessionSlot>>,
    permits: Semaphore,
    metrics: Option<Arc<Metrics>>,
    /// Where conversation memory is kept (`None`: in this process only).
    store: Option<Arc<dyn crate::store::Store>>,
    /// What the `schedule` tools drive (`None`: they answer "not available").
    scheduler: Option<Arc<dyn tools::schedule::Scheduler>>,
}

impl std::fmt::Debug for Agent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Agent")
            .field("provider", &self.config.provider.name)
            .finish_non_exhaustive()
    }
}

impl Agent {
    /// Build the agent. Fails, with what to fix, when the default provider or a
    /// cron job's provider cannot work (unknown name, missing key) or a job or
    /// channel names an unknown tool: better refused at start than at 3 a.m.
    pub fn new(config: &Config, workdir: PathBuf) -> Result<Self, AgentError> {
        providers::resolve(config, &config.provider.name, None)?;
        // Disabled jobs are not checked: an operator may keep one whose key is not there yet.
        for job in config.cron.jobs.iter().filter(|j| j.enabled) {
            let place = format!("cron job `{}`", job.name);
            if let Some(name) = job.provider.as_deref().filter(|n| !n.trim().is_empty()) {
                providers::resolve(config, name, job.model.as_deref()).map_err(|mut e| {
                    e.detail = format!("{place}: {}", e.detail);
                    e
                })?;
            }
            check_tools(config, &job.tools, &place)?;
        }
        let ch = &config.channel;
        for (tools, place) in [
            (ch.telegram.as_ref().map(|c| &c.tools), "[channel.telegram]"),
            (ch.discord.as_ref().map(|c| &c.tools), "[channel.discord]"),
            (ch.slack.as_ref().map(|c| &c.tools), "[channel.slack]"),
        ] {
            if let Some(tools) = tools {
                check_tools(config, tools, place)?;
            }
        }
        let p = &config.provider;
        Ok(Self {
            config: config.clone(),
            policy: RetryPolicy {
                timeout: p.timeout,
                max_retries: p.max_retries,
                min_delay: p.retry_min_delay,
                max_delay: p.retry_max_delay.max(p.retry_min_delay),
            },
            client: http::client()?,
            toolbox: Toolbox::new(&config.tools, &workdir)?,
            sessions: Mutex::new(HashMap::new()),
            permits: Semaphore::new(config.agent.max_concurrent.max(1)),
            metrics: None,
            store: None,
            scheduler: None,
        })
    }

    /// Count and time answers (`zeroclaw_agent_responses_total`,
    /// `zeroclaw_agent_request_duration_seconds`), tokens and tool calls in
    /// the daemon's metrics.
    pub fn with_metrics(mut self, metrics: Arc<Metrics>) -> Self {
        self.metrics = Some(metrics);
        self
    }

    /// Offer and call the tools of the MCP servers `hub` holds sessions with.
    pub fn with_mcp(mut self, hub: crate::mcp::McpHub) -> Self {
        self.toolbox.set_mcp(hub);
        self
    }

    /// Serve the `schedule` tools with `scheduler`.
    pub fn with_scheduler(
        mut self,
        scheduler: Option<Arc<dyn tools::schedule::Scheduler>>,
    ) -> Self {
        self.scheduler = scheduler;
        self
    }

    /// Keep conversation memory in `store` (see `memory.rs`).
    pub fn with_store(mut self, store: Option<Arc<dyn crate::store::Store>>) -> Self {
        self.store = store;
        self
    }

    /// Answer one message, running tools the model asks for. On error the
    /// detail is logged and the turn is not added to the session's history.
    pub async fn respond(&self, request: AgentRequest) -> Result<String, AgentError> {
        let provider = request
            .provider
            .as_deref()
            .filter(|n| !n.trim().is_empty())
            .unwrap_or(&self.config.provider.name);
        let started = tokio::time::Instant::now();
        let result = self.respond_inner(provider, &request).await;
        if let Err(e) = &result {
            tracing::warn!(session = %request.session, provider, error = %e, "no answer");
        }
        if let Some(m) = &self.metrics {
            let outcome = result.as_ref().map_or_else(AgentError::kind, |_| "ok");
            m.agent_response(provider, outcome, started.elapsed());
        }
        result
    }

    async fn respond_inner(
        &self,
        provider: &str,
        request: &AgentRequest,
    ) -> Result<String, AgentError> {
        if request.message.trim().is_empty() {
            return Err(AgentError::EmptyMessage);
        }
        let settings = providers::resolve(&self.config, provider, request.model.as_deref())?;
        let mut offered: Vec<ToolSpec> = Vec::new();
        for t in &request.tools {
            if t == tools::schedule::SCHEDULE {
                offered.extend(tools::schedule::specs());
                continue;
            }
            let specs = self
                .toolbox
                .specs(t)
                .ok_or_else(|| AgentError::UnknownTool {
                    tool: t.clone(),
                    place: format!("the request for session `{}`", request.session),
                })?;
            for spec in specs {
                if !offered.iter().any(|o| o.name == spec.name) {
                    offered.push(spec);
                }
            }
        }
        let session = self.session(&request.session);
        // Session lock first (FIFO per session), then a global permit, so a
        // queued message of a busy session does not hold a permit while waiting.
        let mut slot = session.lock().await;
        let a = &self.config.agent;
        let bounds = (a.max_history_turns, a.max_history_chars);
        slot.load(self.store.as_deref(), &request.session, bounds)
            .await;
        let _permit = self.permits.acquire().await;
        let mut messages = vec![Message::user(&request.message)];
        let history = slot.history.messages();
        let answer = self
            .tool_loop(
                &settings,
                &offered,
                &request.session,
                history,
                &mut messages,
            )
            .await?;
        let turn = crate::store::MemoryTurn {
            user: request.message.clone(),
            assistant: answer.clone(),
        };
        slot.record(turn, bounds, self.store.as_deref(), &request.session)
            .await;
        Ok(answer)
    }

    async fn tool_loop(
        &self,
        settings: &ProviderSettings,
        offered: &[ToolSpec],
        session: &str,
        history: &[Message],
        messages: &mut Vec<Message>,
    ) -> Result<String, AgentError> {
        let max_iterations = self.config.agent.max_tool_iterations;
        let system = system_prompt(&self.config.agent, chrono::Utc::now());
        let mut iteration = 0;
        loop {
            let reply = providers::complete(
                &self.client,
                settings,
                self.policy,
                &Completion {
                    model: &settings.model,
                    system: &system,
                    history,
                    messages,
                    tools: offered,
                    max_tokens: self.config.provider.max_tokens,
                },
            )
            .await?;
            if let Some(m) = &self.metrics {
                m.agent_tokens(
                    &settings.name,
                    &settings.model,
                    reply.usage.input,
                    reply.usage.output,
                );
            }
            tracing::debug!(
                provider = %settings.name,
                model = %settings.model,
                request_id = reply.request_id.as_deref().unwrap_or("-"),
                stop = ?reply.stop,
                "model replied"
            );
            let text = reply.message.text();
            let calls: Vec<(String, String, serde_json::Value)> = reply
                .tool_calls()
                .into_iter()
                .map(|(id, name, input)| (id.to_string(), name.to_string(), input.clone()))
                .collect();
            if calls.is_empty() {
                if text.trim().is_empty() {
                    return Err(AgentError::EmptyReply);
                }
                return Ok(text);
            }
            if iteration >= max_iterations {
                if !text.trim().is_empty() {
                    return Ok(text);
                }
                return Err(AgentError::ToolLimit(max_iterations));
            }
            iteration += 1;
            messages.push(reply.message);
            let mut results = Vec::with_capacity(calls.len());
            for (id, name, input) in calls {
                tracing::info!(provider = %settings.name, tool = %name, input = %input, "tool call");
                if let Some(m) = &self.metrics {
                    m.agent_tool_call(&name);
                }
                let out = if tools::schedule::is_schedule_tool(&name)
                    && offered.iter().any(|t| t.name == name)
                {
                    tools::schedule::call(self.scheduler.as_deref(), session, &name, &input).await
                } else {
                    self.toolbox.call(&name, offered, &input).await
                };
                results.push(Block::ToolResult {
                    id,
                    content: out.content,
                    is_error: out.is_error,
                });
            }
            messages.push(Message {
                role: Role::User,
                blocks: results,
            });
        }
    }

    /// Forget a session's history (e.g. a `/reset` command in a chat, or
    /// `zeroclaw memory clear`), in the store too; `true` when the store had
    /// some.
    pub async fn reset_session(&self, session: &str) -> bool {
        let slot = self
            .sessions
            .lock()
            .ok()
            .and_then(|mut s| s.remove(session).map(|s| s.history));
        // Held while the store is cleared, so a turn of this session
        // finishing now cannot write the old turns back.
        let mut guard = match &slot {
            Some(history) => Some(history.lock().await),
            None => None,
        };
        if let Some(g) = guard.as_mut() {
            **g = Session::default();
        }
        let cleared = match &self.store {
            Some(store) => match store.clear_memory(session.to_string()).await {
                Ok(had) => had,
                Err(e) => {
                    tracing::error!(session, error = %e, "cannot clear the session's memory");
                    false
                }
            },
            None => false,
        };
        drop(guard);
        cleared
    }

    /// Turns remembered for `session` (0 when unknown).
    pub async fn history_len(&self, session: &str) -> usize {
        let slot = self
            .sessions
            .lock()
            .ok()
            .and_then(|s| s.get(session).map(|s| s.history.clone()));
        match slot {
            Some(h) => h.lock().await.history.len(),
            None => 0,
        }
    }

    fn session(&self, key: &str) -> Arc<AsyncMutex<Session>> {
        let mut sessions = match self.sessions.lock() {
            Ok(s) => s,
            Err(poisoned) => poisoned.into_inner(),
        };
        let now = Instant::now();
        if let Some(slot) = sessions.get_mut(key) {
            slot.last_used = now;
            return slot.history.clone();
        }
        if sessions.len() >= MAX_SESSIONS {
            evict_idle(&mut sessions);
        }
        let history = Arc::new(AsyncMutex::new(Session::default()));
        sessions.insert(
            key.to_string(),
            SessionSlot {
                history: history.clone(),
                last_used: now,
            },
        );
        history
    }
}

/// Drop the least recently used tenth of the sessions nobody is using now.
fn evict_idle(sessions: &mut HashMap<String, SessionSlot>) {
    let mut idle: Vec<(Instant, String)> = sessions
        .iter()
        .filter(|(_, s)| Arc::strong_count(&s.history) == 1)
        .map(|(k, s)| (s.last_used, k.clone()))
        .collect();
    idle.sort();
    for (_, key) in idle.into_iter().take(MAX_SESSIONS / 10) {
        sessions.remove(&key);
    }
}

/// Fail on a tool name the agent does not have; `place` names where it was
/// written (`cron job `backup``, `[channel.telegram]`).
/// The configured prompt and the current date, time and zone (`[agent]
/// timezone`, else the host's), so that "at 18:00" means the user's 18:00.
pub fn system_prompt(
    agent: &crate::config::AgentConfig,
    now: chrono::DateTime<chrono::Utc>,
) -> String {
    let tz = crate::cron::schedule::parse_timezone(agent.timezone.as_deref())
        .unwrap_or_else(|_| crate::cron::schedule::local_timezone());
    let local = now.with_timezone(&tz);
    format!(
        "{}\n\nThe current date and time is {} ({}).",
        agent.system_prompt,
        local.format("%A %Y-%m-%d %H:%M:%S %:z"),
        tz.name()
    )
}

pub fn check_tools(config: &Config, names: &[String], place: &str) -> Result<(), AgentError> {
    let known = |n: &str| tools::KNOWN.contains(&n) || crate::mcp::names::configured(config, n);
    match names.iter().find(|n| !known(n)) {
        Some(unknown) => Err(AgentError::UnknownTool {
            tool: unknown.clone(),
            place: place.to_string(),
        }),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn echo_replies_with_the_prompt_and_keeps_history() {
        let metrics = Arc::new(Metrics::default());
        let agent = Agent::new(&Config::default(), std::env::temp_dir())
            .unwrap()
            .with_metrics(metrics.clone());
        let req = AgentRequest {
            session: "s".into(),
            message: "hello".into(),
            tools: vec!["shell".into()],
            ..Default::default()
        };
        let answer = agent.respond(req).await.unwrap();
        assert!(answer.starts_with("echo: hello"), "{answer}");
        assert!(answer.contains("tools offered: shell"), "{answer}");
        assert_eq!(agent.history_len("s").await, 1);
        let counted = metrics
            .counters()
            .into_iter()
            .find(|(name, _, _)| name == "zeroclaw_agent_responses_total");
        assert_eq!(counted.map(|c| c.2), Some(1));
        agent.reset_session("s").await;
        assert_eq!(agent.history_len("s").await, 0);
    }

    #[tokio::test]
    async fn unknown_tool_is_a_clear_error() {
        let agent = Agent::new(&Config::default(), std::env::temp_dir()).unwrap();
        let err = agent
            .respond(AgentRequest {
                message: "x".into(),
                tools: vec!["browser".into()],
                ..Default::default()
            })
            .await
            .unwrap_err();
        assert!(err.to_string().contains("unknown tool `browser`"), "{err}");
    }

    #[test]
    fn new_names_the_cron_job_or_channel_at_fault() {
        // Raw serde: `config check` refuses the unknown tool before the agent.
        let c: crate::config::Config = toml::from_str(
            r#"
            [[cron.jobs]]
            name = "nightly"
            schedule = "0 3 * * *"
            message = "m"
            tools = ["browser"]
            "#,
        )
        .unwrap();
        let err = Agent::new(&c, std::env::temp_dir())
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("unknown tool `browser` in cron job `nightly`"),
            "{err}"
        );
        // Raw serde: config validation would already refuse this provider;
        // the agent checks again because it can be built from any Config.
        let c: crate::config::Config = toml::from_str(
            r#"
            [[cron.jobs]]
            name = "news"
            schedule = "0 9 * * *"
            message = "m"
            provider = "mystery"
            "#,
        )
        .unwrap();
        let err = Agent::new(&c, std::env::temp_dir())
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("cron job `news`: unknown provider `mystery`"),
            "{err}"
        );
    }

    #[test]
    fn agent_is_send_and_sync() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<Agent>();
    }
}
