//! `[cluster]`: defaults, `${ENV}` in the URL, and the errors an operator sees.

use std::collections::HashMap;
use std::time::Duration;
use zeroclaw::config::{ClusterBackend, check_str_with_env};

fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn messages(text: &str, vars: HashMap<String, String>) -> Vec<String> {
    check_str_with_env(text, vars)
        .errors
        .into_iter()
        .map(|d| d.to_string())
        .collect()
}

#[test]
fn without_cluster_nothing_changes() {
    let report = check_str_with_env("", HashMap::new());
    let config = report.config.expect("the empty file loads");
    assert!(config.cluster.is_none());
}

#[test]
fn defaults_and_env_url() {
    let text = "[cluster]\nurl = \"${DB_URL}\"\n";
    let report = check_str_with_env(
        text,
        env(&[(
            "DB_URL",
            "postgres://zc:pw@127.0.0.1:5432/zc?sslmode=disable",
        )]),
    );
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    let cluster = report.config.and_then(|c| c.cluster).expect("[cluster]");
    assert_eq!(cluster.backend, ClusterBackend::Postgres);
    assert_eq!(cluster.lease_ttl, Duration::from_secs(15));
    assert_eq!(
        cluster.url.as_ref().map(|u| u.expose().to_string()),
        Some("postgres://zc:pw@127.0.0.1:5432/zc?sslmode=disable".to_string())
    );
    // The default instance name is the host name, never empty.
    assert!(!cluster.instance_name().is_empty());
}

#[test]
fn missing_url_says_what_to_write() {
    let errors = messages("[cluster]\nlease_ttl = \"15s\"\n", HashMap::new());
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(errors[0].contains("needs url"), "{errors:?}");
    assert!(errors[0].contains("ZEROCLAW_DATABASE_URL"), "{errors:?}");
}

#[test]
fn bad_values_are_each_reported_without_the_password() {
    let text = "[cluster]\nurl = \"postgres://zc:hunter2@h/db?sslmode=sometimes\"\n\
                instance = \"a b\"\nlease_ttl = \"1s\"\n";
    let errors = messages(text, HashMap::new());
    assert_eq!(errors.len(), 3, "{errors:?}");
    let all = errors.join("\n");
    assert!(all.contains("sslmode"), "{all}");
    assert!(all.contains("lease_ttl is 1s"), "{all}");
    assert!(all.contains("instance `a b`"), "{all}");
    assert!(!all.contains("hunter2"), "{all}");
}

#[test]
fn unknown_backend_and_missing_env_are_errors() {
    let errors = messages(
        "[cluster]\nbackend = \"mysql\"\nurl = \"postgres://h/db\"\n",
        HashMap::new(),
    );
    assert!(errors.iter().any(|e| e.contains("backend")), "{errors:?}");
    let errors = messages("[cluster]\nurl = \"${NOT_SET_ANYWHERE}\"\n", HashMap::new());
    assert!(
        errors.iter().any(|e| e.contains("NOT_SET_ANYWHERE")),
        "{errors:?}"
    );
}
