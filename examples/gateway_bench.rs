//! The gateway's router served by its own accept loop with the echo agent,
//! outside the supervision tree: the subject of `benches/gateway/run.sh`.
//!
//! `cargo run --release --example gateway_bench -- [PORT] [TOKEN]` prints
//! `listening on http://127.0.0.1:PORT` and serves until Ctrl-C.

use std::path::PathBuf;
use zeroclaw::config::Config;
use zeroclaw::config::types::Secret;
use zeroclaw::daemon::wiring::Shared;
use zeroclaw::gateway::{GatewayState, serve};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let port: u16 = args.next().map(|p| p.parse()).transpose()?.unwrap_or(0);
    let token = args.next().unwrap_or_else(|| "bench-token".into());
    let mut config = Config::default();
    config.gateway.port = port;
    config.gateway.auth_token = Some(Secret::new(token));
    config.gateway.rate_limit = 0;
    let workdir = PathBuf::from(".");
    let shared = Shared::build(config, None, workdir)?;
    let state = GatewayState::new(shared.gateway_deps()).await?;
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    println!("listening on http://{}", listener.local_addr()?);
    serve(listener, state, async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await?;
    Ok(())
}
