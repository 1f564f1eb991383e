//! The accept loop: plain or TLS connections served with hyper under the
//! gateway's connection limit and timeouts.
//!
//! Written by hand (on hyper, hyper-util and tokio-rustls) rather than with
//! `axum::serve` or axum-server's `Server`: neither lets us bound concurrent connections
//! in total and per client address (excess ones wait in the kernel's
//! backlog, not accepted and dropped), time out a stalled writer, close idle
//! keep-alive connections on our own schedule and when the server is full,
//! or check every request's Host before routing — and TLS and plain must get
//! the same rules (docs/security.md).

use super::error::{ApiError, GatewayError};
use super::host::HostPolicy;
use super::io::WriteTimeout;
use super::peers::{PeerCounts, PeerSlot};
use super::proxy::{TrustedProxies, strip_forwarded};
use super::router::{finish, route_label};
use super::state::GatewayState;
use axum::Router;
use axum::extract::ConnectInfo;
use axum::http::{StatusCode, Uri};
use axum::response::IntoResponse;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use std::collections::HashMap;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, oneshot, watch};
use tokio::task::JoinSet;
use tokio::time::Instant;
use tower::ServiceExt;

/// How long connections get to finish their requests after shutdown.
const DRAIN: Duration = Duration::from_secs(5);
/// How often per-client state is cleaned up.
const HOUSEKEEPING: Duration = Duration::from_secs(60);
/// How often idle keep-alive connections are asked again to close while a
/// client waits for a slot.
const SHED_EVERY: Duration = Duration::from_millis(50);

/// Serve `state`'s router on `listener` until `shutdown` completes, then stop
/// accepting, let open requests finish (up to a few seconds) and return.
/// Returns `Err` only if it cannot serve at all.
pub async fn serve(
    listener: TcpListener,
    state: GatewayState,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<(), GatewayError> {
    let app = super::router::routes(state.clone());
    let cfg = state.config().clone();
    let limits = Limits {
        // The header deadline never exceeds the whole-request deadline.
        header: cfg.header_timeout.0.min(cfg.read_timeout.0),
        write: cfg.write_timeout.0,
        idle: cfg.connection_timeout.0,
        handshake: cfg.read_timeout.0,
    };
    let tls = state.tls().cloned();
    let guard = Arc::new(Guard::new(&state));
    let peers = PeerCounts::new(cfg.per_client_connections());
    let slots = Arc::new(Semaphore::new(cfg.max_connections.max(1)));
    let (pressure, _) = watch::channel(0u64);
    let mut conns = JoinSet::new();
    // One stop signal per connection (a oneshot polls without locks; the
    // pressure watch below only wakes connections when the server is full).
    let mut stops: Stops = HashMap::new();
    let mut housekeeping = tokio::time::interval(HOUSEKEEPING);
    tokio::pin!(shutdown);

    loop {
        let accepted = tokio::select! {
            r = listener.accept() => r,
            () = &mut shutdown => break,
            _ = housekeeping.tick() => {
                state.housekeeping();
                continue;
            }
        };
        reap(&mut conns, &mut stops);
        let (stream, peer) = match accepted {
            Ok(a) => a,
            Err(e) => {
                // Out of file descriptors and the like: the listener itself
                // is fine. Pause briefly instead of spinning on the error.
                tracing::warn!(error = %e, "gateway: accept failed; pausing 100 ms");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let trusted = guard.proxies.contains(peer.ip());
        // A proxy speaks for many clients: its connections are not capped
        // when its forwarded addresses are believed.
        let exempt = trusted && cfg.trust_forwarded_for;
        let Some(peer_slot) = peers.take(peer.ip(), exempt) else {
            refuse_over_cap(&stream, peer, peers.cap(), tls.is_some());
            continue;
        };
        // With every slot busy, the client accepted here waits for one (the
        // next ones wait in the listen backlog), and idle keep-alive
        // connections are asked to close to make room.
        let Some(permit) = free_slot(&slots, &pressure, shutdown.as_mut()).await else {
            break;
        };
        let (stop_tx, stop_rx) = oneshot::channel();
        let conn = Conn {
            app: app.clone(),
            state: state.clone(),
            guard: guard.clone(),
            peer,
            trusted,
            limits,
            stop: stop_rx,
            pressure: pressure.subscribe(),
            _permit: permit,
            _peer: peer_slot,
        };
        let task = match &tls {
            None => conns.spawn(conn.plain(stream)),
            Some(acceptor) => conns.spawn(conn.tls(stream, acceptor.clone())),
        };
        stops.insert(task.id(), stop_tx);
    }

    drop(listener);
    // Event streams never end on their own: end them so they do not hold
    // the drain for its whole length.
    state.status_hub().close();
    drain(conns, stops).await;
    Ok(())
}

type Stops = HashMap<tokio::task::Id, oneshot::Sender<()>>;

/// Forget the stop signals of connections that have ended.
fn reap(conns: &mut JoinSet<()>, stops: &mut Stops) {
    while let Some(done) = conns.try_join_next_with_id() {
        let id = match done {
            Ok((id, ())) => id,
            Err(e) => e.id(),
        };
        stops.remove(&id);
    }
}

/// Ask every connection to finish, give them [`DRAIN`], then cut the rest.
async fn drain(mut conns: JoinSet<()>, mut stops: Stops) {
    for (_, stop) in stops.drain() {
        let _ = stop.send(());
    }
    let drained =
        tokio::time::timeout(DRAIN, async { while conns.join_next().await.is_some() {} }).await;
    if drained.is_err() {
        tracing::warn!(
            open = conns.len(),
            "gateway: connections still open after {DRAIN:?}; closing them"
        );
        conns.shutdown().await;
    }
}

/// A connection slot, waiting for one when all are taken. While waiting,
/// every idle keep-alive connection is asked to close, again every
/// [`SHED_EVERY`] (a connection that finishes its request meanwhile goes
/// idle too). `None` when `shutdown` completes first.
async fn free_slot<F: Future<Output = ()>>(
    slots: &Arc<Semaphore>,
    pressure: &watch::Sender<u64>,
    mut shutdown: std::pin::Pin<&mut F>,
) -> Option<OwnedSemaphorePermit> {
    if let Ok(p) = slots.clone().try_acquire_owned() {
        return Some(p);
    }
    loop {
        pressure.send_modify(|g| *g = g.wrapping_add(1));
        tokio::select! {
            p = slots.clone().acquire_owned() => return p.ok(),
            () = shutdown.as_mut() => return None,
            () = tokio::time::sleep(SHED_EVERY) => {}
        }
    }
}

/// Turn away a client over `max_connections_per_client`: a 503 when it
/// speaks plain HTTP (best effort, never waiting on the socket), then close.
fn refuse_over_cap(stream: &TcpStream, peer: SocketAddr, cap: Option<usize>, tls: bool) {
    let cap = cap.unwrap_or_default();
    tracing::debug!(peer = %peer, cap, "gateway: refused a connection over max_connections_per_client");
    if tls {
        return;
    }
    let body = ApiError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "too_many_connections",
        format!(
            "{} already holds {cap} connections ([gateway] max_connections_per_client); \
             reuse or close them and retry",
            peer.ip()
        ),
    )
    .body();
    let reply = format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\n\
         content-length: {}\r\nretry-after: 1\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = stream.try_write(reply.as_bytes());
}

#[derive(Clone, Copy)]
struct Limits {
    header: Duration,
    write: Duration,
    idle: Duration,
    /// The whole TLS handshake must finish within read_timeout.
    handshake: Duration,
}

/// What every connection checks on every request: the Host rule and which
/// peers are proxies.
struct Guard {
    hosts: HostPolicy,
    proxies: TrustedProxies,
    trust_forwarded_for: bool,
}

impl Guard {
    fn new(state: &GatewayState) -> Self {
        let cfg = state.config();
        // The host of a configured Telegram `webhook_url` is a public name
        // of this gateway by definition: Telegram sends it as Host.
        let config = state.ctx().config();
        let telegram = config
            .channel
            .telegram
            .as_ref()
            .filter(|t| t.enabled)
            .and_then(|t| t.webhook_url.as_deref())
            .and_then(|u| u.parse::<Uri>().ok())
            .and_then(|u| u.host().map(str::to_owned));
        let public = cfg
            .public_hosts
            .iter()
            .map(String::as_str)
            .chain(telegram.as_deref());
        Self {
            hosts: HostPolicy::new(&cfg.host, public),
            proxies: TrustedProxies::parse(&cfg.trusted_proxies),
            trust_forwarded_for: cfg.trust_forwarded_for,
        }
    }
}

/// One accepted connection and what it needs.
struct Conn {
    app: Router,
    state: GatewayState,
    guard: Arc<Guard>,
    peer: SocketAddr,
    /// The peer is one of `trusted_proxies`.
    trusted: bool,
    limits: Limits,
    /// Fires (or is dropped) when the server shuts down.
    stop: oneshot::Receiver<()>,
    /// Changes while the server is full and a client waits for a slot.
    pressure: watch::Receiver<u64>,
    /// Released when the connection ends, letting the next client in.
    _permit: OwnedSemaphorePermit,
    _peer: PeerSlot,
}

impl Conn {
    async fn plain(self, stream: TcpStream) {
        let _ = stream.set_nodelay(true);
        let io = WriteTimeout::new(stream, self.limits.write);
        self.run(io).await;
    }

    async fn tls(self, stream: TcpStream, acceptor: tokio_rustls::TlsAcceptor) {
        let _ = stream.set_nodelay(true);
        let io = WriteTimeout::new(stream, self.limits.write);
        match tokio::time::timeout(self.limits.handshake, acceptor.accept(io)).await {
            Ok(Ok(tls)) => self.run(tls).await,
            Ok(Err(e)) => {
                tracing::debug!(peer = %self.peer, error = %e, "gateway: TLS handshake failed")
            }
            Err(_) => {
                tracing::debug!(peer = %self.peer, "gateway: TLS handshake timed out (read_timeout)")
            }
        }
    }

    async fn run<I>(self, io: I)
    where
        I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let metrics = self.state.ctx().metrics.clone();
        metrics.connections_add(1);
        let activity = Arc::new(Activity::new());
        let peer = self.peer;
        let limits = self.limits;
        let mut builder = http1::Builder::new();
        builder
            .timer(TokioTimer::new())
            // Slowloris: the whole header must arrive within header_timeout.
            // hyper also starts this timer when a kept-alive connection goes
            // idle, so idle connections last at most that long as well.
            .header_read_timeout(limits.header)
            .keep_alive(true);
        let seen = activity.clone();
        let (app, state, guard) = (self.app, self.state, self.guard);
        let trusted = self.trusted;
        // Only the rate limiter and the access log need the peer address;
        // skip the extension (two allocations) when both are off.
        let needs_peer = state.limiter().is_some() || super::access::enabled();
        let service = hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
            let route = route_label(req.uri().path());
            let started = Instant::now();
            let admitted = admit(&guard, trusted, &mut req);
            if needs_peer {
                req.extensions_mut().insert(ConnectInfo(peer));
            }
            let guard = seen.begin();
            let app = app.clone();
            let state = state.clone();
            async move {
                let resp = match admitted {
                    Ok(()) => app.oneshot(req).await,
                    Err(refused) => Ok(refused.into_response()),
                };
                drop(guard);
                resp.map(|r| finish(&state, route, started, r))
            }
        });
        let conn = builder.serve_connection(TokioIo::new(io), service);
        tokio::pin!(conn);
        let mut stop = self.stop;
        let mut pressure = self.pressure;
        let mut pressure_open = true;
        let mut closing = false;
        loop {
            tokio::select! {
                r = conn.as_mut() => {
                    if let Err(e) = r {
                        tracing::debug!(peer = %peer, error = %e, "gateway: connection ended with an error");
                    }
                    break;
                }
                _ = &mut stop, if !closing => {
                    closing = true;
                    conn.as_mut().graceful_shutdown();
                }
                () = activity.idle_for(limits.idle), if !closing => {
                    closing = true;
                    conn.as_mut().graceful_shutdown();
                }
                changed = pressure.changed(), if !closing && pressure_open => {
                    pressure_open = changed.is_ok();
                    if pressure_open && activity.idle_keep_alive() {
                        closing = true;
                        conn.as_mut().graceful_shutdown();
                    }
                }
            }
        }
        metrics.connections_add(-1);
    }
}

/// What a request must pass before the router sees it: the Host rule, and
/// forwarded headers dropped unless the peer is a trusted proxy.
fn admit(guard: &Guard, trusted: bool, req: &mut hyper::Request<Incoming>) -> Result<(), ApiError> {
    if !guard.hosts.allows(req.uri(), req.headers()) {
        return Err(HostPolicy::refusal(req.uri(), req.headers()));
    }
    if guard.trust_forwarded_for && !trusted {
        strip_forwarded(req.headers_mut());
    }
    Ok(())
}

/// Requests in flight on one connection and when the last one ended, for
/// `connection_timeout` (idle keep-alive).
struct Activity {
    start: Instant,
    in_flight: AtomicUsize,
    last_ms: AtomicU64,
    /// At least one request has been answered: the connection is kept alive.
    served: AtomicBool,
}

struct InFlight(Arc<Activity>);

impl Activity {
    fn new() -> Self {
        Self {
            start: Instant::now(),
            in_flight: AtomicUsize::new(0),
            last_ms: AtomicU64::new(0),
            served: AtomicBool::new(false),
        }
    }

    /// Between two requests of a kept-alive connection: safe to close.
    fn idle_keep_alive(&self) -> bool {
        self.served.load(Ordering::Acquire) && self.in_flight.load(Ordering::Acquire) == 0
    }

    fn begin(self: &Arc<Self>) -> InFlight {
        self.in_flight.fetch_add(1, Ordering::AcqRel);
        InFlight(self.clone())
    }

    fn touch(&self) {
        let ms = u64::try_from(self.start.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last_ms.store(ms, Ordering::Release);
        self.served.store(true, Ordering::Release);
    }

    /// Completes once no request has been in flight for `idle`.
    async fn idle_for(&self, idle: Duration) {
        loop {
            if self.in_flight.load(Ordering::Acquire) > 0 {
                tokio::time::sleep(idle).await;
                continue;
            }
            let last = self.start + Duration::from_millis(self.last_ms.load(Ordering::Acquire));
            let deadline = last + idle;
            if Instant::now() >= deadline {
                return;
            }
            tokio::time::sleep_until(deadline).await;
        }
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.touch();
        self.0.in_flight.fetch_sub(1, Ordering::AcqRel);
    }
}
