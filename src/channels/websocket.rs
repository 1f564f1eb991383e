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

    /// A TLS server on 127.0.0.1 whose certificate no root vouches for; it
    /// handshakes every connection it accepts (the client hangs up).
    async fn self_signed_server(dir: &std::path::Path) -> std::net::SocketAddr {
        let cert = match rcgen::generate_simple_self_signed(vec!["localhost".into()]) {
            Ok(c) => c,
            Err(e) => panic!("rcgen: {e}"),
        };
        let (cert_path, key_path) = (dir.join("cert.pem"), dir.join("key.pem"));
        std::fs::write(&cert_path, cert.cert.pem()).expect("write cert");
        std::fs::write(&key_path, cert.signing_key.serialize_pem()).expect("write key");
        let acceptor = crate::gateway::tls::load(&cert_path, &key_path)
            .await
            .expect("a generated certificate loads");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let acceptor = acceptor.clone();
                tokio::spawn(async move { acceptor.accept(stream).await });
            }
        });
        addr
    }

    #[tokio::test]
    async fn a_wss_peer_with_an_untrusted_certificate_is_refused_before_the_upgrade() {
        let dir = tempfile::tempdir().expect("tempdir");
        let addr = self_signed_server(dir.path()).await;
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
