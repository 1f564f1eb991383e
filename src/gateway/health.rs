//! `/health`, `/ready` and `/metrics`: what load balancers, init systems and
//! Prometheus ask.

use super::auth::check_bearer;
use super::error::ApiError;
use super::state::{GatewayState, TreeView};
use crate::component::Activity;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use std::collections::BTreeMap;
use std::time::SystemTime;
use zeroclaw_actors::ChildState;

/// The body of `/health` and `/ready`.
#[derive(Debug, Serialize)]
pub struct Health {
    /// `ok`, or `degraded` when any child is failed or in backoff (or the
    /// supervisor does not answer).
    pub status: &'static str,
    pub version: &'static str,
    pub uptime_secs: u64,
    pub components: BTreeMap<String, ChildState>,
    /// Set when the supervisor could not be asked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// When each channel last completed a poll or got an event: a channel
    /// can be `running` and still deaf; this shows it.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub activity: BTreeMap<String, Activity>,
    /// The role and the lease, in a `[cluster]` only (a follower is ready
    /// for webhooks: it runs every child it should).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cluster: Option<crate::cluster::ClusterView>,
    #[serde(skip)]
    ready: bool,
}

/// Plain function so it is testable without HTTP.
pub fn health_of(view: &TreeView, uptime_secs: u64) -> Health {
    let mut components = BTreeMap::new();
    let mut error = None;
    match view {
        // Outside a tree the gateway is the only component, and it is up
        // since it is answering.
        TreeView::NoTree => {
            components.insert(super::actor::NAME.to_string(), ChildState::Running);
        }
        TreeView::Snapshot(snap) => {
            for c in &snap.children {
                components.insert(c.name.clone(), c.state);
            }
        }
        TreeView::Unreachable(e) => {
            components.insert(super::actor::NAME.to_string(), ChildState::Running);
            error = Some(e.clone());
        }
    }
    let degraded = error.is_some()
        || components
            .values()
            .any(|s| matches!(s, ChildState::Failed | ChildState::Backoff));
    let ready = error.is_none() && components.values().all(|s| *s == ChildState::Running);
    Health {
        status: if degraded { "degraded" } else { "ok" },
        version: crate::VERSION,
        uptime_secs,
        components,
        error,
        activity: BTreeMap::new(),
        cluster: None,
        ready,
    }
}

impl Health {
    /// With each child's last completed work.
    pub fn with_activity(mut self, activities: Vec<(String, SystemTime)>) -> Self {
        self.activity = activities
            .into_iter()
            .map(|(child, at)| (child, Activity::at(at)))
            .collect();
        self
    }

    pub fn with_cluster(mut self, cluster: Option<crate::cluster::ClusterView>) -> Self {
        self.cluster = cluster;
        self
    }

    /// Every child running (and the supervisor answering).
    pub fn is_ready(&self) -> bool {
        self.ready
    }
}

/// `GET /health`: 200 whenever the gateway answers; the body says how the
/// rest of the daemon is.
pub async fn health(State(state): State<GatewayState>) -> Response {
    let h = state.health().await;
    json_bytes(StatusCode::OK, h.json.clone())
}

/// `GET /ready`: 200 only when every child is running, so a load balancer
/// sends traffic only to a complete daemon.
pub async fn ready(State(state): State<GatewayState>) -> Response {
    let h = state.health().await;
    let status = if h.ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    json_bytes(status, h.json.clone())
}

/// `zeroclaw_cluster_leader` (1 on the leader) and the lease's epoch.
fn cluster_metrics(c: &crate::cluster::ClusterView) -> String {
    let leader = u8::from(c.role == crate::cluster::Role::Leader);
    let instance = c.instance.replace(['\\', '"', '\n'], "_");
    format!(
        "# HELP zeroclaw_cluster_leader 1 while this instance holds the cluster's lease.\n\
         # TYPE zeroclaw_cluster_leader gauge\n\
         zeroclaw_cluster_leader{{instance=\"{instance}\"}} {leader}\n\
         # HELP zeroclaw_cluster_epoch The lease's term as last seen.\n\
         # TYPE zeroclaw_cluster_epoch gauge\n\
         zeroclaw_cluster_epoch {}\n",
        c.epoch
    )
}

fn json_bytes(status: StatusCode, body: axum::body::Bytes) -> Response {
    (
        status,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        body,
    )
        .into_response()
}

/// `GET /metrics`: Prometheus text; the same bearer token as `/webhook`.
pub async fn metrics(
    State(state): State<GatewayState>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    check_bearer(&headers, state.auth_token())?;
    let view = state.tree().await;
    let snap = match &view {
        TreeView::Snapshot(s) => Some(s.as_ref()),
        _ => None,
    };
    let mut text = state
        .metrics()
        .render_prometheus(snap, state.ctx().started.elapsed().as_secs());
    if let Some(c) = state.ctx().leadership.view() {
        text.push_str(&cluster_metrics(&c));
    }
    Ok((
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
        )],
        text,
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use zeroclaw_actors::{ChildSnapshot, TreeSnapshot};

    fn child(name: &str, state: ChildState) -> ChildSnapshot {
        ChildSnapshot {
            name: name.into(),
            state,
            restarts: 0,
            restarts_requested: 0,
            last_exit: None,
            uptime_secs: None,
            next_restart_ms: None,
        }
    }

    #[test]
    fn states_map_to_health_and_readiness() {
        let h = health_of(&TreeView::NoTree, 1);
        assert_eq!((h.status, h.ready), ("ok", true));
        let snap = |cs| TreeView::Snapshot(Arc::new(TreeSnapshot { children: cs }));
        let h = health_of(
            &snap(vec![
                child("gateway", ChildState::Running),
                child("cron:a", ChildState::Starting),
            ]),
            1,
        );
        assert_eq!((h.status, h.ready), ("ok", false));
        let h = health_of(
            &snap(vec![
                child("gateway", ChildState::Running),
                child("channel:telegram", ChildState::Backoff),
            ]),
            1,
        );
        assert_eq!((h.status, h.ready), ("degraded", false));
        let h = health_of(&snap(vec![child("x", ChildState::Failed)]), 1);
        assert_eq!(h.status, "degraded");
        let h = health_of(&TreeView::Unreachable("no answer".into()), 1);
        assert_eq!((h.status, h.ready), ("degraded", false));
        let json = serde_json::to_value(health_of(&TreeView::NoTree, 7)).unwrap();
        assert_eq!(json["components"]["gateway"], "running");
        assert_eq!(json["uptime_secs"], 7);
        assert!(json.get("ready").is_none());
    }
}
