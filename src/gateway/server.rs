//! The accept loop: plain or TLS connections served with hyper under the
//! gateway's connection limit and timeouts.
//!
//! Written by hand (on hyper and hyper-util) rather than with `axum::serve`
//! or axum-server's `Server`: neither lets us bound concurrent connections
//! (excess ones must wait in the kernel's backlog, not be accepted and
//! dropped), time out a stalled writer, or close idle keep-alive connections
//! on our own schedule — and TLS and plain must get the same rules.

use super::error::GatewayError;
use super::io::WriteTimeout;
use super::router::{finish, route_label};
use super::state::GatewayState;
use axum::Router;
use axum::extract::ConnectInfo;
use axum_server::accept::Accept;
use axum_server::tls_rustls::RustlsAcceptor;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use std::collections::HashMap;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, oneshot};
use tokio::task::JoinSet;
use tokio::time::Instant;
use tower::ServiceExt;

/// Open connections, for `/metrics`.
pub const OPEN_CONNECTIONS: &str = "zeroclaw_gateway_open_connections";

/// How long connections get to finish their requests after shutdown.
const DRAIN: Duration = Duration::from_secs(5);
/// How often per-client state is cleaned up.
const HOUSEKEEPING: Duration = Duration::from_secs(60);

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
        read: cfg.read_timeout.0,
        write: cfg.write_timeout.0,
        idle: cfg.connection_timeout.0,
    };
    let tls = state
        .tls()
        .cloned()
        .map(|c| RustlsAcceptor::new(c).handshake_timeout(limits.read));
    let slots = Arc::new(Semaphore::new(cfg.max_connections.max(1)));
    let mut conns = JoinSet::new();
    // One stop signal per connection (a oneshot polls without locks; a
    // shared watch would take a lock on every wake of every connection).
    let mut stops: HashMap<tokio::task::Id, oneshot::Sender<()>> = HashMap::new();
    let mut housekeeping = tokio::time::interval(HOUSEKEEPING);
    tokio::pin!(shutdown);

    loop {
        // Take a slot before accepting: with every slot busy, new clients
        // wait in the listen backlog instead of being accepted and dropped.
        let permit = tokio::select! {
            p = slots.clone().acquire_owned() => match p {
                Ok(p) => p,
                Err(_) => break,
            },
            () = &mut shutdown => break,
        };
        let accepted = tokio::select! {
            r = listener.accept() => r,
            () = &mut shutdown => break,
            _ = housekeeping.tick() => {
                state.housekeeping();
                continue;
            }
        };
        while let Some(done) = conns.try_join_next_with_id() {
            let id = match done {
                Ok((id, ())) => id,
                Err(e) => e.id(),
            };
            stops.remove(&id);
        }
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
        let (stop_tx, stop_rx) = oneshot::channel();
        let conn = Conn {
            app: app.clone(),
            state: state.clone(),
            peer,
            limits,
            stop: stop_rx,
            _permit: permit,
        };
        let task = match &tls {
            None => conns.spawn(conn.plain(stream)),
            Some(acceptor) => conns.spawn(conn.tls(stream, acceptor.clone())),
        };
        stops.insert(task.id(), stop_tx);
    }

    drop(listener);
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
    Ok(())
}

#[derive(Clone, Copy)]
struct Limits {
    read: Duration,
    write: Duration,
    idle: Duration,
}

/// One accepted connection and what it needs.
struct Conn {
    app: Router,
    state: GatewayState,
    peer: SocketAddr,
    limits: Limits,
    /// Fires (or is dropped) when the server shuts down.
    stop: oneshot::Receiver<()>,
    /// Released when the connection ends, letting the next client in.
    _permit: OwnedSemaphorePermit,
}

impl Conn {
    async fn plain(self, stream: TcpStream) {
        let _ = stream.set_nodelay(true);
        let io = WriteTimeout::new(stream, self.limits.write);
        self.run(io).await;
    }

    async fn tls(self, stream: TcpStream, acceptor: RustlsAcceptor) {
        let _ = stream.set_nodelay(true);
        let io = WriteTimeout::new(stream, self.limits.write);
        // The acceptor applies its handshake timeout (read_timeout).
        match acceptor.accept(io, ()).await {
            Ok((tls, _)) => self.run(tls).await,
            Err(e) => {
                tracing::debug!(peer = %self.peer, error = %e, "gateway: TLS handshake failed")
            }
        }
    }

    async fn run<I>(self, io: I)
    where
        I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let metrics = self.state.ctx().metrics.clone();
        metrics.gauge_add(OPEN_CONNECTIONS, &[], 1);
        let activity = Arc::new(Activity::new());
        let peer = self.peer;
        let app = self.app;
        let seen = activity.clone();
        let state = self.state;
        // Only the rate limiter needs the peer address; skip the extension
        // (two allocations) when it is off.
        let needs_peer = state.limiter().is_some();
        let service = hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
            let route = route_label(req.uri().path());
            if needs_peer {
                req.extensions_mut().insert(ConnectInfo(peer));
            }
            let guard = seen.begin();
            let app = app.clone();
            let state = state.clone();
            async move {
                let resp = app.oneshot(req).await;
                drop(guard);
                resp.map(|r| finish(&state, route, r))
            }
        });
        let mut builder = http1::Builder::new();
        builder
            .timer(TokioTimer::new())
            // Slowloris: the whole header must arrive within read_timeout.
            // hyper also starts this timer when a kept-alive connection goes
            // idle, so idle connections last at most read_timeout as well.
            .header_read_timeout(self.limits.read)
            .keep_alive(true);
        let conn = builder.serve_connection(TokioIo::new(io), service);
        tokio::pin!(conn);
        let mut stop = self.stop;
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
                () = activity.idle_for(self.limits.idle), if !closing => {
                    closing = true;
                    conn.as_mut().graceful_shutdown();
                }
            }
        }
        metrics.gauge_add(OPEN_CONNECTIONS, &[], -1);
    }
}

/// Requests in flight on one connection and when the last one ended, for
/// `connection_timeout` (idle keep-alive).
struct Activity {
    start: Instant,
    in_flight: AtomicUsize,
    last_ms: AtomicU64,
}

struct InFlight(Arc<Activity>);

impl Activity {
    fn new() -> Self {
        Self {
            start: Instant::now(),
            in_flight: AtomicUsize::new(0),
            last_ms: AtomicU64::new(0),
        }
    }

    fn begin(self: &Arc<Self>) -> InFlight {
        self.in_flight.fetch_add(1, Ordering::AcqRel);
        InFlight(self.clone())
    }

    fn touch(&self) {
        let ms = u64::try_from(self.start.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last_ms.store(ms, Ordering::Release);
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
