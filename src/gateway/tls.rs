//! TLS for the gateway (`[gateway] tls_cert` + `tls_key`), with rustls on
//! the ring provider.

use super::error::GatewayError;
use axum_server::tls_rustls::RustlsConfig;
use std::path::Path;
use std::sync::Arc;

/// Load the PEM certificate chain and key. ALPN offers HTTP/1.1 only: the
/// gateway's connection limits and timeouts are those of HTTP/1 connections,
/// and every webhook sender (Telegram, Slack, curl) speaks it.
pub async fn load(cert: &Path, key: &Path) -> Result<RustlsConfig, GatewayError> {
    crate::tls::install_crypto_provider();
    let err = |source| GatewayError::Tls {
        cert: cert.to_path_buf(),
        key: key.to_path_buf(),
        source,
    };
    let loaded = RustlsConfig::from_pem_file(cert, key).await.map_err(err)?;
    let mut server = (*loaded.get_inner()).clone();
    server.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(RustlsConfig::from_config(Arc::new(server)))
}
