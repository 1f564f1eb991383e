use super::*;
use std::time::Duration;
use zeroclaw_actors::{ChildSnapshot, ChildState};

const MS: Duration = Duration::from_millis(3);

#[test]
fn renders_counters_gauges_and_tree() {
    let m = Metrics::default();
    m.http_request("/webhook", 200, MS);
    m.http_request("/webhook", 200, MS);
    m.http_request("/webhook", 401, MS);
    m.cron_run("daily \"report\"", "ok");
    m.channel_message("webhook", "in");
    m.channel_message("webhook", "in");
    m.channel_message("webhook", "out");
    m.connections_add(2);
    let tree = TreeSnapshot {
        children: vec![ChildSnapshot {
            name: "gateway".into(),
            state: ChildState::Running,
            restarts: 3,
            restarts_requested: 1,
            last_exit: None,
            uptime_secs: Some(5),
            next_restart_ms: None,
        }],
    };
    let text = m.render_prometheus(Some(&tree), 42);
    assert!(
        text.contains("zeroclaw_http_requests_total{route=\"/webhook\",status=\"200\"} 2\n"),
        "{text}"
    );
    assert!(text.contains("zeroclaw_http_requests_total{route=\"/webhook\",status=\"401\"} 1\n"));
    assert_eq!(
        text.matches("# TYPE zeroclaw_http_requests_total counter")
            .count(),
        1
    );
    assert!(
        text.contains("zeroclaw_cron_runs_total{job=\"daily \\\"report\\\"\",status=\"ok\"} 1"),
        "{text}"
    );
    assert!(text.contains("zeroclaw_gateway_open_connections 2\n"));
    assert!(text.contains("zeroclaw_child_restarts_total{child=\"gateway\"} 3\n"));
    assert!(text.contains("zeroclaw_child_requested_restarts_total{child=\"gateway\"} 1\n"));
    assert!(text.contains("zeroclaw_child_state{child=\"gateway\",state=\"running\"} 1\n"));
    assert!(text.contains("zeroclaw_child_state{child=\"gateway\",state=\"failed\"} 0\n"));
    assert!(text.contains("zeroclaw_uptime_seconds 42\n"));
    assert!(
        text.contains("zeroclaw_channel_messages_total{channel=\"webhook\",direction=\"in\"} 2\n")
    );
    assert!(
        text.contains("zeroclaw_channel_messages_total{channel=\"webhook\",direction=\"out\"} 1\n")
    );
    let listed = m.counters();
    assert!(
        listed
            .iter()
            .any(|(n, l, v)| n == "zeroclaw_channel_messages_total"
                && l.contains(&("direction".to_string(), "in".to_string()))
                && *v == 2)
    );
    let cron = listed
        .iter()
        .find(|(n, _, _)| n == "zeroclaw_cron_runs_total")
        .map(|(_, l, _)| l.clone());
    assert_eq!(
        cron,
        Some(vec![
            ("job".to_string(), "daily \"report\"".to_string()),
            ("status".to_string(), "ok".to_string())
        ])
    );
}

#[test]
fn every_family_has_help_and_type_and_histograms_bucket() {
    let m = Metrics::default();
    m.http_request("/health", 200, Duration::from_micros(700));
    m.agent_response("echo", "ok", Duration::from_millis(300));
    m.agent_tokens("anthropic", "claude", 12, 5);
    m.cron_finished("daily", "ok", Duration::from_secs(2));
    m.channel_sent("telegram", Duration::from_millis(40));
    m.channel_activity("telegram");
    m.inc("zeroclaw_something_new_total", &[("kind", "x")]);
    m.gauge_set("zeroclaw_queue_depth", &[], 3);
    m.gauge_add("zeroclaw_queue_depth", &[], 1);
    let text = m.render_prometheus(None, 1);
    let typed: Vec<&str> = text
        .lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .filter_map(|l| l.split(' ').next())
        .collect();
    for l in text.lines().filter(|l| !l.starts_with('#')) {
        let name = l.split(['{', ' ']).next().unwrap_or_default();
        let family = typed
            .iter()
            .find(|t| {
                name == **t
                    || ["_bucket", "_sum", "_count"]
                        .iter()
                        .any(|s| name.strip_suffix(s) == Some(**t))
            })
            .unwrap_or_else(|| panic!("no # TYPE for {name}:\n{text}"));
        assert!(
            text.contains(&format!("# HELP {family} ")),
            "no # HELP for {family}"
        );
    }
    assert!(text.contains(
        "zeroclaw_http_request_duration_seconds_bucket{le=\"0.001\",route=\"/health\",status_class=\"2xx\"} 1\n"
    ) || text.contains(
        "zeroclaw_http_request_duration_seconds_bucket{route=\"/health\",status_class=\"2xx\",le=\"0.001\"} 1\n"
    ), "{text}");
    assert!(text.contains(
        "zeroclaw_agent_tokens_total{provider=\"anthropic\",model=\"claude\",direction=\"in\"} 12\n"
    ));
    assert!(text.contains(
        "zeroclaw_agent_request_duration_seconds_count{provider=\"echo\",outcome=\"ok\"} 1\n"
    ));
    assert!(text.contains("zeroclaw_cron_run_duration_seconds_sum{job=\"daily\"} 2"));
    assert!(
        text.contains(
            "zeroclaw_channel_messages_total{channel=\"telegram\",direction=\"out\"} 1\n"
        )
    );
    assert!(text.contains("zeroclaw_channel_idle_seconds{channel=\"telegram\"} 0\n"));
    assert!(text.contains("zeroclaw_something_new_total{kind=\"x\"} 1\n"));
    assert!(text.contains("zeroclaw_queue_depth 4\n"));
    assert!(text.contains("# TYPE process_resident_memory_bytes gauge"));
    assert!(text.contains("# TYPE process_open_fds gauge"));
    assert!(text.contains("# TYPE process_cpu_seconds_total counter"));
    assert!(text.contains("zeroclaw_build_info{version=\""));
}
