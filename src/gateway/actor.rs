//! The supervised child `gateway`: binds `[gateway] host:port` in
//! `pre_start` (so a bind failure is a failed start with a clear error) and
//! runs [`serve`](super::server::serve) until stopped. If the server task
//! ends on its own, the actor fails and the supervisor restarts it per policy.

use super::bind;
use super::deps::GatewayDeps;
use super::error::GatewayError;
use super::server::serve;
use super::state::GatewayState;
use crate::component::{ChildName, Component};
use crate::config::Config;
use crate::task::{TaskGuard, panic_message};
use futures_util::FutureExt;
use ractor::{Actor, ActorProcessingErr, ActorRef};
use std::net::SocketAddr;
use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::oneshot;
use zeroclaw_actors::{ChildSpec, RestartPolicy};

/// The child's name in the tree.
pub const NAME: &str = ChildName::GATEWAY;

/// How long `post_stop` lets the server drain before cutting it.
const STOP_GRACE: Duration = Duration::from_secs(4);

/// The supervised child `gateway`. Each (re)start reads the config in force
/// then, so a restart after a reload or `zeroclaw gateway --host/--port`
/// uses the new address. With `port = 0` a restart tries to keep the port
/// it had, so clients that learnt it keep working.
pub fn child_spec(ctx: GatewayDeps, policy: RestartPolicy) -> ChildSpec {
    let last_bound: Arc<Mutex<Option<SocketAddr>>> = Arc::new(Mutex::new(None));
    ChildSpec::actor(NAME, policy, move || {
        let args = GatewayArgs {
            ctx: ctx.clone(),
            last_bound: last_bound.clone(),
        };
        (GatewayActor, args)
    })
}

/// The gateway as a component of the tree: the child `gateway` while
/// `[gateway] enabled`.
pub struct Gateway {
    deps: GatewayDeps,
}

impl Gateway {
    pub fn new(deps: GatewayDeps) -> Self {
        Self { deps }
    }
}

impl Component for Gateway {
    fn children(&self, config: &Config) -> Vec<ChildName> {
        if config.gateway.enabled {
            vec![ChildName::Gateway]
        } else {
            Vec::new()
        }
    }

    fn spec(&self, child: &ChildName, _: &Config, policy: RestartPolicy) -> Option<ChildSpec> {
        (*child == ChildName::Gateway).then(|| child_spec(self.deps.clone(), policy))
    }

    /// `[gateway]`, and the webhook secrets it checks for the channels.
    fn restart_needed(&self, _: &ChildName, old: &Config, new: &Config) -> bool {
        old.gateway != new.gateway
            || old.channel.telegram.as_ref().map(|t| &t.webhook_secret)
                != new.channel.telegram.as_ref().map(|t| &t.webhook_secret)
            || old.channel.slack.as_ref().map(|s| &s.signing_secret)
                != new.channel.slack.as_ref().map(|s| &s.signing_secret)
    }
}

pub struct GatewayActor;

pub struct GatewayArgs {
    pub ctx: GatewayDeps,
    /// The address bound by the previous start of this child.
    pub last_bound: Arc<Mutex<Option<SocketAddr>>>,
}

pub enum GatewayMsg {
    /// The server task ended by itself (`Err` = how).
    ServerEnded(Result<(), String>),
}

pub struct GatewayRunning {
    pub addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    /// Aborted when dropped, also on kill or a failed handler, when
    /// `post_stop` is skipped: the listener must be released so the
    /// restarted gateway can rebind.
    task: Option<TaskGuard>,
}

impl Actor for GatewayActor {
    type Msg = GatewayMsg;
    type State = GatewayRunning;
    type Arguments = GatewayArgs;

    async fn pre_start(
        &self,
        myself: ActorRef<Self::Msg>,
        args: Self::Arguments,
    ) -> Result<Self::State, ActorProcessingErr> {
        let (listener, state) = start(&args).await.map_err(|e| {
            tracing::error!("gateway: {e}");
            ActorProcessingErr::from(e.to_string())
        })?;
        let addr = listener.local_addr().map_err(GatewayError::Listener)?;
        if let Ok(mut last) = args.last_bound.lock() {
            *last = Some(addr);
        }
        let scheme = if state.tls().is_some() {
            "https"
        } else {
            "http"
        };
        let url = format!("{scheme}://{addr}");
        args.ctx.set_detail(url.clone());
        tracing::info!("gateway listening on {url}");

        let (stop_tx, stop_rx) = oneshot::channel::<()>();
        let task = TaskGuard::spawn(async move {
            let shutdown = async {
                // A dropped sender (the actor is gone) also stops the server.
                let _ = stop_rx.await;
            };
            let ended = AssertUnwindSafe(serve(listener, state, shutdown))
                .catch_unwind()
                .await;
            let report = match ended {
                Ok(Ok(())) => Ok(()),
                Ok(Err(e)) => Err(e.to_string()),
                Err(panic) => Err(format!(
                    "the server task panicked: {}",
                    panic_message(&*panic)
                )),
            };
            // Ignored when the actor is already stopping.
            let _ = myself.send_message(GatewayMsg::ServerEnded(report));
        });
        Ok(GatewayRunning {
            addr,
            stop: Some(stop_tx),
            task: Some(task),
        })
    }

    async fn handle(
        &self,
        _myself: ActorRef<Self::Msg>,
        msg: Self::Msg,
        state: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        match msg {
            GatewayMsg::ServerEnded(Ok(())) => Err(format!(
                "the server on {} stopped without being asked to",
                state.addr
            )
            .into()),
            GatewayMsg::ServerEnded(Err(e)) => {
                Err(format!("the server on {} failed: {e}", state.addr).into())
            }
        }
    }

    async fn post_stop(
        &self,
        _myself: ActorRef<Self::Msg>,
        state: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        if let Some(stop) = state.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = state.task.take()
            && !task.finished_within(STOP_GRACE).await
        {
            tracing::warn!("gateway: requests still running after {STOP_GRACE:?}; cutting them");
        }
        Ok(())
    }
}

/// Build the state from the config in force and bind its address.
async fn start(
    args: &GatewayArgs,
) -> Result<(tokio::net::TcpListener, GatewayState), GatewayError> {
    let state = GatewayState::new(args.ctx.clone()).await?;
    let cfg = state.config();
    let tls = state.tls().is_some();
    let wanted = bind::resolve(&cfg.host, cfg.port).await?;
    let previous = args.last_bound.lock().ok().and_then(|l| *l);
    // `port = 0`: try the port this child had before, so a restart keeps
    // the address clients learnt; if it is taken now, take any free one.
    if cfg.port == 0
        && let Some(prev) = previous.filter(|p| p.ip() == wanted.ip())
    {
        match bind::bind(prev, cfg.max_connections, tls).await {
            Ok(l) => return Ok((l, state)),
            Err(e) => tracing::warn!("gateway: could not reuse {prev} ({e}); taking a new port"),
        }
    }
    let listener = bind::bind(wanted, cfg.max_connections, tls).await?;
    Ok((listener, state))
}
