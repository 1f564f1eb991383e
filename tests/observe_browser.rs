//! The status page in a real browser: headless Chromium (Debian's
//! `chromium` and `chromium-driver`, installed by `.ci/run`) driven over
//! WebDriver. It signs in, sees every child, sees a restart without
//! reloading, disables a job with its button, and stays on the form with
//! a wrong token. A screenshot is saved under `target/`.

mod support;

use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::{Value, json};
use std::future::Future;
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::Duration;
use support::status::{JOB, TOKEN, job_enabled, start};
use tokio::time::Instant;

const T: Duration = Duration::from_secs(20);

/// chromedriver on a free 127.0.0.1 port; killed on drop.
struct Driver {
    child: Child,
    url: String,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn require(bin: &str, package: &str) {
    let found = Command::new(bin)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    assert!(
        found,
        "`{bin}` is missing: install Debian's `{package}` package (`.ci/run` does)"
    );
}

fn start_driver() -> Driver {
    require("chromium", "chromium");
    require("chromedriver", "chromium-driver");
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap();
    let child = Command::new("chromedriver")
        .arg(format!("--port={port}"))
        .arg("--allowed-ips=127.0.0.1")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start chromedriver");
    let url = format!("http://127.0.0.1:{port}");
    let d = Driver { child, url };
    support::daemon::wait_for("chromedriver to listen", T, || {
        std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
    });
    d
}

async fn browser(driver: &Driver) -> Client {
    let caps = json!({
        "goog:chromeOptions": {
            "binary": "/usr/bin/chromium",
            // Phone width: the page must be usable there.
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu",
                     "--disable-dev-shm-usage", "--window-size=412,915"],
        }
    });
    let Value::Object(caps) = caps else {
        unreachable!()
    };
    ClientBuilder::new(HttpConnector::new())
        .capabilities(caps)
        .connect(&driver.url)
        .await
        .expect("a WebDriver session with headless Chromium")
}

/// Wait for `cond` (polling the browser's DOM, not the daemon) up to `limit`.
async fn until<F, Fut>(what: &str, limit: Duration, mut cond: F) -> Duration
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let start = Instant::now();
    loop {
        if cond().await {
            return start.elapsed();
        }
        assert!(start.elapsed() < limit, "not within {limit:?}: {what}");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

async fn text_of(c: &Client, css: &str) -> Option<String> {
    c.find(Locator::Css(css)).await.ok()?.text().await.ok()
}

async fn sign_in(c: &Client, token: &str) {
    let field = c.find(Locator::Id("token")).await.unwrap();
    field.clear().await.unwrap();
    field.send_keys(token).await.unwrap();
    c.find(Locator::Id("signin-button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_status_page_in_headless_chromium() {
    let driver = start_driver();
    let (env, d, url) = start("");
    let c = browser(&driver).await;
    c.goto(&format!("{url}/status")).await.unwrap();

    // A wrong token stays on the form and shows nothing of the tree.
    sign_in(&c, "not-the-token").await;
    until("the wrong-token message", T, || async {
        text_of(&c, "#signin-error").await.is_some()
    })
    .await;
    assert!(c.find(Locator::Id("signin")).await.is_ok());
    assert!(c.find(Locator::Id("children")).await.is_err());

    sign_in(&c, TOKEN).await;
    until("the live stream", T, || async {
        text_of(&c, "#live").await.as_deref() == Some("live")
    })
    .await;
    let status = env.status().expect("status");
    let children: Vec<String> = status["children"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["name"].as_str().map(String::from))
        .collect();
    assert!(children.len() >= 4, "{children:?}");
    for child in &children {
        let css = format!("#children tr[data-name=\"{child}\"] td.state");
        let state = text_of(&c, &css).await;
        assert_eq!(state.as_deref(), Some("running"), "{child} on the page");
    }

    // A restart shows without reloading: a marker set in the page survives.
    c.execute("window.__kept = 42;", vec![]).await.unwrap();
    let cell = format!("#children tr[data-name=\"cron:{JOB}\"] td.restarts");
    let before = text_of(&c, &cell).await.unwrap();
    let out = env.cli(&["restart", &format!("cron:{JOB}")]);
    assert!(out.status.success(), "{out:?}\n{}", d.stderr());
    let took = until("the new restart count", Duration::from_secs(2), || async {
        text_of(&c, &cell)
            .await
            .is_some_and(|t| t != before && t.contains("+1 on request"))
    })
    .await;
    println!("the page showed the restart {took:?} after `zeroclaw restart` returned");
    let kept = c.execute("return window.__kept;", vec![]).await.unwrap();
    assert_eq!(kept, json!(42), "the page reloaded");

    // The disable button: `cron list` reports the job disabled.
    let disable = format!("#jobs tr[data-job=\"{JOB}\"] button.disable");
    c.find(Locator::Css(&disable))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    support::daemon::wait_for("cron list to show the job disabled", T, || {
        job_enabled(&env, JOB) == Some(false)
    });
    let enabled = format!("#jobs tr[data-job=\"{JOB}\"] td.enabled");
    until("the page to show the job disabled", T, || async {
        text_of(&c, &enabled).await.as_deref() == Some("no")
    })
    .await;

    let png = c.screenshot().await.unwrap();
    let path = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("status-page.png");
    std::fs::write(&path, png).unwrap();
    println!("screenshot: {}", path.display());
    c.close().await.unwrap();
}
