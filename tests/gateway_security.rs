//! The gateway against an attacker on the network, through the real binary
//! (`zeroclaw gateway --port 0`): idle sockets, unauthenticated bodies,
//! missing credentials, foreign Host names and forged forwarded headers.
//! docs/security.md lists each defence and its config key.

mod support;

use serde_json::{Value, json};
use std::net::SocketAddr;
use std::time::Duration;
use support::daemon::{Daemon, Env};
use support::slack::{BOT_TOKEN, FakeSlack};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

const TOKEN: &str = "test-token-0123456789";
/// Generous: the machine running the suite may be busy.
const T: Duration = Duration::from_secs(30);
/// Well under every timeout the configs below set (60 s): an answer within
/// this came from a check, not from a timeout expiring.
const PROMPT: Duration = Duration::from_secs(5);

fn start(gateway_keys: &str, rest: &str) -> (Env, Daemon, String) {
    let env = Env::new(&format!("[gateway]\nport = 0\n{gateway_keys}\n{rest}"));
    let (d, url) = env.start_gateway(&["--port", "0"]);
    (env, d, url)
}

fn addr_of(url: &str) -> SocketAddr {
    let authority = url.split_once("://").map_or(url, |(_, rest)| rest);
    authority.parse().expect("a socket address in the URL")
}

fn client_from(local: [u8; 4]) -> reqwest::Client {
    zeroclaw::tls::install_crypto_provider();
    reqwest::Client::builder()
        .timeout(T)
        .no_proxy()
        .local_address(std::net::IpAddr::from(local))
        .build()
        .expect("client")
}

async fn connect_from(local: [u8; 4], to: SocketAddr) -> TcpStream {
    let socket = TcpSocket::new_v4().expect("socket");
    socket
        .bind(SocketAddr::from((local, 0)))
        .expect("bind the client socket");
    socket.connect(to).await.expect("connect")
}

/// Send `head` (and nothing more) and read what comes back until the
/// server closes, within [`PROMPT`].
async fn answer_to(to: SocketAddr, head: &str) -> String {
    let mut s = connect_from([127, 0, 0, 1], to).await;
    s.write_all(head.as_bytes()).await.expect("write");
    let mut got = Vec::new();
    let read = tokio::time::timeout(PROMPT, s.read_to_end(&mut got)).await;
    let text = String::from_utf8_lossy(&got).into_owned();
    assert!(
        read.is_ok() || text.contains("\r\n\r\n"),
        "no answer within {PROMPT:?}; got {text:?}"
    );
    text
}

async fn json_of(resp: reqwest::Response) -> (u16, Value) {
    let status = resp.status().as_u16();
    let body = resp.json::<Value>().await.expect("JSON body");
    (status, body)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_sockets_from_one_address_do_not_starve_another() {
    // max_connections = 8: the default per-client cap is 2.
    let (_env, d, url) = start(
        &format!("auth_token = \"{TOKEN}\"\nmax_connections = 8\nread_timeout = 60"),
        "",
    );
    let addr = addr_of(&url);
    let mut idle = Vec::new();
    for _ in 0..50 {
        idle.push(connect_from([127, 0, 0, 2], addr).await);
    }
    let started = tokio::time::Instant::now();
    let r = tokio::time::timeout(
        PROMPT,
        client_from([127, 0, 0, 1])
            .get(format!("{url}/health"))
            .send(),
    )
    .await
    .unwrap_or_else(|_| panic!("/health not answered within {PROMPT:?}:\n{}", d.stderr()))
    .expect("/health");
    assert_eq!(r.status(), 200);
    eprintln!("/health answered in {:?}", started.elapsed());
    // The sockets over the cap were turned away with a reason.
    let last = idle.last_mut().expect("sockets");
    let mut got = Vec::new();
    let _ = tokio::time::timeout(PROMPT, last.read_to_end(&mut got)).await;
    let text = String::from_utf8_lossy(&got);
    assert!(
        text.is_empty() || text.starts_with("HTTP/1.1 503"),
        "{text}"
    );
    if !text.is_empty() {
        assert!(text.contains("max_connections_per_client"), "{text}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_keep_alive_connections_make_room_when_full() {
    // Only the keys of before the per-client cap: each client below is on
    // an address of its own, under the default cap (1 with 2 slots).
    let (_env, d, url) = start(
        &format!(
            "auth_token = \"{TOKEN}\"\nmax_connections = 2\nread_timeout = 60\n\
             connection_timeout = 60"
        ),
        "",
    );
    let addr = addr_of(&url);
    // Two kept-alive connections, each after one request, take both slots.
    let mut kept = Vec::new();
    for local in [[127, 0, 0, 2], [127, 0, 0, 3]] {
        let mut s = connect_from(local, addr).await;
        s.write_all(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            .await
            .unwrap();
        let mut buf = [0u8; 4096];
        let n = tokio::time::timeout(T, s.read(&mut buf))
            .await
            .expect("an answer")
            .unwrap();
        assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"));
        kept.push(s);
    }
    let r = tokio::time::timeout(
        PROMPT,
        client_from([127, 0, 0, 1])
            .get(format!("{url}/health"))
            .send(),
    )
    .await
    .unwrap_or_else(|_| panic!("/health waited behind idle connections:\n{}", d.stderr()))
    .expect("/health");
    assert_eq!(r.status(), 200);
    // At least one of the idle ones was closed to make room.
    let mut closed = 0;
    for s in &mut kept {
        let mut buf = [0u8; 64];
        if let Ok(Ok(0)) = tokio::time::timeout(Duration::from_millis(500), s.read(&mut buf)).await
        {
            closed += 1;
        }
    }
    assert!(closed >= 1, "no idle keep-alive connection was closed");
}

/// The Slack route with a signing secret and a 60 s read timeout.
async fn slack_gateway() -> (FakeSlack, Env, Daemon, String) {
    let fake = FakeSlack::start().await;
    let (env, d, url) = start(
        &format!("auth_token = \"{TOKEN}\"\nread_timeout = 60"),
        &format!(
            "[channel.slack]\nbot_token = \"{BOT_TOKEN}\"\nsigning_secret = \"slack-secret\"\n\
             allowed_channels = [\"C1\"]\napi_base = \"{}\"\n",
            fake.api_base()
        ),
    );
    (fake, env, d, url)
}

fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slack_route_checks_headers_before_reading_a_body() {
    let (_fake, _env, _d, url) = slack_gateway().await;
    let addr = addr_of(&url);

    // No signature headers: refused without waiting for the declared MiB.
    let head = "POST /webhook/slack HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\
                Content-Type: application/json\r\nContent-Length: 1048576\r\n\r\n";
    let text = answer_to(addr, head).await;
    assert!(text.starts_with("HTTP/1.1 401"), "{text}");
    assert!(text.contains("X-Slack-Signature"), "{text}");

    // Well-formed (forged) headers and a declared body over the small
    // limit: 413 at once, nothing read.
    let forged = format!(
        "X-Slack-Request-Timestamp: {}\r\nX-Slack-Signature: v0={}\r\n",
        unix_now(),
        "ab".repeat(32)
    );
    let head = format!(
        "POST /webhook/slack HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n{forged}\
         Content-Type: application/json\r\nContent-Length: 1048576\r\n\r\n"
    );
    let text = answer_to(addr, &head).await;
    assert!(text.starts_with("HTTP/1.1 413"), "{text}");
    assert!(text.contains("max_unauthenticated_body_size"), "{text}");

    // A chunked body is cut once it passes the limit (64 KiB by default).
    let mut s = connect_from([127, 0, 0, 1], addr).await;
    let head = format!(
        "POST /webhook/slack HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n{forged}\
         Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
    );
    s.write_all(head.as_bytes()).await.unwrap();
    for _ in 0..32 {
        let chunk = format!("1000\r\n{}\r\n", " ".repeat(4096));
        if s.write_all(chunk.as_bytes()).await.is_err() {
            break;
        }
    }
    let mut got = Vec::new();
    let _ = tokio::time::timeout(PROMPT, s.read_to_end(&mut got)).await;
    let text = String::from_utf8_lossy(&got);
    assert!(text.starts_with("HTTP/1.1 413"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhook_without_a_token_fails_closed_unless_allowed() {
    let body = json!({"message": "hello"});
    let (_env, _d, url) = start("", "");
    let (s, b) = json_of(
        client_from([127, 0, 0, 1])
            .post(format!("{url}/webhook"))
            .json(&body)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, 403, "{b}");
    assert_eq!(b["error"]["code"], "auth_not_configured", "{b}");
    let msg = b["error"]["message"].as_str().unwrap_or_default();
    assert!(
        msg.contains("auth_token") && msg.contains("allow_unauthenticated"),
        "{b}"
    );

    let (_env, d, url) = start("allow_unauthenticated = true", "");
    let (s, b) = json_of(
        client_from([127, 0, 0, 1])
            .post(format!("{url}/webhook"))
            .json(&body)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((s, &b["response"]), (200, &json!("echo: hello")), "{b}");
    let log = d.stderr();
    assert!(
        log.contains("WARN") && log.contains("allow_unauthenticated"),
        "no start-up warning:\n{log}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_for_a_foreign_host_are_refused() {
    let (_env, _d, url) = start(&format!("auth_token = \"{TOKEN}\""), "");
    let port = addr_of(&url).port();
    let c = client_from([127, 0, 0, 1]);
    let with_host = |path: &str, host: String| {
        c.post(format!("{url}{path}"))
            .header("host", host)
            .bearer_auth(TOKEN)
            .json(&json!({"message": "rebound"}))
            .send()
    };
    // A DNS-rebinding page: the browser sends its own name as Host.
    let (s, b) = json_of(
        with_host("/webhook", format!("evil.example:{port}"))
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, 403, "{b}");
    assert_eq!(b["error"]["code"], "host_not_allowed", "{b}");
    assert!(
        b["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("public_hosts")),
        "{b}"
    );
    let r = c
        .get(format!("{url}/health"))
        .header("host", "evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    // The bound address and localhost are served.
    for host in [format!("127.0.0.1:{port}"), format!("localhost:{port}")] {
        let (s, b) = json_of(with_host("/webhook", host.clone()).await.unwrap()).await;
        assert_eq!(
            (s, &b["response"]),
            (200, &json!("echo: rebound")),
            "{host}: {b}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn public_hosts_are_served() {
    let (_env, _d, url) = start(
        &format!("auth_token = \"{TOKEN}\"\npublic_hosts = [\"bot.example.com\"]"),
        "",
    );
    let c = client_from([127, 0, 0, 1]);
    for (host, status) in [("bot.example.com", 200), ("other.example.com", 403)] {
        let r = c
            .get(format!("{url}/health"))
            .header("host", host)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), status, "{host}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forwarded_for_is_believed_only_from_trusted_proxies() {
    let (_env, _d, url) = start(
        &format!(
            "auth_token = \"{TOKEN}\"\nrate_limit = 2\ntrust_forwarded_for = true\n\
             trusted_proxies = [\"127.0.0.1\"]"
        ),
        "",
    );
    let hit = |c: reqwest::Client, forwarded: String| {
        let url = url.clone();
        async move {
            c.get(format!("{url}/metrics"))
                .bearer_auth(TOKEN)
                .header("x-forwarded-for", forwarded)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    // Not a proxy: a new forged address per request does not reset the limit.
    let direct = client_from([127, 0, 0, 2]);
    let mut statuses = Vec::new();
    for i in 0..4 {
        statuses.push(hit(direct.clone(), format!("203.0.113.{i}")).await);
    }
    assert_eq!(statuses, [200, 200, 429, 429]);
    // The trusted proxy: each forwarded client has its own allowance.
    let proxy = client_from([127, 0, 0, 1]);
    for i in 0..4 {
        assert_eq!(hit(proxy.clone(), format!("198.51.100.{i}")).await, 200);
    }
}

#[test]
fn bad_security_keys_are_named_by_config_check() {
    let env = Env::new(
        "[gateway]\ntrusted_proxies = [\"10.0.0.0/33\"]\npublic_hosts = [\"https://bot.example.com/\"]\n\
         header_timeout = 0\nmax_unauthenticated_body_size = 0\n",
    );
    let out = env.cli(&["config", "check"]);
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.status.code(), Some(1), "{text}");
    for key in [
        "trusted_proxies",
        "public_hosts",
        "header_timeout",
        "max_unauthenticated_body_size",
    ] {
        assert!(text.contains(key), "{key} not named:\n{text}");
    }
    assert!(
        text.contains("10.0.0.0/33") && text.contains("CIDR"),
        "{text}"
    );

    // allow_unauthenticated without a token loads, with a warning.
    let env = Env::new("[gateway]\nallow_unauthenticated = true\n");
    let out = env.cli(&["config", "check"]);
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(
        text.contains("allow_unauthenticated") && text.contains("anyone"),
        "{text}"
    );
}
