//! `/status` through the real binary over plain HTTP: sign-in, the session
//! cookie's attributes, CSRF, bearer tokens, the live events and the switch.

mod support;

use reqwest::header;
use serde_json::Value;
use std::time::Duration;
use support::daemon::Env;
use support::status::{JOB, T, TOKEN, job_enabled, start};
use tokio::time::Instant;

fn client() -> reqwest::Client {
    support::http::client_builder(T)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// Sign in through the form; the session cookie's `name=value`.
async fn sign_in(c: &reqwest::Client, url: &str) -> (String, String) {
    let resp = c
        .post(format!("{url}/status/login"))
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(format!("token={}", TOKEN))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 303);
    assert_eq!(resp.headers()[header::LOCATION], "/status");
    let set = resp.headers()[header::SET_COOKIE]
        .to_str()
        .unwrap()
        .to_string();
    let pair = set.split(';').next().unwrap().to_string();
    (pair, set)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_of_the_tree_without_credentials_and_a_wrong_token_stays_on_the_form() {
    let (_env, _d, url) = start("");
    let c = client();
    let page = c.get(format!("{url}/status")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let csp = page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        csp.contains("default-src 'none'") && csp.contains("script-src 'self'"),
        "{csp}"
    );
    let body = page.text().await.unwrap();
    assert!(body.contains("<form id=\"signin\""), "{body}");
    assert!(
        !body.contains("cron:") && !body.contains("gateway</td>"),
        "{body}"
    );
    for path in ["/status/events", "/status/state"] {
        let r = c.get(format!("{url}{path}")).send().await.unwrap();
        assert_eq!(r.status(), 401, "{path}");
        let text = r.text().await.unwrap();
        assert!(!text.contains("cron:"), "{path}: {text}");
    }
    let r = c
        .post(format!("{url}/status/jobs/{JOB}/disable"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let wrong = c
        .post(format!("{url}/status/login"))
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(format!("token={}", "not-the-token"))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);
    assert!(wrong.headers().get(header::SET_COOKIE).is_none());
    let body = wrong.text().await.unwrap();
    assert!(
        body.contains("<form id=\"signin\"") && body.contains("does not match"),
        "{body}"
    );
    let r = c
        .get(format!("{url}/status/state"))
        .bearer_auth("not-the-token")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let r = c
        .get(format!("{url}/status"))
        .header(header::COOKIE, "zeroclaw_session=forged")
        .send()
        .await
        .unwrap();
    assert!(!r.text().await.unwrap().contains("csrf-token"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_cookie_is_httponly_strict_and_its_posts_need_the_csrf_token() {
    let (env, _d, url) = start("");
    let c = client();
    let (cookie, set) = sign_in(&c, &url).await;
    for attr in ["HttpOnly", "SameSite=Strict", "Path=/status"] {
        assert!(set.contains(attr), "{set}");
    }
    let page = c
        .get(format!("{url}/status"))
        .header(header::COOKIE, &cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = page
        .split("name=\"csrf-token\" content=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .unwrap()
        .to_string();
    assert_eq!(csrf.len(), 64, "{page}");
    let disable = format!("{url}/status/jobs/{JOB}/disable");
    let r = c
        .post(&disable)
        .header(header::COOKIE, &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403, "no CSRF token");
    let r = c
        .post(&disable)
        .header(header::COOKIE, &cookie)
        .header("x-csrf-token", &csrf)
        .header(header::ORIGIN, "http://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403, "another site's Origin");
    assert_eq!(job_enabled(&env, JOB), Some(true));
    let r = c
        .post(&disable)
        .header(header::COOKIE, &cookie)
        .header("x-csrf-token", &csrf)
        .header(header::ORIGIN, url.as_str())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    assert_eq!(job_enabled(&env, JOB), Some(false));
    // A script uses the bearer token and needs no CSRF token.
    let r = c
        .post(format!("{url}/status/jobs/{JOB}/enable"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(job_enabled(&env, JOB), Some(true));
    let r = c
        .post(format!("{url}/status/jobs/nope/run"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    // Signing out ends the session.
    let r = c
        .post(format!("{url}/status/logout"))
        .header(header::COOKIE, &cookie)
        .header("x-csrf-token", &csrf)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let r = c
        .get(format!("{url}/status/state"))
        .header(header::COOKIE, &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
}

/// The next `state` event of an SSE body, read chunk by chunk.
async fn next_event(resp: &mut reqwest::Response, buf: &mut String, until: Instant) -> Value {
    loop {
        if let Some(end) = buf.find("\n\n") {
            let block: String = buf.drain(..end + 2).collect();
            if block.lines().any(|l| l == "event: state") {
                let data: String = block
                    .lines()
                    .filter_map(|l| l.strip_prefix("data: ").or(l.strip_prefix("data:")))
                    .collect();
                return serde_json::from_str(&data).unwrap();
            }
            continue;
        }
        let left = until.saturating_duration_since(Instant::now());
        let chunk = tokio::time::timeout(left, resp.chunk())
            .await
            .expect("no event before the deadline")
            .unwrap()
            .expect("the stream ended");
        buf.push_str(&String::from_utf8_lossy(&chunk));
    }
}

/// Restarts on request of `child` (`zeroclaw restart`).
fn restarts(view: &Value, child: &str) -> Option<u64> {
    view["children"]
        .as_array()?
        .iter()
        .find(|c| c["name"] == child)?["restarts_requested"]
        .as_u64()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_push_a_restart_and_a_finished_run_within_a_second() {
    let (env, d, url) = start("");
    let c = client();
    let state: Value = c
        .get(format!("{url}/status/state"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let names: Vec<&str> = state["children"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["name"].as_str())
        .collect();
    for child in ["logger", "gateway", "cron:tick", "control"] {
        assert!(names.contains(&child), "{child} missing from {names:?}");
    }
    assert_eq!(state["jobs"][0]["name"], JOB);
    let (mut sse, mut buf, first) = open_stream(&c, &url).await;
    let before = restarts(&first, "cron:tick").unwrap();
    let out = env.cli(&["restart", "cron:tick"]);
    assert!(out.status.success(), "{out:?}\n{}", d.stderr());
    let asked = Instant::now();
    let deadline = asked + Duration::from_secs(1);
    loop {
        let v = next_event(&mut sse, &mut buf, deadline).await;
        if restarts(&v, "cron:tick") == Some(before + 1) {
            break;
        }
    }
    println!(
        "restart reached the stream {:?} after the CLI returned",
        asked.elapsed()
    );
    // A finished run: `cron run` returns once it is recorded.
    let out = env.cli(&["cron", "run", JOB]);
    assert!(out.status.success(), "{out:?}");
    let deadline = Instant::now() + Duration::from_secs(1);
    loop {
        let v = next_event(&mut sse, &mut buf, deadline).await;
        let ok = v["runs"][0]["status"] == "ok" && v["jobs"][0]["last_run"]["status"] == "ok";
        if ok {
            assert_eq!(v["runs"][0]["job_name"], JOB);
            break;
        }
    }
}

/// Open `/status/events` with the bearer token; the stream, its unread
/// rest and the first view.
async fn open_stream(c: &reqwest::Client, url: &str) -> (reqwest::Response, String, Value) {
    let mut sse = c
        .get(format!("{url}/status/events"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(sse.status(), 200);
    assert_eq!(sse.headers()[header::CONTENT_TYPE], "text/event-stream");
    let mut buf = String::new();
    let first = next_event(&mut sse, &mut buf, Instant::now() + T).await;
    (sse, buf, first)
}

/// Whether another `state` event arrives before `until`.
async fn another_event(resp: &mut reqwest::Response, buf: &mut String, until: Instant) -> bool {
    loop {
        if buf.contains("event: state") {
            return true;
        }
        let left = until.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, resp.chunk()).await {
            Err(_) => return false,
            Ok(chunk) => {
                let chunk = chunk.unwrap().expect("the stream ended");
                buf.push_str(&String::from_utf8_lossy(&chunk));
            }
        }
    }
}

/// The page is pushed what changes and nothing else: an open stream on an
/// idle daemon gets no frame at all (the hub reads nothing on a timer), and
/// a `cron disable` typed in a shell reaches it within a second.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_stream_gets_nothing_and_a_disable_from_the_shell_shows_within_a_second() {
    let (env, d, url) = start("");
    let c = client();
    let (mut sse, mut buf, first) = open_stream(&c, &url).await;
    assert_eq!(first["jobs"][0]["enabled"], true);
    assert!(
        !another_event(&mut sse, &mut buf, Instant::now() + Duration::from_secs(3)).await,
        "a frame on an idle daemon: {buf}"
    );

    let out = env.cli(&["cron", "disable", JOB]);
    assert!(out.status.success(), "{out:?}\n{}", d.stderr());
    let asked = Instant::now();
    let deadline = asked + Duration::from_secs(1);
    loop {
        let v = next_event(&mut sse, &mut buf, deadline).await;
        if v["jobs"][0]["enabled"] == false {
            break;
        }
    }
    println!(
        "disable reached the stream {:?} after the CLI returned",
        asked.elapsed()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_page_off_and_without_a_token() {
    let (_env, _d, url) = start("status_page = false");
    let c = client();
    for path in ["/status", "/status/events", "/status/assets/status.js"] {
        let r = c
            .get(format!("{url}{path}"))
            .bearer_auth(TOKEN)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 404, "{path}");
    }
    // On loopback the gateway runs without a token; the page then refuses.
    let env = Env::new("[gateway]\nport = 0\n");
    let _d = env.start_ready(&[]);
    let url = support::status::gateway_url(&env);
    let r = c.get(format!("{url}/status")).send().await.unwrap();
    assert_eq!(r.status(), 403);
    assert!(r.text().await.unwrap().contains("auth_token"));
    let r = c
        .post(format!("{url}/status/login"))
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(format!("token={}", ""))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_open_stream_ends_at_shutdown_and_does_not_hold_it_up() {
    let (_env, mut d, url) = start("");
    let c = client();
    let (mut sse, _buf, _first) = open_stream(&c, &url).await;
    let asked = Instant::now();
    d.signal(nix::sys::signal::Signal::SIGTERM);
    let ended = tokio::time::timeout(Duration::from_secs(3), async {
        while let Ok(Some(_)) = sse.chunk().await {}
    })
    .await;
    assert!(ended.is_ok(), "the stream outlived the gateway's stop");
    let status = tokio::task::spawn_blocking(move || d.wait_exit(Duration::from_secs(10)))
        .await
        .unwrap();
    assert!(status.success(), "{status}");
    let took = asked.elapsed();
    assert!(
        took < Duration::from_secs(3),
        "shutdown took {took:?} with a stream open"
    );
}
