//! The plumbing shared by the fake model APIs: a script of replies consumed
//! in order, the record of every request, the server on 127.0.0.1 and the
//! replies that are the same whatever the wire format (a cut connection).

use axum::Router;
use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::Value;
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

/// A request as a fake received it.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub headers: HeaderMap,
    pub body: Value,
}

/// A running fake; `base_url` goes into `[provider] base_url`. Each API's
/// module adds its own `start`, which routes its paths to handlers over the
/// shared script.
pub struct Fake<S> {
    pub base_url: String,
    pub(super) script: Arc<Script<S>>,
}

impl<S: Send + 'static> Fake<S> {
    /// Serves `routes` (given the script as state) on 127.0.0.1.
    pub(super) async fn serve(steps: Vec<S>, routes: Router<Arc<Script<S>>>) -> Self {
        let script = Arc::new(Script::new(steps));
        Fake {
            base_url: serve(routes.with_state(script.clone())).await,
            script,
        }
    }

    /// Append steps to the script (a test that learns what to send only
    /// after the daemon is up).
    pub fn push(&self, steps: impl IntoIterator<Item = S>) {
        self.script.steps.lock().unwrap().extend(steps);
    }

    /// Every request to the model endpoint so far.
    pub fn requests(&self) -> Vec<Recorded> {
        self.script.requests()
    }

    pub fn hits(&self) -> usize {
        self.script.hits()
    }

    /// From now on every answer comes after a random delay in `min_ms..=max_ms`.
    pub fn set_latency_ms(&self, min_ms: u64, max_ms: u64) {
        *self.script.latency_ms.lock().unwrap() = Some((min_ms, max_ms.max(min_ms)));
    }
}

/// The replies still to give and the requests received so far.
pub struct Script<S> {
    steps: Mutex<VecDeque<S>>,
    requests: Mutex<Vec<Recorded>>,
    /// Every answer waits a random time in this range (milliseconds): a slow model.
    latency_ms: Mutex<Option<(u64, u64)>>,
}

impl<S> Script<S> {
    pub fn new(steps: Vec<S>) -> Self {
        Script {
            steps: Mutex::new(steps.into()),
            requests: Mutex::new(Vec::new()),
            latency_ms: Mutex::new(None),
        }
    }

    /// Waits as long as `Fake::set_latency_ms` asked (not at all by default).
    pub async fn latency(&self) {
        let latency = *self.latency_ms.lock().unwrap();
        if let Some((min, max)) = latency {
            let ms = rand::Rng::random_range(&mut rand::rng(), min..=max);
            tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
        }
    }

    /// Records a request; returns its body as JSON (`Null` if it is not
    /// JSON) and its number, counting from 1.
    pub fn record(&self, headers: &HeaderMap, body: &Bytes) -> (Value, usize) {
        let body: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
        let mut reqs = self.requests.lock().unwrap();
        reqs.push(Recorded {
            headers: headers.clone(),
            body: body.clone(),
        });
        (body, reqs.len())
    }

    /// The next scripted reply, or `otherwise` once the script is used up.
    pub fn next_or(&self, otherwise: S) -> S {
        self.steps.lock().unwrap().pop_front().unwrap_or(otherwise)
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.requests.lock().unwrap().clone()
    }

    pub fn hits(&self) -> usize {
        self.requests.lock().unwrap().len()
    }
}

/// Serves `app` on a free port of 127.0.0.1; returns its `http://` base URL.
pub async fn serve(app: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    format!("http://{addr}")
}

/// A JSON reply with this status (500 if it is not one) and the request id
/// in the header the API names it.
pub fn json_reply(status: u16, body: Value, id_header: &'static str, request_id: &str) -> Response {
    let r = (
        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        axum::Json(body),
    )
        .into_response();
    with_header(r, id_header, request_id)
}

/// Adds a header to a reply.
pub fn with_header(mut r: Response, name: &'static str, value: &str) -> Response {
    r.headers_mut().insert(name, value.parse().unwrap());
    r
}

/// 200, JSON headers and the start of a body, then the connection is cut.
pub fn drop_mid_body(start: &'static [u8]) -> Response {
    let chunks: Vec<Result<Bytes, std::io::Error>> = vec![
        Ok(Bytes::from_static(start)),
        Err(std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "fake: connection cut",
        )),
    ];
    Response::builder()
        .header("content-type", "application/json")
        .body(Body::from_stream(futures_util::stream::iter(chunks)))
        .unwrap()
}
