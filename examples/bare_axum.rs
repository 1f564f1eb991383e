//! The baseline of `benches/gateway/run.sh`: axum with nothing added.
//! `GET /` says hello; `POST /webhook` parses `{"message"}` and echoes it,
//! the least a webhook can do.
//!
//! `cargo run --release --example bare_axum -- [PORT]`

use axum::Json;
use axum::routing::{get, post};

#[derive(serde::Deserialize)]
struct In {
    message: String,
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let port: u16 = std::env::args()
        .nth(1)
        .map(|p| p.parse())
        .transpose()?
        .unwrap_or(0);
    let app = axum::Router::new()
        .route("/", get(|| async { "Hello, World!" }))
        .route(
            "/webhook",
            post(
                |Json(m): Json<In>| async move { Json(serde_json::json!({"response": m.message})) },
            ),
        );
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    println!("listening on http://{}", listener.local_addr()?);
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    Ok(())
}
