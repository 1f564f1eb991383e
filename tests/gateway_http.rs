//! The gateway over real HTTP, in-process: `serve` on 127.0.0.1:0 with the
//! echo agent, driven with reqwest and raw sockets. What a user sees of the
//! webhook, idempotency, rate limit and connection limit is tested through
//! the real binary in `gateway_binary.rs`, not again here.
//!
//! Each test starts its own gateway through [`Gw::start`]; porting one to the
//! real binary means replacing that call with "write the config, run
//! `zeroclaw gateway --port 0`, read the URL from stdout" and keeping the
//! HTTP part as it is.

mod support;

use ractor::{Actor, ActorProcessingErr, ActorRef};
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use support::http::{SelfSigned, assert_error, assert_serves_over_tls, json_of};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use tokio::time::Instant;
use zeroclaw::channels::msg::ChannelMsg;
use zeroclaw::config::Config;
use zeroclaw::config::schema::{SlackConfig, TelegramConfig};
use zeroclaw::config::types::{Seconds, Secret};
use zeroclaw::daemon::wiring::Shared;

type Ctx = Arc<Shared>;
use zeroclaw::gateway::slack_sig;
use zeroclaw::gateway::{ChannelLookup, GatewayArgs, GatewayError, GatewayState, serve};

const TOKEN: &str = "test-token-0123456789";

/// A gateway serving in this process.
struct Gw {
    url: String,
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<Result<(), GatewayError>>,
}

impl Gw {
    async fn start(config: Config) -> Gw {
        Self::start_with(config, None).await
    }

    async fn start_with(config: Config, lookup: Option<ChannelLookup>) -> Gw {
        zeroclaw::tls::install_crypto_provider();
        let ctx = ctx_for(config);
        let state = match lookup {
            Some(l) => GatewayState::with_channel_lookup(ctx.gateway_deps(), l).await,
            None => GatewayState::new(ctx.gateway_deps()).await,
        }
        .expect("gateway state");
        let tls = state.tls().is_some();
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(serve(listener, state, async {
            let _ = stopped.await;
        }));
        let scheme = if tls { "https" } else { "http" };
        Gw {
            url: format!("{scheme}://{addr}"),
            addr,
            stop: Some(stop),
            task,
        }
    }

    fn at(&self, path: &str) -> String {
        format!("{}{path}", self.url)
    }

    async fn shutdown(mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        // Idle keep-alive connections close at once, so this is quick.
        let r = tokio::time::timeout(Duration::from_secs(3), &mut self.task)
            .await
            .expect("serve returns promptly after shutdown");
        assert!(matches!(r, Ok(Ok(()))), "serve ended with {r:?}");
    }
}

fn ctx_for(config: Config) -> Ctx {
    let workdir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    Arc::new(Shared::build(config, None, workdir).expect("agent"))
}

fn config() -> Config {
    let mut c = Config::default();
    c.gateway.host = "127.0.0.1".into();
    c.gateway.port = 0;
    c.gateway.auth_token = Some(Secret::new(TOKEN));
    c
}

fn client() -> reqwest::Client {
    support::http::client(Duration::from_secs(20))
}

/// Poll `f` until it yields `Some`, or fail after `deadline`.
async fn eventually<T, F, Fut>(deadline: Duration, what: &str, mut f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let end = Instant::now() + deadline;
    loop {
        if let Some(v) = f().await {
            return v;
        }
        assert!(Instant::now() < end, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn health_ready_and_metrics() {
    let gw = Gw::start(config()).await;
    let c = client();
    let (s, b) = json_of(c.get(gw.at("/health")).send().await.unwrap()).await;
    assert_eq!(s, 200);
    assert_eq!(b["status"], "ok");
    assert_eq!(b["version"], zeroclaw::VERSION);
    assert!(b["uptime_secs"].is_u64());
    assert_eq!(b["components"]["gateway"], "running");
    let (s, _) = json_of(c.get(gw.at("/ready")).send().await.unwrap()).await;
    assert_eq!(s, 200);

    let (s, b) = json_of(c.get(gw.at("/metrics")).send().await.unwrap()).await;
    assert_eq!(s, 401);
    assert_error(&b, "unauthorized");
    let resp = c
        .get(gw.at("/metrics"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert!(
        resp.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain; version=0.0.4")
    );
    let text = resp.text().await.unwrap();
    assert!(
        text.contains("zeroclaw_http_requests_total{route=\"/health\",status=\"200\"} 1"),
        "{text}"
    );
    assert!(text.contains("zeroclaw_http_requests_total{route=\"/metrics\",status=\"401\"} 1"));
    assert!(text.contains("zeroclaw_gateway_open_connections "));
    gw.shutdown().await;
}

#[tokio::test]
async fn errors_are_json_with_the_right_status() {
    let mut cfg = config();
    cfg.gateway.max_body_size = bytesize::ByteSize::kib(1);
    let gw = Gw::start(cfg).await;
    let c = client();

    let (s, b) = json_of(c.get(gw.at("/nope")).send().await.unwrap()).await;
    assert_eq!(s, 404);
    assert_error(&b, "not_found");

    let resp = c.get(gw.at("/webhook")).send().await.unwrap();
    assert!(resp.headers().contains_key("allow"));
    let (s, b) = json_of(resp).await;
    assert_eq!(s, 405);
    assert_error(&b, "method_not_allowed");

    let post = |body: Vec<u8>, ct: &'static str| {
        c.post(gw.at("/webhook"))
            .bearer_auth(TOKEN)
            .header("content-type", ct)
            .body(body)
            .send()
    };
    let big = serde_json::to_vec(&json!({"message": "x".repeat(4096)})).unwrap();
    let (s, b) = json_of(post(big, "application/json").await.unwrap()).await;
    assert_eq!(s, 413);
    assert_error(&b, "payload_too_large");

    let (s, b) = json_of(
        post(b"message=hi".to_vec(), "application/x-www-form-urlencoded")
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, 415);
    assert_error(&b, "unsupported_media_type");

    let (s, b) = json_of(
        post(b"{\"message\": ".to_vec(), "application/json")
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, 400);
    assert_error(&b, "bad_request");

    let (s, b) = json_of(
        post(b"{\"text\": \"hi\"}".to_vec(), "application/json")
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, 400);
    assert_error(&b, "bad_request");

    // A chunked body (no Content-Length) over the limit is cut too.
    let text = support::http::chunked_webhook(gw.addr, TOKEN, Duration::from_secs(5)).await;
    assert!(text.starts_with("HTTP/1.1 413"), "{text}");
    assert!(text.contains("payload_too_large"), "{text}");
    gw.shutdown().await;
}

#[tokio::test]
async fn slow_headers_are_cut_within_read_timeout() {
    let mut cfg = config();
    cfg.gateway.read_timeout = Seconds::from_secs(1);
    let gw = Gw::start(cfg).await;
    let started = Instant::now();
    let mut s = TcpStream::connect(gw.addr).await.unwrap();
    s.write_all(b"POST /webhook HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        .await
        .unwrap();
    // Trickle a header one byte at a time; the server must hang up.
    let closed_after = loop {
        let wrote = s.write_all(b"X").await;
        let mut buf = [0u8; 512];
        let read = tokio::time::timeout(Duration::from_millis(150), s.read(&mut buf)).await;
        let closed = wrote.is_err() || matches!(read, Ok(Ok(0)) | Ok(Err(_)));
        // An error response (408) before closing counts as cut too.
        let answered = matches!(read, Ok(Ok(n)) if n > 0);
        if closed || answered {
            break started.elapsed();
        }
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "slowloris not cut"
        );
    };
    assert!(
        closed_after < Duration::from_secs(2),
        "cut after {closed_after:?}"
    );
    gw.shutdown().await;
}

#[tokio::test]
async fn slow_body_is_cut_within_read_timeout() {
    let mut cfg = config();
    cfg.gateway.read_timeout = Seconds::from_secs(1);
    let gw = Gw::start(cfg).await;
    let started = Instant::now();
    let mut s = TcpStream::connect(gw.addr).await.unwrap();
    let head = format!(
        "POST /webhook HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {TOKEN}\r\n\
         Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{{"
    );
    s.write_all(head.as_bytes()).await.unwrap();
    let mut got = Vec::new();
    loop {
        let _ = s.write_all(b" ").await;
        let mut buf = [0u8; 1024];
        match tokio::time::timeout(Duration::from_millis(150), s.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => break,
            Ok(Ok(n)) => {
                got.extend_from_slice(&buf[..n]);
                break;
            }
            Err(_) => {}
        }
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "slow body not cut"
        );
    }
    let elapsed = started.elapsed();
    assert!(elapsed < Duration::from_secs(2), "cut after {elapsed:?}");
    let text = String::from_utf8_lossy(&got);
    assert!(
        text.is_empty() || text.starts_with("HTTP/1.1 408"),
        "{text}"
    );
    gw.shutdown().await;
}

#[tokio::test]
async fn idle_keep_alive_connections_are_closed() {
    let mut cfg = config();
    cfg.gateway.connection_timeout = Seconds::from_secs(1);
    let gw = Gw::start(cfg).await;
    let mut s = TcpStream::connect(gw.addr).await.unwrap();
    s.write_all(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        .await
        .unwrap();
    let started = Instant::now();
    let mut got = Vec::new();
    let mut buf = [0u8; 2048];
    loop {
        match tokio::time::timeout(Duration::from_secs(5), s.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => break,
            Ok(Ok(n)) => got.extend_from_slice(&buf[..n]),
            Err(_) => panic!("idle connection still open after 5 s"),
        }
    }
    assert!(String::from_utf8_lossy(&got).starts_with("HTTP/1.1 200"));
    assert!(started.elapsed() < Duration::from_secs(3));
    gw.shutdown().await;
}

#[tokio::test]
async fn tls_with_a_generated_certificate() {
    let cert = SelfSigned::new(&["localhost"]);
    let mut cfg = config();
    cfg.gateway.tls_cert = Some(cert.cert.clone());
    cfg.gateway.tls_key = Some(cert.key.clone());
    let gw = Gw::start(cfg).await;
    assert!(gw.url.starts_with("https://"));
    let url = format!("https://localhost:{}", gw.addr.port());
    assert_serves_over_tls(&cert.client(Duration::from_secs(20)), &url, TOKEN).await;
    // Plain HTTP on the TLS port gets no answer.
    let plain = client()
        .get(format!("http://{}/health", gw.addr))
        .send()
        .await;
    assert!(plain.is_err() || plain.is_ok_and(|r| r.status() != 200));
    gw.shutdown().await;
}

#[tokio::test]
async fn a_tls_client_that_never_finishes_its_handshake_is_cut_within_read_timeout() {
    let cert = SelfSigned::new(&["localhost"]);
    let mut cfg = config();
    cfg.gateway.tls_cert = Some(cert.cert.clone());
    cfg.gateway.tls_key = Some(cert.key.clone());
    cfg.gateway.read_timeout = Seconds::from_secs(1);
    let gw = Gw::start(cfg).await;
    let started = Instant::now();
    let mut s = TcpStream::connect(gw.addr).await.unwrap();
    // The first bytes of a ClientHello record, then silence.
    s.write_all(&[0x16, 0x03, 0x01]).await.unwrap();
    let mut buf = [0u8; 64];
    let read = tokio::time::timeout(Duration::from_secs(5), s.read(&mut buf)).await;
    assert!(
        matches!(read, Ok(Ok(0)) | Ok(Err(_))),
        "the half-open handshake was not closed: {read:?}"
    );
    let closed_after = started.elapsed();
    assert!(
        closed_after >= Duration::from_millis(900) && closed_after < Duration::from_secs(3),
        "cut after {closed_after:?}"
    );
    gw.shutdown().await;
}

/// A stand-in channel actor: forwards what it receives to the test.
struct FakeChannel;

impl Actor for FakeChannel {
    type Msg = ChannelMsg;
    type State = mpsc::UnboundedSender<Value>;
    type Arguments = mpsc::UnboundedSender<Value>;

    async fn pre_start(
        &self,
        _myself: ActorRef<Self::Msg>,
        tx: Self::Arguments,
    ) -> Result<Self::State, ActorProcessingErr> {
        Ok(tx)
    }

    async fn handle(
        &self,
        _myself: ActorRef<Self::Msg>,
        msg: Self::Msg,
        tx: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        match msg {
            ChannelMsg::TelegramUpdate(v) | ChannelMsg::SlackEvent(v) => {
                let _ = tx.send(v);
            }
            ChannelMsg::Deliver { .. }
            | ChannelMsg::ConnectionLost(_)
            | ChannelMsg::CredentialRejected(_) => {}
        }
        Ok(())
    }
}

async fn fake_channel(
    child: &'static str,
) -> (
    ChannelLookup,
    mpsc::UnboundedReceiver<Value>,
    ActorRef<ChannelMsg>,
) {
    let (tx, rx) = mpsc::unbounded_channel();
    let (actor, _) = Actor::spawn(None, FakeChannel, tx).await.unwrap();
    let cell = actor.get_cell();
    let lookup: ChannelLookup = Arc::new(move |name: &str| (name == child).then(|| cell.clone()));
    (lookup, rx, actor)
}

#[tokio::test]
async fn telegram_webhook_checks_the_secret_and_dedupes() {
    let mut cfg = config();
    cfg.channel.telegram = Some(TelegramConfig {
        bot_token: Some(Secret::new("123:abc")),
        webhook_url: Some("https://example.invalid/webhook/telegram".into()),
        webhook_secret: Some(Secret::new("tg-secret")),
        ..TelegramConfig::default()
    });
    let (lookup, mut rx, actor) = fake_channel("channel:telegram").await;
    let gw = Gw::start_with(cfg, Some(lookup)).await;
    let c = client();
    let update = json!({"update_id": 1001, "message": {"text": "hi", "chat": {"id": 5}}});
    let send = |secret: Option<&'static str>| {
        let mut r = c.post(gw.at("/webhook/telegram")).json(&update);
        if let Some(s) = secret {
            r = r.header("X-Telegram-Bot-Api-Secret-Token", s);
        }
        r.send()
    };
    let (s, b) = json_of(send(Some("wrong")).await.unwrap()).await;
    assert_eq!(s, 401);
    assert_error(&b, "unauthorized");
    let (s, _) = json_of(send(None).await.unwrap()).await;
    assert_eq!(s, 401);

    let (s, b) = json_of(send(Some("tg-secret")).await.unwrap()).await;
    assert_eq!((s, &b["ok"]), (200, &json!(true)));
    let got = tokio::time::timeout(Duration::from_secs(5), rx.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(got["update_id"], 1001);
    // Telegram retrying the same update: acknowledged, not delivered twice.
    let (s, b) = json_of(send(Some("tg-secret")).await.unwrap()).await;
    assert_eq!((s, &b["duplicate"]), (200, &json!(true)));
    assert!(rx.try_recv().is_err());

    // Channel down: 503, and the update is not marked as seen.
    actor.stop(None);
    eventually(Duration::from_secs(5), "the channel to stop", || async {
        (actor.get_status() == ractor::ActorStatus::Stopped).then_some(())
    })
    .await;
    let next = json!({"update_id": 1002});
    let r = c
        .post(gw.at("/webhook/telegram"))
        .header("X-Telegram-Bot-Api-Secret-Token", "tg-secret")
        .json(&next)
        .send()
        .await
        .unwrap();
    assert!(r.headers().contains_key("retry-after"));
    let (s, b) = json_of(r).await;
    assert_eq!(s, 503);
    assert_error(&b, "channel_unavailable");
    gw.shutdown().await;
}

#[tokio::test]
async fn telegram_without_a_running_channel_is_503() {
    let mut cfg = config();
    cfg.channel.telegram = Some(TelegramConfig {
        bot_token: Some(Secret::new("123:abc")),
        webhook_secret: Some(Secret::new("tg-secret")),
        ..TelegramConfig::default()
    });
    let gw = Gw::start(cfg).await;
    let r = client()
        .post(gw.at("/webhook/telegram"))
        .header("X-Telegram-Bot-Api-Secret-Token", "tg-secret")
        .json(&json!({"update_id": 1}))
        .send()
        .await
        .unwrap();
    let (s, b) = json_of(r).await;
    assert_eq!(s, 503);
    assert_error(&b, "channel_unavailable");
    gw.shutdown().await;
}

fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

#[tokio::test]
async fn slack_events_are_verified_answered_and_deduped() {
    let secret = "slack-signing-secret";
    let mut cfg = config();
    cfg.channel.slack = Some(SlackConfig {
        bot_token: Some(Secret::new("xoxb-1")),
        signing_secret: Some(Secret::new(secret)),
        ..SlackConfig::default()
    });
    let (lookup, mut rx, _actor) = fake_channel("channel:slack").await;
    let gw = Gw::start_with(cfg, Some(lookup)).await;
    let c = client();
    let post = |body: String, ts: i64, sig: Option<String>| {
        let mut r = c
            .post(gw.at("/webhook/slack"))
            .header("content-type", "application/json")
            .header("x-slack-request-timestamp", ts.to_string())
            .body(body);
        if let Some(s) = sig {
            r = r.header("x-slack-signature", s);
        }
        r.send()
    };
    let sign =
        |body: &str, ts: i64| slack_sig::sign(secret.as_bytes(), &ts.to_string(), body.as_bytes());

    // url_verification
    let body =
        json!({"type": "url_verification", "token": "x", "challenge": "ch4ll3nge"}).to_string();
    let now = unix_now();
    let (s, b) = json_of(
        post(body.clone(), now, Some(sign(&body, now)))
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(b["challenge"], "ch4ll3nge");

    // Bad signature, missing signature, stale timestamp.
    let (s, b) = json_of(
        post(body.clone(), now, Some("v0=00ff".into()))
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, 401);
    assert_error(&b, "unauthorized");
    let (s, _) = json_of(post(body.clone(), now, None).await.unwrap()).await;
    assert_eq!(s, 401);
    let old = now - 6 * 60;
    let (s, b) = json_of(
        post(body.clone(), old, Some(sign(&body, old)))
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, 401);
    assert!(
        b["error"]["message"]
            .as_str()
            .unwrap()
            .contains("5 minutes"),
        "{b}"
    );

    // An event: forwarded once, a retry acknowledged and dropped.
    let event = json!({
        "type": "event_callback", "event_id": "Ev01", "team_id": "T1",
        "event": {"type": "message", "text": "hi", "channel": "C1", "user": "U1"}
    })
    .to_string();
    let (s, b) = json_of(
        post(event.clone(), now, Some(sign(&event, now)))
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((s, &b["ok"]), (200, &json!(true)));
    let got = tokio::time::timeout(Duration::from_secs(5), rx.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(got["event_id"], "Ev01");
    let (s, b) = json_of(
        post(event.clone(), now, Some(sign(&event, now)))
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((s, &b["duplicate"]), (200, &json!(true)));
    assert!(rx.try_recv().is_err());
    gw.shutdown().await;
}

#[tokio::test]
async fn port_in_use_names_the_address_and_what_answers_there() {
    // A zeroclaw gateway already there.
    let gw = Gw::start(config()).await;
    let err = zeroclaw::gateway::bind::bind(gw.addr, 16, false)
        .await
        .unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains(&gw.addr.to_string()), "{msg}");
    assert!(msg.contains("already in use"), "{msg}");
    assert!(msg.contains("a zeroclaw gateway"), "{msg}");
    assert!(
        msg.contains(&format!("lsof -i :{}", gw.addr.port())),
        "{msg}"
    );

    // Something else (silent) there.
    let other = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = other.local_addr().unwrap();
    let msg = zeroclaw::gateway::bind::bind(addr, 16, false)
        .await
        .unwrap_err()
        .to_string();
    assert!(msg.contains("not a zeroclaw"), "{msg}");
    assert!(msg.contains(&format!("lsof -i :{}", addr.port())), "{msg}");
    gw.shutdown().await;
}

/// The actor on its own (no supervisor): binds in `pre_start`, reports the
/// address, fails its start when the port is taken, keeps a `port = 0`
/// port across a restart.
#[tokio::test]
async fn actor_reports_its_port_and_fails_start_when_taken() {
    zeroclaw::tls::install_crypto_provider();
    let ctx = ctx_for(config());
    let last_bound = Arc::new(std::sync::Mutex::new(None));
    let args = || GatewayArgs {
        ctx: ctx.gateway_deps(),
        last_bound: last_bound.clone(),
    };
    let (actor, handle) = Actor::spawn(None, zeroclaw::gateway::GatewayActor, args())
        .await
        .expect("gateway starts");
    let url = ctx.detail("gateway").expect("bound address recorded");
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    let port: u16 = url.rsplit(':').next().unwrap().parse().unwrap();
    assert_ne!(port, 0);
    let (s, b) = json_of(client().get(format!("{url}/health")).send().await.unwrap()).await;
    assert_eq!((s, &b["status"]), (200, &json!("ok")));

    // A second gateway on the same fixed port: a failed start, explained.
    let mut taken = config();
    taken.gateway.port = port;
    let second = GatewayArgs {
        ctx: ctx_for(taken).gateway_deps(),
        last_bound: Arc::new(std::sync::Mutex::new(None)),
    };
    let err = Actor::spawn(None, zeroclaw::gateway::GatewayActor, second)
        .await
        .expect_err("start fails while the port is taken")
        .to_string();
    assert!(
        err.contains("already in use") && err.contains("lsof -i :"),
        "{err}"
    );

    // Restart: the port-0 gateway comes back on the same port.
    actor.stop(None);
    handle.await.unwrap();
    let (actor, handle) = Actor::spawn(None, zeroclaw::gateway::GatewayActor, args())
        .await
        .expect("gateway restarts");
    assert_eq!(ctx.detail("gateway").as_deref(), Some(url.as_str()));
    let (s, _) = json_of(client().get(format!("{url}/health")).send().await.unwrap()).await;
    assert_eq!(s, 200);
    actor.stop(None);
    handle.await.unwrap();
}

#[tokio::test]
async fn public_host_without_token_is_refused() {
    let mut cfg = config();
    cfg.gateway.host = "0.0.0.0".into();
    cfg.gateway.auth_token = None;
    let err = GatewayState::new(ctx_for(cfg).gateway_deps())
        .await
        .err()
        .expect("refused")
        .to_string();
    assert!(
        err.contains("auth_token") && err.contains("allow_insecure"),
        "{err}"
    );
}

#[tokio::test]
async fn rate_limit_keys_on_the_proxy_reported_client_when_trusted() {
    let mut cfg = config();
    cfg.gateway.rate_limit = 2;
    cfg.gateway.trust_forwarded_for = true;
    let gw = Gw::start(cfg).await;
    let c = client();
    let hit = |ip: &'static str| {
        c.get(gw.at("/metrics"))
            .bearer_auth(TOKEN)
            .header("x-forwarded-for", format!("198.51.100.99, {ip}"))
            .send()
    };
    assert_eq!(hit("203.0.113.1").await.unwrap().status(), 200);
    assert_eq!(hit("203.0.113.1").await.unwrap().status(), 200);
    assert_eq!(hit("203.0.113.1").await.unwrap().status(), 429);
    // Another client behind the same proxy has its own allowance.
    assert_eq!(hit("203.0.113.2").await.unwrap().status(), 200);
    gw.shutdown().await;
}
