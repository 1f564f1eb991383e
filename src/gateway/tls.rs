//! TLS for the gateway (`[gateway] tls_cert` + `tls_key`), with rustls on
//! the ring provider, straight on tokio-rustls: the accept loop
//! (`server.rs`) already does everything a server framework would add, and
//! axum-server would bring an HTTP/2 server the gateway never speaks
//! (docs/performance.md, "Size").

use super::error::GatewayError;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use std::path::Path;
use std::sync::Arc;
use tokio_rustls::TlsAcceptor;

/// Load the PEM certificate chain and key. ALPN offers HTTP/1.1 only: the
/// gateway's connection limits and timeouts are those of HTTP/1 connections,
/// and every webhook sender (Telegram, Slack, curl) speaks it.
pub async fn load(cert: &Path, key: &Path) -> Result<TlsAcceptor, GatewayError> {
    crate::tls::install_crypto_provider();
    let (cert_path, key_path) = (cert.to_path_buf(), key.to_path_buf());
    // Reading and parsing two small files blocks; keep it off the runtime.
    let built = tokio::task::spawn_blocking(move || server_config(&cert_path, &key_path))
        .await
        .map_err(|e| format!("loading was interrupted: {e}"))
        .and_then(|r| r);
    match built {
        Ok(config) => Ok(TlsAcceptor::from(Arc::new(config))),
        Err(reason) => Err(GatewayError::Tls {
            cert: cert.to_path_buf(),
            key: key.to_path_buf(),
            reason,
        }),
    }
}

fn server_config(cert: &Path, key: &Path) -> Result<rustls::ServerConfig, String> {
    let chain = CertificateDer::pem_file_iter(cert)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .map_err(|e| format!("{}: {e}", cert.display()))?;
    if chain.is_empty() {
        return Err(format!("{}: no certificate in the file", cert.display()));
    }
    let key_der =
        PrivateKeyDer::from_pem_file(key).map_err(|e| format!("{}: {e}", key.display()))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .and_then(|b| b.with_no_client_auth().with_single_cert(chain, key_der))
        .map_err(|e| e.to_string())?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_key_file_without_a_key_is_refused_with_both_paths_named() {
        let dir = tempfile::tempdir().expect("tempdir");
        let generated = rcgen::generate_simple_self_signed(vec!["localhost".into()])
            .expect("a certificate is generated");
        let cert = dir.path().join("cert.pem");
        let key = dir.path().join("key.pem");
        std::fs::write(&cert, generated.cert.pem()).expect("write cert");
        // The certificate again where the key belongs: a common mistake.
        std::fs::write(&key, generated.cert.pem()).expect("write key");
        let Err(e) = load(&cert, &key).await else {
            panic!("a certificate was accepted as a key");
        };
        let text = e.to_string();
        assert!(
            text.contains("key.pem") && text.contains("cert.pem"),
            "{text}"
        );

        std::fs::write(&key, generated.signing_key.serialize_pem()).expect("write key");
        assert!(load(&cert, &key).await.is_ok(), "the right key loads");
    }
}
