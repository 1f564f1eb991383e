//! The `web_fetch` tool against a local fake site: readable text, caps,
//! charsets, and every kind of hostile page getting a clear tool error or a
//! cut result. The egress policy is relaxed only for the fake's own
//! `127.0.0.1:<port>` (`allowed_hosts`), as an operator would.

mod support;

use std::time::{Duration, Instant};
use support::web::{FakeSite, HEADLINE};
use zeroclaw::agent::tools::web_fetch::WebFetchTool;
use zeroclaw::config::WebFetchToolConfig;

fn tool(site: &FakeSite, tweak: impl FnOnce(&mut WebFetchToolConfig)) -> WebFetchTool {
    let mut c = WebFetchToolConfig {
        allowed_hosts: vec![site.allowed_host()],
        timeout: Duration::from_secs(5),
        ..Default::default()
    };
    tweak(&mut c);
    WebFetchTool::new(&c).unwrap()
}

async fn fetch(t: &WebFetchTool, url: &str) -> (bool, String) {
    let out = t.call(&serde_json::json!({ "url": url })).await;
    (out.is_error, out.content)
}

#[tokio::test]
async fn article_becomes_readable_text_without_scripts() {
    let site = FakeSite::start().await;
    let t = tool(&site, |_| {});
    let (err, text) = fetch(&t, &site.url("/article/1")).await;
    assert!(!err, "{text}");
    assert!(
        text.contains(&format!("Title: {HEADLINE} - Fake Tech News")),
        "{text}"
    );
    assert!(text.contains(&format!("# {HEADLINE}")), "{text}");
    assert!(
        text.contains("[announcement](https://blog.example.org/rust-2)"),
        "{text}"
    );
    assert!(
        text.contains("[Home](/)") || text.contains("[Home](http"),
        "{text}"
    );
    assert!(
        !text.contains("secret-tracker") && !text.contains("document.write"),
        "{text}"
    );
    assert!(!text.contains("color: red"), "{text}");
    // JSON passes through as it is.
    let (err, text) = fetch(&t, &site.url("/api/stories.json")).await;
    assert!(
        !err && text.contains(&format!("\"title\":\"{HEADLINE}\"")),
        "{text}"
    );
}

#[tokio::test]
async fn charsets_and_invalid_utf8() {
    let site = FakeSite::start().await;
    let t = tool(&site, |_| {});
    let (err, text) = fetch(&t, &site.url("/latin1")).await;
    assert!(!err && text.contains("Café crème"), "{text}");
    let (err, text) = fetch(&t, &site.url("/invalid-utf8")).await;
    assert!(!err, "{text}");
    assert!(
        text.contains("valid start \u{fffd}\u{fffd}\u{fffd} end"),
        "{text}"
    );
}

#[tokio::test]
async fn urls_and_schemes_that_are_refused() {
    let site = FakeSite::start().await;
    let t = tool(&site, |_| {});
    for (url, expect) in [
        ("not a url", "not a valid URL"),
        ("/relative/path", "not a valid URL"),
        ("file:///etc/passwd", "only http and https"),
        ("ftp://ftp.example.com/pub", "only http and https"),
        ("gopher://gopher.example.com/", "only http and https"),
        (
            "http://169.254.169.254/latest/meta-data/",
            "non-public address",
        ),
        ("http://[::ffff:127.0.0.1]:1/", "non-public address"),
        ("http://10.0.0.1/", "non-public address"),
        // Allowed is 127.0.0.1 on the fake's port only.
        ("http://127.0.0.1:1/", "non-public address"),
    ] {
        let (err, text) = fetch(&t, url).await;
        assert!(err, "{url}: {text}");
        assert!(text.contains(expect), "{url}: {text}");
    }
    let out = t.call(&serde_json::json!({"link": "x"})).await;
    assert!(
        out.is_error && out.content.contains("expected {\"url\""),
        "{out:?}"
    );
}

#[tokio::test]
async fn a_name_resolving_to_loopback_is_refused_by_the_resolver() {
    let site = FakeSite::start().await;
    let t = tool(&site, |_| {});
    let (err, text) = fetch(&t, &format!("http://localhost:{}/article/1", site.port)).await;
    assert!(err, "{text}");
    assert!(
        text.contains("`localhost` is") && text.contains("non-public"),
        "{text}"
    );
    assert_eq!(site.hits("/article/1"), 0);
}

#[tokio::test]
async fn redirects_are_followed_and_each_one_checked() {
    let site = FakeSite::start().await;
    let t = tool(&site, |_| {});
    let (err, text) = fetch(&t, &site.url("/chain/3")).await;
    assert!(!err && text.contains(HEADLINE), "{text}");
    assert!(
        text.contains("URL: http://127.0.0.1") && text.contains("/article/1"),
        "{text}"
    );
    let (err, text) = fetch(&t, &site.url("/chain/9")).await;
    assert!(err && text.contains("more than 5 redirects"), "{text}");
    let (err, text) = fetch(&t, &site.url("/loop/1")).await;
    assert!(err && text.contains("loop"), "{text}");
    let (err, text) = fetch(&t, &site.url("/to-metadata")).await;
    assert!(
        err && text.contains("169.254.169.254") && text.contains("refused"),
        "{text}"
    );
    let (err, text) = fetch(&t, &site.url("/to-localhost")).await;
    assert!(err && text.contains("localhost"), "{text}");
    assert_eq!(
        site.hits("/article/1"),
        1,
        "only the allowed chain reached the article"
    );
}

#[tokio::test]
async fn big_endless_and_compressed_bodies_are_cut_at_the_byte_cap() {
    let site = FakeSite::start().await;
    let t = tool(&site, |c| {
        c.max_bytes = bytesize::ByteSize::kib(256);
        c.max_chars = 1000;
    });
    for path in ["/big", "/endless", "/bomb", "/bomb.br"] {
        let started = Instant::now();
        let (err, text) = fetch(&t, &site.url(path)).await;
        assert!(!err, "{path}: {text}");
        assert!(
            text.contains("[the page is larger than 256.0 KiB"),
            "{path}: {text}"
        );
        assert!(
            text.contains("[cut: showing the first 1000 of"),
            "{path}: {text}"
        );
        assert!(text.len() < 4000, "{path}: {} bytes", text.len());
        assert!(started.elapsed() < Duration::from_secs(5), "{path}");
        if path.starts_with("/bomb") {
            // Decompressed, not the compressed bytes.
            let letter = if path.ends_with(".br") {
                "BBBB"
            } else {
                "AAAA"
            };
            assert!(text.contains(letter), "{path}: {text}");
        }
    }
    // The 50 MB page was not downloaded: reading stopped near the cap.
    let sent = site
        .inner
        .big_bytes_sent
        .load(std::sync::atomic::Ordering::Relaxed);
    assert!(
        sent < 16 * 1024 * 1024,
        "{sent} bytes of the big page were produced"
    );
}

#[tokio::test]
async fn a_trickling_server_is_cut_at_the_timeout() {
    let site = FakeSite::start().await;
    let t = tool(&site, |c| c.timeout = Duration::from_secs(1));
    let started = Instant::now();
    let (err, text) = fetch(&t, &site.url("/trickle")).await;
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    assert!(!err, "{text}");
    assert!(
        text.contains("xxx") && text.contains("did not arrive whole"),
        "{text}"
    );
}

#[tokio::test]
async fn binary_content_and_error_statuses_are_tool_errors() {
    let site = FakeSite::start().await;
    let t = tool(&site, |_| {});
    let (err, text) = fetch(&t, &site.url("/image.png")).await;
    assert!(
        err && text.contains("image/png") && text.contains("does not read"),
        "{text}"
    );
    let (err, text) = fetch(&t, &site.url("/binary-as-text")).await;
    assert!(err && text.contains("binary"), "{text}");
    let (err, text) = fetch(&t, &site.url("/status/404")).await;
    assert!(err && text.contains("404"), "{text}");
    // Deeply nested HTML is read as plain text, without delay.
    let started = Instant::now();
    let (err, text) = fetch(&t, &site.url("/deep")).await;
    assert!(!err && text.contains("bottom"), "{text}");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_page_is_answered_from_the_cache_within_its_ttl() {
    let site = FakeSite::start().await;
    let t = tool(&site, |_| {});
    let first = fetch(&t, &site.url("/")).await;
    let second = fetch(&t, &site.url("/")).await;
    assert_eq!(first, second);
    assert_eq!(site.hits("/"), 1);
    let uncached = tool(&site, |c| c.cache_ttl = Duration::ZERO);
    fetch(&uncached, &site.url("/")).await;
    fetch(&uncached, &site.url("/")).await;
    assert_eq!(site.hits("/"), 3);
}

#[tokio::test]
async fn denied_hosts_win_over_allowed_hosts() {
    let site = FakeSite::start().await;
    let t = tool(&site, |c| c.denied_hosts = vec!["127.0.0.1".into()]);
    let (err, text) = fetch(&t, &site.url("/")).await;
    assert!(err && text.contains("denied_hosts"), "{text}");
}
