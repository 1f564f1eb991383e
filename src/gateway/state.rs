//! What every request handler shares: the config snapshot the gateway was
//! started with, the stores behind idempotency and de-duplication, the rate
//! limiter, and the way to reach the tree and the channel actors (all from
//! the [`GatewayDeps`] it is built with).

use super::deps::GatewayDeps;
use super::error::GatewayError;
use super::idempotency::{self, IdempotencyStore};
use super::rate_limit::ClientLimiter;
use super::status::hub::Hub;
use super::status::session::Sessions;
use super::tls;
use super::ttl::TtlMap;
use crate::config::schema::GatewayConfig;
use crate::metrics::Metrics;
use ractor::ActorCell;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tokio::time::Instant;
use zeroclaw_actors::{SupervisorError, TreeSnapshot};

/// How long webhook update/event ids are remembered: Telegram and Slack
/// retry for well under an hour.
const DEDUPE_TTL: Duration = Duration::from_secs(60 * 60);
const DEDUPE_CAPACITY: usize = 50_000;

/// `/health` and `/ready` take no auth and no rate limit, so a flood of them
/// must not become a flood of supervisor calls: the tree's snapshot is reused
/// for this long.
const SNAPSHOT_CACHE: Duration = Duration::from_millis(100);
/// A supervisor that does not answer within this is reported as unreachable.
const SNAPSHOT_TIMEOUT: Duration = Duration::from_secs(2);

/// Finds the live actor of a child (`channel:telegram`) by its name in the
/// tree; replaceable so tests can stand in a fake channel.
pub type ChannelLookup = Arc<dyn Fn(&str) -> Option<ActorCell> + Send + Sync>;

/// The tree as `/health`, `/ready` and `/metrics` see it.
#[derive(Debug, Clone)]
pub enum TreeView {
    /// Running outside a supervisor (tests, examples): only the gateway exists.
    NoTree,
    Snapshot(Arc<TreeSnapshot>),
    /// The supervisor did not answer.
    Unreachable(String),
}

/// Cheap to clone; one per running gateway.
#[derive(Clone)]
pub struct GatewayState {
    inner: Arc<Inner>,
}

struct Inner {
    ctx: GatewayDeps,
    config: GatewayConfig,
    auth_token: Option<String>,
    telegram_secret: Option<String>,
    slack_secret: Option<String>,
    tls: Option<tokio_rustls::TlsAcceptor>,
    limiter: Option<ClientLimiter>,
    idempotency: IdempotencyStore,
    seen_telegram: Mutex<TtlMap<i64, ()>>,
    seen_slack: Mutex<TtlMap<String, ()>>,
    lookup: ChannelLookup,
    snapshot: Mutex<Option<(Instant, TreeView)>>,
    /// `/health`'s body and readiness, serialised once per cache period.
    health: Mutex<Option<(Instant, Arc<HealthBody>)>>,
    /// The status page's signed-in sessions and its live view.
    sessions: Sessions,
    hub: Hub,
}

/// A rendered `/health` body and whether it means "ready".
pub struct HealthBody {
    pub json: axum::body::Bytes,
    pub ready: bool,
}

impl GatewayState {
    /// Build from the config in force in `ctx` now (so a restart after a
    /// reload, or `zeroclaw gateway --port`, takes the new values). Fails,
    /// with an operator-facing message, on settings the gateway cannot run with.
    pub async fn new(ctx: GatewayDeps) -> Result<Self, GatewayError> {
        let registry = ctx.registry().clone();
        let lookup: ChannelLookup = Arc::new(move |child: &str| {
            let child: crate::component::ChildName = child.parse().ok()?;
            registry.cell(&child)
        });
        Self::with_channel_lookup(ctx, lookup).await
    }

    /// [`GatewayState::new`] with another way to find channel actors (tests
    /// stand in a fake channel without a supervision tree).
    pub async fn with_channel_lookup(
        ctx: GatewayDeps,
        lookup: ChannelLookup,
    ) -> Result<Self, GatewayError> {
        let config = ctx.config();
        let gw = config.gateway.clone();
        let tls = match (&gw.tls_cert, &gw.tls_key) {
            (Some(cert), Some(key)) => Some(tls::load(cert, key).await?),
            (None, None) => None,
            (Some(_), None) => return Err(GatewayError::TlsHalfConfigured { set: "tls_cert" }),
            (None, Some(_)) => return Err(GatewayError::TlsHalfConfigured { set: "tls_key" }),
        };
        let auth_token = gw
            .auth_token
            .as_ref()
            .map(|t| t.expose().to_string())
            .filter(|t| !t.is_empty());
        if auth_token.is_none() && !gw.allow_insecure && !super::bind::is_loopback_host(&gw.host) {
            return Err(GatewayError::InsecureBind {
                host: gw.host.clone(),
            });
        }
        let telegram_secret = config
            .channel
            .telegram
            .as_ref()
            .filter(|t| t.enabled)
            .and_then(super::auth::telegram_webhook_secret);
        let slack_secret = config
            .channel
            .slack
            .as_ref()
            .filter(|s| s.enabled)
            .and_then(|s| s.signing_secret.as_ref())
            .map(|s| s.expose().to_string())
            .filter(|s| !s.is_empty());
        Ok(Self {
            inner: Arc::new(Inner {
                limiter: ClientLimiter::per_minute(gw.rate_limit),
                config: gw,
                ctx,
                auth_token,
                telegram_secret,
                slack_secret,
                tls,
                idempotency: IdempotencyStore::new(
                    idempotency::DEFAULT_TTL,
                    idempotency::DEFAULT_CAPACITY,
                ),
                seen_telegram: Mutex::new(TtlMap::new(DEDUPE_TTL, DEDUPE_CAPACITY)),
                seen_slack: Mutex::new(TtlMap::new(DEDUPE_TTL, DEDUPE_CAPACITY)),
                lookup,
                snapshot: Mutex::new(None),
                health: Mutex::new(None),
                sessions: Sessions::default(),
                hub: Hub::default(),
            }),
        })
    }

    pub fn ctx(&self) -> &GatewayDeps {
        &self.inner.ctx
    }

    pub fn config(&self) -> &GatewayConfig {
        &self.inner.config
    }

    pub fn metrics(&self) -> &Metrics {
        &self.inner.ctx.metrics
    }

    pub fn auth_token(&self) -> Option<&str> {
        self.inner.auth_token.as_deref()
    }

    pub fn telegram_secret(&self) -> Option<&str> {
        self.inner.telegram_secret.as_deref()
    }

    pub fn slack_secret(&self) -> Option<&str> {
        self.inner.slack_secret.as_deref()
    }

    pub fn tls(&self) -> Option<&tokio_rustls::TlsAcceptor> {
        self.inner.tls.as_ref()
    }

    pub fn limiter(&self) -> Option<&ClientLimiter> {
        self.inner.limiter.as_ref()
    }

    pub fn idempotency(&self) -> &IdempotencyStore {
        &self.inner.idempotency
    }

    pub fn status_sessions(&self) -> &Sessions {
        &self.inner.sessions
    }

    pub fn status_hub(&self) -> &Hub {
        &self.inner.hub
    }

    pub fn read_timeout(&self) -> Duration {
        self.inner.config.read_timeout.0
    }

    /// Record a Telegram `update_id`; `false` when it was seen before.
    pub fn first_telegram_update(&self, id: i64) -> bool {
        lock(&self.inner.seen_telegram).insert_if_absent(id, ())
    }

    pub fn forget_telegram_update(&self, id: i64) {
        lock(&self.inner.seen_telegram).remove(&id);
    }

    /// Record a Slack `event_id`; `false` when it was seen before.
    pub fn first_slack_event(&self, id: &str) -> bool {
        lock(&self.inner.seen_slack).insert_if_absent(id.to_string(), ())
    }

    pub fn forget_slack_event(&self, id: &str) {
        lock(&self.inner.seen_slack).remove(&id.to_string());
    }

    /// The live actor of child `name`, if it is running.
    pub fn channel(&self, name: &str) -> Option<ActorCell> {
        (self.inner.lookup)(name)
    }

    /// The tree now (or at most [`SNAPSHOT_CACHE`] ago).
    pub async fn tree(&self) -> TreeView {
        let now = Instant::now();
        if let Some((at, view)) = lock(&self.inner.snapshot).as_ref()
            && now.saturating_duration_since(*at) < SNAPSHOT_CACHE
        {
            return view.clone();
        }
        self.tree_now().await
    }

    /// The tree now, never from the cache (which it refreshes): for a
    /// reader woken by a change of the tree (the status page's hub), to
    /// which a snapshot from before the change would hide it.
    pub async fn tree_now(&self) -> TreeView {
        let now = Instant::now();
        let tree = self.inner.ctx.tree();
        let view = match tokio::time::timeout(SNAPSHOT_TIMEOUT, tree.snapshot()).await {
            Ok(Ok(snap)) => TreeView::Snapshot(Arc::new(snap)),
            // Before the tree has started, or outside one (tests, examples).
            Ok(Err(SupervisorError::NotRunning)) => TreeView::NoTree,
            Ok(Err(e)) => TreeView::Unreachable(e.to_string()),
            Err(_) => TreeView::Unreachable(format!(
                "the supervisor did not answer within {SNAPSHOT_TIMEOUT:?}"
            )),
        };
        *lock(&self.inner.snapshot) = Some((now, view.clone()));
        view
    }

    /// The `/health` body, rendered at most once per [`SNAPSHOT_CACHE`]:
    /// load balancers poll it hard and it takes no auth.
    pub async fn health(&self) -> Arc<HealthBody> {
        let now = Instant::now();
        if let Some((at, body)) = lock(&self.inner.health).as_ref()
            && now.saturating_duration_since(*at) < SNAPSHOT_CACHE
        {
            return body.clone();
        }
        let view = self.tree().await;
        let h = super::health::health_of(&view, self.inner.ctx.started.elapsed().as_secs())
            .with_activity(self.inner.ctx.activities())
            .with_cluster(self.inner.ctx.leadership.view());
        let json = serde_json::to_vec(&h).unwrap_or_default();
        let body = Arc::new(HealthBody {
            json: json.into(),
            ready: h.is_ready(),
        });
        *lock(&self.inner.health) = Some((now, body.clone()));
        body
    }

    /// Periodic clean-up of per-client state (driven by the accept loop).
    pub fn housekeeping(&self) {
        if let Some(l) = &self.inner.limiter {
            l.cleanup();
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}
