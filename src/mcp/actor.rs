//! The child `mcp:<name>`: opens a session with its server in `pre_start`
//! (so a server that does not answer is a failed start, backed off by the
//! supervisor like any other), publishes the server's allowed tools, and
//! fails when the session ends by itself, so the supervisor restarts it.

use super::hub::McpHub;
use super::session::{self, Opened};
use crate::component::StatusLine;
use crate::config::McpServerConfig;
use crate::task::TaskGuard;
use ractor::{Actor, ActorProcessingErr, ActorRef};
use rmcp::service::{Peer, RoleClient, RunningServiceCancellationToken};
use std::path::PathBuf;
use std::time::Duration;

/// A refresh of the tool list that takes longer is given up (the old list stays).
const REFRESH_TIMEOUT: Duration = Duration::from_secs(30);
/// A session that does not answer `tools/list` within this when checked has ended.
const CHECK_TIMEOUT: Duration = Duration::from_secs(5);
/// How often an HTTP session is checked.
const KEEPALIVE: Duration = Duration::from_secs(30);

pub struct McpActor;

/// What one start of the child needs.
#[derive(Clone)]
pub struct McpArgs {
    pub server: String,
    pub config: McpServerConfig,
    /// `workdir` of the server, or the daemon's.
    pub workdir: PathBuf,
    pub hub: McpHub,
    pub status: StatusLine,
}

pub enum McpMsg {
    /// The session or the server's process ended (how).
    Ended(String),
    /// `notifications/tools/list_changed`.
    ToolsChanged,
    /// A call failed below the tool, or it is time for a keepalive: a
    /// session that does not answer `tools/list` now has ended.
    Check,
}

pub struct McpRunning {
    args: McpArgs,
    peer: Peer<RoleClient>,
    cancel: Option<RunningServiceCancellationToken>,
    /// Owns the session and the process: aborting it (on drop, also when
    /// `post_stop` is skipped) kills the server.
    _watch: TaskGuard,
    /// An HTTP session is checked now and then: a server that restarted
    /// has forgotten it, and nothing else would tell.
    _keepalive: Option<TaskGuard>,
}

impl Actor for McpActor {
    type Msg = McpMsg;
    type State = McpRunning;
    type Arguments = McpArgs;

    async fn pre_start(
        &self,
        myself: ActorRef<Self::Msg>,
        args: Self::Arguments,
    ) -> Result<Self::State, ActorProcessingErr> {
        let notify = myself.clone();
        let on_change = std::sync::Arc::new(move || {
            let _ = notify.send_message(McpMsg::ToolsChanged);
        });
        let opened = match session::open(&args.server, &args.config, &args.workdir, on_change).await
        {
            Ok(o) => o,
            Err(e) => {
                let why = format!("MCP server `{}`: {e}", args.server);
                tracing::error!("{why}");
                args.status.set(format!("failed: {e}"));
                return Err(why.into());
            }
        };
        let Opened {
            service,
            mut process,
            tools,
            transport,
        } = opened;
        let peer = service.peer().clone();
        let cancel = service.cancellation_token();
        args.status
            .set(format!("{transport}; {} tools offered", tools.len()));
        tracing::info!(mcp = %args.server, tools = tools.len(), "MCP server answered ({transport})");
        let trouble = myself.clone();
        let on_trouble = std::sync::Arc::new(move || {
            let _ = trouble.send_message(McpMsg::Check);
        });
        args.hub.publish(
            &args.server,
            peer.clone(),
            tools,
            args.config.timeout,
            on_trouble,
        );
        let keepalive = args.config.url.is_some().then(|| keepalive(myself.clone()));
        let watch = TaskGuard::spawn(async move {
            let why = tokio::select! {
                quit = service.waiting() => format!("the session ended ({quit:?})"),
                exited = async {
                    match process.as_mut() {
                        Some(p) => p.exited().await,
                        None => std::future::pending().await,
                    }
                } => format!("the server process {exited}"),
            };
            // The process (if any) is dropped here: its group is killed.
            drop(process);
            let _ = myself.send_message(McpMsg::Ended(why));
        });
        Ok(McpRunning {
            args,
            peer,
            cancel: Some(cancel),
            _watch: watch,
            _keepalive: keepalive,
        })
    }

    async fn handle(
        &self,
        _myself: ActorRef<Self::Msg>,
        msg: Self::Msg,
        state: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        match msg {
            McpMsg::Ended(why) => {
                let why = format!("MCP server `{}`: {why}", state.args.server);
                state.args.status.set(format!("failed: {why}"));
                Err(why.into())
            }
            McpMsg::ToolsChanged => {
                refresh(state).await;
                Ok(())
            }
            McpMsg::Check => check(state).await,
        }
    }

    async fn post_stop(
        &self,
        _myself: ActorRef<Self::Msg>,
        state: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        state.args.hub.withdraw(&state.args.server);
        if let Some(cancel) = state.cancel.take() {
            cancel.cancel();
        }
        Ok(())
    }
}

impl Drop for McpRunning {
    /// Also on kill or a failed handler, when `post_stop` is skipped: a
    /// server that is not running offers nothing.
    fn drop(&mut self) {
        self.args.hub.withdraw(&self.args.server);
    }
}

/// Send [`McpMsg::Check`] every [`KEEPALIVE`].
fn keepalive(myself: ActorRef<McpMsg>) -> TaskGuard {
    TaskGuard::spawn(async move {
        let mut tick = tokio::time::interval(KEEPALIVE);
        tick.tick().await;
        loop {
            tick.tick().await;
            if myself.send_message(McpMsg::Check).is_err() {
                return;
            }
        }
    })
}

/// Whether the session still answers; `Err` ends the child (it is restarted
/// with a new session).
async fn check(state: &mut McpRunning) -> Result<(), ActorProcessingErr> {
    let server = &state.args.server;
    let why = match tokio::time::timeout(CHECK_TIMEOUT, state.peer.list_all_tools()).await {
        Ok(Ok(listed)) => {
            let tools = session::allowed(server, &state.args.config, listed);
            state.args.hub.replace_tools(server, tools);
            return Ok(());
        }
        Ok(Err(e)) => format!("the session stopped working ({e})"),
        Err(_) => format!(
            "the session stopped answering (no `tools/list` reply within {})",
            humantime::format_duration(CHECK_TIMEOUT)
        ),
    };
    let why = format!("MCP server `{server}`: {why}");
    state.args.status.set(format!("failed: {why}"));
    Err(why.into())
}

/// List the server's tools again and offer the new list.
async fn refresh(state: &mut McpRunning) {
    let server = &state.args.server;
    match tokio::time::timeout(REFRESH_TIMEOUT, state.peer.list_all_tools()).await {
        Ok(Ok(listed)) => {
            let tools = session::allowed(server, &state.args.config, listed);
            tracing::info!(mcp = %server, tools = tools.len(), "MCP server's tool list changed");
            state.args.hub.replace_tools(server, tools);
        }
        Ok(Err(e)) => tracing::warn!(mcp = %server, "cannot list the changed tools: {e}"),
        Err(_) => tracing::warn!(mcp = %server, "the changed tool list was not sent in time"),
    }
}
