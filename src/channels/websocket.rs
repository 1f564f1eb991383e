//! The one place a channel opens a websocket (Discord's gateway, Slack's
//! Socket Mode).
//!
//! `wss://` connections use the process's one TLS configuration
//! ([`crate::tls::client_config`]): the platform's roots, read once on the
//! first certificate to check, exactly as every HTTPS client of the daemon.
//! tokio-tungstenite is built with its bare rustls support and no roots of
//! its own, so no compiled-in root bundle is linked into the binary
//! (docs/performance.md) and a websocket never trusts a certificate that the
//! channel's HTTP calls would refuse.

use std::sync::Arc;
use tokio::net::TcpStream;
use tokio_tungstenite::{Connector, MaybeTlsStream, WebSocketStream};

/// A websocket to a chat platform, over TLS or (on the test fakes) plain TCP.
pub type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Why a websocket could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    /// The TLS configuration could not be built (the crypto provider refused
    /// its own protocol versions); nothing was sent.
    #[error("cannot set up TLS for the websocket: {0}")]
    Tls(#[from] rustls::Error),
    /// The TCP connection, the TLS handshake or the websocket upgrade failed.
    #[error(transparent)]
    Handshake(#[from] tokio_tungstenite::tungstenite::Error),
}

/// Open a websocket to `url` (`ws://` or `wss://`). A `ws://` URL ignores the
/// TLS configuration, so the fakes in tests need no certificates.
pub async fn connect(url: &str) -> Result<Socket, ConnectError> {
    let tls = Connector::Rustls(Arc::new(crate::tls::client_config()?));
    let (socket, _response) =
        tokio_tungstenite::connect_async_tls_with_config(url, None, false, Some(tls)).await?;
    Ok(socket)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum_server::tls_rustls::RustlsConfig;

    /// A TLS server on 127.0.0.1 whose certificate no root vouches for.
    async fn self_signed_server() -> std::net::SocketAddr {
        crate::tls::install_crypto_provider();
        let cert = match rcgen::generate_simple_self_signed(vec!["localhost".into()]) {
            Ok(c) => c,
            Err(e) => panic!("rcgen: {e}"),
        };
        let tls = RustlsConfig::from_pem(
            cert.cert.pem().into_bytes(),
            cert.signing_key.serialize_pem().into_bytes(),
        )
        .await
        .expect("a generated certificate loads");
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("addr");
        let server = axum_server::from_tcp_rustls(listener, tls).expect("tls listener");
        tokio::spawn(server.serve(axum::Router::new().into_make_service()));
        addr
    }

    #[tokio::test]
    async fn a_wss_peer_with_an_untrusted_certificate_is_refused_before_the_upgrade() {
        let addr = self_signed_server().await;
        let url = format!("wss://localhost:{}/", addr.port());
        match connect(&url).await {
            Err(ConnectError::Handshake(e)) => {
                let text = e.to_string();
                assert!(text.contains("certificate"), "says why: {text}");
            }
            Err(other) => panic!("refused for the wrong reason: {other}"),
            Ok(_) => panic!("a self-signed certificate was trusted"),
        }
    }
}
