//! `/metrics` of a live daemon passes `promtool check metrics` (Debian's
//! `prometheus` package; `.ci/run` installs it) and carries the latency
//! histograms, token and process figures an operator graphs first.

mod support;

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::Duration;
use support::daemon::{Env, wait_for};

const TOKEN: &str = "metrics-token-0123456789";
const T: Duration = Duration::from_secs(30);

fn config() -> String {
    format!(
        "[gateway]\nport = 0\nauth_token = \"{TOKEN}\"\n\n\
         [[cron.jobs]]\nname = \"tick\"\nschedule = \"0 0 1 1 *\"\nmessage = \"tick\"\n"
    )
}

/// The gateway's URL once `status` shows it running.
fn gateway_url(env: &Env) -> String {
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

fn promtool(text: &str) -> (bool, String) {
    let mut child = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| {
            panic!(
                "promtool is missing ({e}): install Debian's `prometheus` package (.ci/run does)"
            )
        });
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), said)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_metrics_pass_promtool_and_carry_latency_histograms() {
    let env = Env::new(&config());
    let d = env.start_ready(&[]);
    let url = gateway_url(&env);
    let c = support::http::client(T);
    let hook = c
        .post(format!("{url}/webhook"))
        .bearer_auth(TOKEN)
        .json(&serde_json::json!({"message": "hello"}))
        .send()
        .await
        .unwrap();
    assert_eq!(hook.status(), 200, "{}", d.stderr());
    let run = env.cli(&["cron", "run", "tick"]);
    assert!(run.status.success(), "{run:?}");
    let get = || async {
        c.get(format!("{url}/metrics"))
            .bearer_auth(TOKEN)
            .send()
            .await
            .unwrap()
    };
    let resp = get().await;
    assert_eq!(resp.status(), 200);
    assert_eq!(
        resp.headers()["content-type"],
        "text/plain; version=0.0.4; charset=utf-8"
    );
    let text = resp.text().await.unwrap();
    let (ok, said) = promtool(&text);
    assert!(ok && said.trim().is_empty(), "promtool: {said}\n{text}");
    for family in [
        "zeroclaw_http_request_duration_seconds_bucket{route=\"/webhook\",status_class=\"2xx\",le=\"",
        "zeroclaw_agent_request_duration_seconds_count{provider=\"echo\",outcome=\"ok\"} ",
        "zeroclaw_cron_run_duration_seconds_count{job=\"tick\"} 1\n",
        "zeroclaw_cron_runs_total{job=\"tick\",status=\"ok\"} 1\n",
        "zeroclaw_child_restarts_total{child=\"cron:tick\"} 0\n",
        "# TYPE process_resident_memory_bytes gauge\n",
        "# TYPE process_open_fds gauge\n",
        "# TYPE process_cpu_seconds_total counter\n",
        "# HELP zeroclaw_agent_responses_total ",
    ] {
        assert!(text.contains(family), "no {family:?} in\n{text}");
    }
    let rss: f64 = text
        .lines()
        .find_map(|l| l.strip_prefix("process_resident_memory_bytes "))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0);
    assert!(rss > 1_000_000.0, "RSS {rss} is not a live process's");
    // A second scrape counts the first in the request histogram.
    let again = get().await.text().await.unwrap();
    assert!(
        again.contains("zeroclaw_http_requests_total{route=\"/metrics\",status=\"200\"} 1\n"),
        "{again}"
    );
    assert!(promtool(&again).0);
}
