//! Through the real binary: `zeroclaw gateway --port 0` (or
//! `zeroclaw daemon`) on a private state dir, driven over HTTP, raw sockets
//! and TLS, with the Telegram and Slack fakes behind the channels.
//!
//! The HTTP assertions are those of `tests/gateway_http.rs` (which covers the
//! same routes in-process, in more detail); here the point is that the
//! shipped binary wires them up the same way.

mod support;

use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;
use std::time::Duration;
use support::daemon::{Daemon, Env, wait_for};
use support::http::{SelfSigned, assert_error, assert_serves_over_tls, json_of};
use support::slack::{BOT_TOKEN, FakeSlack, message_event};
use support::telegram::{self, FakeTelegram};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::Instant;

const TOKEN: &str = "test-token-0123456789";
/// Generous: the machine running the suite may be busy.
const T: Duration = Duration::from_secs(30);

fn gateway_config(extra: &str) -> String {
    format!("[gateway]\nport = 0\nauth_token = \"{TOKEN}\"\n{extra}")
}

/// `zeroclaw gateway --port 0` with `[gateway] extra` keys; its printed URL.
fn start_gateway(extra: &str) -> (Env, Daemon, String) {
    let env = Env::new(&gateway_config(extra));
    let (d, url) = env.start_gateway(&["--port", "0"]);
    (env, d, url)
}

/// Every client in this file starts here.
fn client_builder() -> reqwest::ClientBuilder {
    support::http::client_builder(T)
}

fn client() -> reqwest::Client {
    support::http::client(T)
}

/// `host:port` of an `http(s)://host:port` URL.
fn authority(url: &str) -> &str {
    url.split_once("://").map_or(url, |(_, rest)| rest)
}

fn port_of(url: &str) -> u16 {
    authority(url)
        .rsplit(':')
        .next()
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("no port in {url:?}"))
}

/// The gateway's URL as `status --json` reports it, once it is running.
fn gateway_detail(env: &Env) -> String {
    let mut url = String::new();
    wait_for("the gateway's address in status", T, || {
        match env.child("gateway") {
            Some(c) if c["state"] == "running" => {
                url = c["detail"].as_str().unwrap_or_default().to_string();
                url.starts_with("http")
            }
            _ => false,
        }
    });
    url
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhook_needs_the_token_and_answers_with_the_agent() {
    let (_env, d, url) = start_gateway("");
    let c = client();
    let body = json!({"message": "hello there", "session": "s1"});
    let hook = format!("{url}/webhook");

    let (s, b) = json_of(c.post(&hook).json(&body).send().await.unwrap()).await;
    assert_eq!(s, 401);
    assert_error(&b, "unauthorized");
    let resp = c
        .post(&hook)
        .bearer_auth("wrong-token")
        .json(&body)
        .send()
        .await
        .unwrap();
    let (s, b) = json_of(resp).await;
    assert_eq!(s, 401);
    assert_error(&b, "unauthorized");

    let resp = c
        .post(&hook)
        .bearer_auth(TOKEN)
        .json(&body)
        .send()
        .await
        .unwrap();
    let (s, b) = json_of(resp).await;
    assert_eq!(s, 200, "{b}\n{}", d.stderr());
    assert_eq!(b["response"], "echo: hello there");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idempotency_key_returns_the_first_answer_without_asking_again() {
    let (_env, _d, url) = start_gateway("");
    let c = client();
    let send = |key: &'static str, msg: &'static str| {
        c.post(format!("{url}/webhook"))
            .bearer_auth(TOKEN)
            .header("x-idempotency-key", key)
            .json(&json!({"message": msg}))
            .send()
    };
    let first = send("order-42", "ship it").await.unwrap();
    assert_eq!(first.status(), 200);
    assert!(!first.headers().contains_key("idempotent-replayed"));
    let first: Value = first.json().await.unwrap();
    assert_eq!(first["response"], "echo: ship it");
    let again = send("order-42", "ship it").await.unwrap();
    assert_eq!(again.status(), 200);
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    let again: Value = again.json().await.unwrap();
    assert_eq!(first, again);
    // The agent was asked once: the daemon's own counter says so.
    let metrics = c
        .get(format!("{url}/metrics"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics
            .contains("zeroclaw_channel_messages_total{channel=\"webhook\",direction=\"in\"} 1\n"),
        "{metrics}"
    );
    // The same key with another body is refused.
    let (s, b) = json_of(send("order-42", "something else").await.unwrap()).await;
    assert_eq!(s, 422);
    assert_error(&b, "idempotency_key_reused");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn body_over_max_body_size_is_413() {
    let (_env, _d, url) = start_gateway("max_body_size = \"1KiB\"\n");
    let c = client();
    let big = serde_json::to_vec(&json!({"message": "x".repeat(4096)})).unwrap();
    let resp = c
        .post(format!("{url}/webhook"))
        .bearer_auth(TOKEN)
        .header("content-type", "application/json")
        .body(big)
        .send()
        .await
        .unwrap();
    let (s, b) = json_of(resp).await;
    assert_eq!(s, 413);
    assert_error(&b, "payload_too_large");

    // Chunked (no Content-Length) over the limit is cut too.
    let text = support::http::chunked_webhook(authority(&url), TOKEN, T).await;
    assert!(text.starts_with("HTTP/1.1 413"), "{text}");
    assert!(text.contains("payload_too_large"), "{text}");

    // Under the limit still works.
    let (s, b) = json_of(
        c.post(format!("{url}/webhook"))
            .bearer_auth(TOKEN)
            .json(&json!({"message": "small"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((s, &b["response"]), (200, &json!("echo: small")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limit_answers_429_then_recovers() {
    // 120/min: a burst of 120, then one more every 0.5 s.
    let (_env, _d, url) = start_gateway("rate_limit = 120\n");
    let c = client();
    let hit = || c.get(format!("{url}/metrics")).bearer_auth(TOKEN).send();
    let mut limited = None;
    for _ in 0..400 {
        let r = hit().await.unwrap();
        if r.status() == 429 {
            limited = Some(r);
            break;
        }
        assert_eq!(r.status(), 200);
    }
    let r = limited.expect("a 429 within 400 requests");
    let retry: u64 = r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry), "Retry-After {retry}");
    let (_, b) = json_of(r).await;
    assert_error(&b, "rate_limited");
    // /health is not limited.
    assert_eq!(
        c.get(format!("{url}/health"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    // Recovers once the window has moved on (a token every 0.5 s).
    let deadline = Instant::now() + T;
    loop {
        if hit().await.unwrap().status() == 200 {
            break;
        }
        assert!(Instant::now() < deadline, "the rate limit never lifted");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Trickle bytes at `pace` until the server hangs up or answers; returns
/// how long after connecting that happened. The pauses between bytes are
/// the attack's input, not a wait for a condition.
async fn trickle(url: &str, head: &str, byte: &[u8], pace: Duration) -> (Duration, String) {
    let mut s = TcpStream::connect(authority(url)).await.unwrap();
    let started = Instant::now();
    s.write_all(head.as_bytes()).await.unwrap();
    let mut got = Vec::new();
    loop {
        let wrote = s.write_all(byte).await;
        let mut buf = [0u8; 1024];
        match tokio::time::timeout(pace, s.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => break,
            Ok(Ok(n)) => {
                got.extend_from_slice(&buf[..n]);
                break;
            }
            Err(_) if wrote.is_err() => break,
            Err(_) => {}
        }
        assert!(started.elapsed() < T, "slow client never cut");
    }
    (
        started.elapsed(),
        String::from_utf8_lossy(&got).into_owned(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slowloris_is_cut_within_read_timeout_plus_one_second() {
    let (_env, _d, url) = start_gateway("read_timeout = 1\n");
    let pace = Duration::from_millis(150);

    // Headers that never end.
    let (cut, text) = trickle(
        &url,
        "POST /webhook HTTP/1.1\r\nHost: 127.0.0.1\r\n",
        b"X",
        pace,
    )
    .await;
    assert!(cut < Duration::from_secs(2), "headers cut after {cut:?}");
    assert!(
        text.is_empty() || text.starts_with("HTTP/1.1 408"),
        "{text}"
    );

    // A body that never ends.
    let head = format!(
        "POST /webhook HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {TOKEN}\r\n\
         Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{{"
    );
    let (cut, text) = trickle(&url, &head, b" ", pace).await;
    assert!(cut < Duration::from_secs(2), "body cut after {cut:?}");
    assert!(
        text.is_empty() || text.starts_with("HTTP/1.1 408"),
        "{text}"
    );

    // The gateway is still fine afterwards.
    let r = client().get(format!("{url}/health")).send().await.unwrap();
    assert_eq!(r.status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn more_clients_than_max_connections_all_get_served() {
    // One test client stands for many: no per-client cap here (it has a
    // test of its own in gateway_security.rs).
    let (_env, _d, url) = start_gateway(
        "max_connections = 2\nmax_connections_per_client = 0\nread_timeout = 60\n\
         connection_timeout = 60\n",
    );
    // A fresh connection per request, so each client takes a slot.
    let c = client_builder().pool_max_idle_per_host(0).build().unwrap();

    // Two silent connections take both slots: a third client waits...
    let hold_a = TcpStream::connect(authority(&url)).await.unwrap();
    let hold_b = TcpStream::connect(authority(&url)).await.unwrap();
    let waiting = tokio::spawn(c.get(format!("{url}/health")).send());
    let early = tokio::time::timeout(Duration::from_millis(500), async {
        while !waiting.is_finished() {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    assert!(
        early.is_err(),
        "a third connection was served while two slots were held"
    );
    // ...and is served as soon as a slot frees.
    drop(hold_a);
    let r = tokio::time::timeout(T, waiting)
        .await
        .expect("served after a slot freed")
        .unwrap()
        .unwrap();
    assert_eq!(r.status(), 200);
    drop(hold_b);

    // Many at once (12 times the limit): all answered, none refused.
    let mut all = Vec::new();
    for i in 0..24 {
        let req = c
            .post(format!("{url}/webhook"))
            .bearer_auth(TOKEN)
            .json(&json!({"message": format!("m{i}")}))
            .send();
        all.push(tokio::spawn(req));
    }
    for (i, h) in all.into_iter().enumerate() {
        let r = h.await.unwrap().expect("request served");
        let (s, b) = json_of(r).await;
        assert_eq!(s, 200);
        assert_eq!(b["response"], format!("echo: m{i}"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_with_a_certificate_generated_in_the_test() {
    let cert = SelfSigned::new(&["localhost", "127.0.0.1"]);
    let (env, _d, url) = start_gateway(&format!(
        "tls_cert = \"{}\"\ntls_key = \"{}\"\n",
        cert.cert.display(),
        cert.key.display()
    ));
    assert!(url.starts_with("https://127.0.0.1:"), "{url}");
    assert_eq!(gateway_detail(&env), url);
    assert_serves_over_tls(&cert.client(T), &url, TOKEN).await;

    // A client that does not trust the certificate is refused...
    let untrusting = client().get(format!("{url}/health")).send().await;
    assert!(untrusting.is_err(), "{untrusting:?}");
    // ...and plain HTTP on the TLS port gets no answer.
    let plain = client()
        .get(format!("http://{}/health", authority(&url)))
        .send()
        .await;
    assert!(plain.is_err() || plain.is_ok_and(|r| r.status() != 200));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn telegram_webhook_secret_good_and_bad() {
    const USER: i64 = 42;
    let fake = FakeTelegram::start().await;
    let env = Env::new(&gateway_config(&format!(
        "[channel.telegram]\nbot_token = \"{}\"\nallowed_users = [\"{USER}\"]\napi_base = \"{}\"\n\
         webhook_url = \"https://bot.example.invalid/webhook/telegram\"\n\
         webhook_secret = \"tg-secret\"\nsend_interval = \"10ms\"\n",
        telegram::TOKEN,
        fake.api_base()
    )));
    let d = env.start_ready(&[]);
    let url = gateway_detail(&env);
    wait_for("the channel to register its webhook", T, || {
        fake.with(|s| s.webhook.clone())
            == Some((
                "https://bot.example.invalid/webhook/telegram".into(),
                Some("tg-secret".into()),
            ))
    });
    let c = client();
    let send = |update: Value, secret: Option<&'static str>| {
        let mut r = c.post(format!("{url}/webhook/telegram")).json(&update);
        if let Some(s) = secret {
            r = r.header("X-Telegram-Bot-Api-Secret-Token", s);
        }
        r.send()
    };

    let forged = telegram::update(900, USER, USER, "forged");
    let (s, b) = json_of(send(forged.clone(), Some("wrong")).await.unwrap()).await;
    assert_eq!(s, 401);
    assert_error(&b, "unauthorized");
    let (s, b) = json_of(send(forged, None).await.unwrap()).await;
    assert_eq!(s, 401);
    assert_error(&b, "unauthorized");

    let good = telegram::update(901, USER, USER, "hi");
    let (s, b) = json_of(send(good.clone(), Some("tg-secret")).await.unwrap()).await;
    assert_eq!((s, &b["ok"]), (200, &json!(true)), "{b}");
    wait_for("the echo reply at the fake", T, || !fake.sent().is_empty());
    assert_eq!(
        fake.sent(),
        vec![(USER.to_string(), "echo: hi".to_string())],
        "{}",
        d.stderr()
    );

    // Telegram retrying the same update: acknowledged, not answered twice.
    let (s, b) = json_of(send(good, Some("tg-secret")).await.unwrap()).await;
    assert_eq!((s, &b["duplicate"]), (200, &json!(true)), "{b}");
    let next = telegram::update(902, USER, USER, "again");
    let (s, _) = json_of(send(next, Some("tg-secret")).await.unwrap()).await;
    assert_eq!(s, 200);
    wait_for("the second reply", T, || fake.sent().len() >= 2);
    let texts: Vec<String> = fake.sent().into_iter().map(|(_, t)| t).collect();
    assert_eq!(texts, vec!["echo: hi", "echo: again"]);
}

fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// Slack's v0 signature, computed here independently of the daemon's code.
fn slack_sign(secret: &str, ts: i64, body: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("v0:{ts}:{body}").as_bytes());
    format!("v0={}", hex::encode(mac.finalize().into_bytes()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slack_signature_good_bad_stale_and_url_verification() {
    let secret = "slack-signing-secret";
    let fake = FakeSlack::start().await;
    let env = Env::new(&gateway_config(&format!(
        "[channel.slack]\nbot_token = \"{BOT_TOKEN}\"\nsigning_secret = \"{secret}\"\n\
         allowed_channels = [\"CALLOWED\"]\napi_base = \"{}\"\n",
        fake.api_base()
    )));
    let d = env.start_ready(&[]);
    let url = gateway_detail(&env);
    wait_for("the Slack channel in Events API mode", T, || {
        env.child("channel:slack").is_some_and(|c| {
            c["state"] == "running"
                && c["detail"]
                    .as_str()
                    .is_some_and(|d| d.starts_with("events api"))
        })
    });
    let c = client();
    let post = |body: String, ts: i64, sig: Option<String>| {
        let mut r = c
            .post(format!("{url}/webhook/slack"))
            .header("content-type", "application/json")
            .header("x-slack-request-timestamp", ts.to_string())
            .body(body);
        if let Some(s) = sig {
            r = r.header("x-slack-signature", s);
        }
        r.send()
    };
    let now = unix_now();

    // url_verification
    let body =
        json!({"type": "url_verification", "token": "x", "challenge": "ch4ll3nge"}).to_string();
    let (s, b) = json_of(
        post(body.clone(), now, Some(slack_sign(secret, now, &body)))
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["challenge"], "ch4ll3nge");

    // Bad signature, signed with another secret, missing, stale.
    let event = json!({
        "type": "event_callback", "event_id": "Ev01", "team_id": "T1",
        "event": message_event("CALLOWED", "U1", "hi")
    })
    .to_string();
    for sig in [
        Some("v0=00ff".to_string()),
        Some(slack_sign("not-the-secret", now, &event)),
        None,
    ] {
        let (s, b) = json_of(post(event.clone(), now, sig).await.unwrap()).await;
        assert_eq!(s, 401, "{b}");
        assert_error(&b, "unauthorized");
    }
    let old = now - 6 * 60;
    let (s, b) = json_of(
        post(event.clone(), old, Some(slack_sign(secret, old, &event)))
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, 401);
    assert!(
        b["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("5 minutes")),
        "{b}"
    );

    // Good: acknowledged, answered once through the fake Web API; a retry
    // of the same event is acknowledged and dropped.
    let (s, b) = json_of(
        post(event.clone(), now, Some(slack_sign(secret, now, &event)))
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((s, &b["ok"]), (200, &json!(true)), "{b}");
    wait_for("the reply at the fake Slack", T, || !fake.sent().is_empty());
    let (s, b) = json_of(
        post(event.clone(), now, Some(slack_sign(secret, now, &event)))
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((s, &b["duplicate"]), (200, &json!(true)), "{b}");
    let second = json!({
        "type": "event_callback", "event_id": "Ev02", "team_id": "T1",
        "event": message_event("CALLOWED", "U1", "again")
    })
    .to_string();
    let (s, _) = json_of(
        post(second.clone(), now, Some(slack_sign(secret, now, &second)))
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, 200);
    wait_for("the second reply", T, || fake.sent().len() >= 2);
    let sent = fake.sent();
    assert_eq!(sent.len(), 2, "{sent:?}\n{}", d.stderr());
    assert_eq!(sent[0].0, "CALLOWED");
    assert!(sent[0].1.contains("hi"), "{sent:?}");
    assert!(sent[1].1.contains("again"), "{sent:?}");
}

/// Stops a daemon started with `--background` (not our child process) even
/// when the test fails half-way.
struct StopOnDrop<'a>(&'a Env);

impl Drop for StopOnDrop<'_> {
    fn drop(&mut self) {
        let _ = self.0.cli(&["stop"]);
    }
}

/// What the failed start must say about `port`.
fn assert_port_in_use_message(text: &str, port: u16, occupant: &str) {
    assert!(text.contains(&format!("127.0.0.1:{port}")), "{text}");
    assert!(text.contains("already in use"), "{text}");
    assert!(text.contains(&format!("lsof -i :{port}")), "{text}");
    assert!(text.contains(occupant), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn port_in_use_fails_the_start_with_a_clear_message() {
    // A silent program holds the port.
    let other = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = other.local_addr().unwrap().port();
    let env = Env::new(&format!(
        "[gateway]\nport = {port}\nauth_token = \"{TOKEN}\"\n"
    ));
    let (status, stderr) = env.start_failing(&[]);
    assert_eq!(status.code(), Some(1), "{stderr}");
    assert_port_in_use_message(&stderr, port, "not a zeroclaw");
    assert!(env.status().is_none(), "nothing left running");

    // `--background`: the parent waits for the verdict and prints it.
    let out = env.cli(&["daemon", "--background"]);
    let text = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert_port_in_use_message(&text, port, "not a zeroclaw");
    assert_eq!(env.cli(&["status"]).status.code(), Some(3));

    // Another zeroclaw holds it: said so.
    let (_first_env, _first, url) = start_gateway("");
    let port = port_of(&url);
    let env = Env::new(&format!(
        "[gateway]\nport = {port}\nauth_token = \"{TOKEN}\"\n"
    ));
    let (status, stderr) = env.start_failing(&[]);
    assert_eq!(status.code(), Some(1), "{stderr}");
    assert_port_in_use_message(&stderr, port, "a zeroclaw gateway");
    // ...and `zeroclaw gateway --background` reports it the same way.
    let out = env.cli(&["gateway", "--port", &port.to_string(), "--background"]);
    let text = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert_port_in_use_message(&text, port, "a zeroclaw gateway");
    assert_eq!(env.cli(&["status"]).status.code(), Some(3));
    drop(other);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn port_zero_is_reported_on_stdout_in_status_and_in_the_log() {
    // `zeroclaw gateway`: the printed URL and `status` agree.
    let env = Env::new(&gateway_config(""));
    let (d, url) = env.start_gateway(&["--host", "127.0.0.1", "--port", "0"]);
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    assert_ne!(port_of(&url), 0);
    assert_eq!(gateway_detail(&env), url);
    let (s, b) = json_of(client().get(format!("{url}/health")).send().await.unwrap()).await;
    assert_eq!((s, &b["status"]), (200, &json!("ok")));
    assert_eq!(b["components"]["gateway"], "running", "{b}");
    let human = String::from_utf8_lossy(&env.cli(&["status"]).stdout).into_owned();
    assert!(human.contains(&url), "{human}");
    drop(d);

    // `zeroclaw gateway --background`: the parent prints the URL too.
    let env = Env::new(&gateway_config(""));
    let _stop = StopOnDrop(&env);
    let out = env.cli(&["gateway", "--port", "0", "--background"]);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 2, "{stdout}");
    assert!(lines[0].contains("started in the background"), "{stdout}");
    let url = lines[1].to_string();
    assert!(url.starts_with("http://127.0.0.1:"), "{stdout}");
    assert_eq!(gateway_detail(&env), url);
    let (s, _) = json_of(client().get(format!("{url}/health")).send().await.unwrap()).await;
    assert_eq!(s, 200);
    assert_eq!(env.cli(&["stop"]).status.code(), Some(0));
    wait_for("the background gateway to stop", T, || {
        env.status().is_none()
    });

    // `zeroclaw daemon` with `port = 0`: `status` and the log line agree.
    let env = Env::new(&gateway_config(""));
    let d = env.start_ready(&[]);
    let url = gateway_detail(&env);
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    wait_for("the listening line in the log", T, || {
        d.stderr().contains(&format!("gateway listening on {url}"))
    });
    let (s, _) = json_of(client().get(format!("{url}/health")).send().await.unwrap()).await;
    assert_eq!(s, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restarted_gateway_rebinds_the_same_port() {
    let env = Env::new(&gateway_config(""));
    let (d, url) = env.start_gateway(&["--port", "0"]);
    let c = client();
    assert_eq!(
        c.get(format!("{url}/ready")).send().await.unwrap().status(),
        200
    );
    let out = env.cli(&["restart", "gateway"]);
    assert_eq!(out.status.code(), Some(0), "{out:?}\n{}", d.stderr());
    // An operator's restart is not counted in `restarts` (like systemd's
    // NRestarts); the second listening line in the log shows it happened.
    let listening = format!("gateway listening on {url}");
    wait_for("the gateway to listen again", T, || {
        d.stderr().matches(&listening).count() == 2
    });
    assert_eq!(gateway_detail(&env), url, "a port-0 gateway keeps its port");
    let (s, b) = json_of(c.get(format!("{url}/health")).send().await.unwrap()).await;
    assert_eq!((s, &b["status"]), (200, &json!("ok")), "{b}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_channel_makes_health_degraded_and_ready_503() {
    let fake = FakeTelegram::start().await;
    let env = Env::new(&gateway_config(&format!(
        "[channel.telegram]\nbot_token = \"1:revoked\"\nallowed_users = [\"42\"]\n\
         api_base = \"{}\"\npoll_timeout = \"1s\"\n",
        fake.api_base()
    )));
    let _d = env.start_ready(&[]);
    let url = gateway_detail(&env);
    wait_for("the channel failed", T, || {
        env.child("channel:telegram")
            .is_some_and(|c| c["state"] == "failed")
    });
    let c = client();
    let (s, b) = json_of(c.get(format!("{url}/health")).send().await.unwrap()).await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["status"], "degraded", "{b}");
    assert_eq!(b["components"]["channel:telegram"], "failed", "{b}");
    assert_eq!(b["components"]["gateway"], "running", "{b}");
    let (s, b) = json_of(c.get(format!("{url}/ready")).send().await.unwrap()).await;
    assert_eq!(s, 503, "{b}");
    assert_eq!(b["status"], "degraded", "{b}");
}
