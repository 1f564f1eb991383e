//! The one rustls crypto provider of the process, and the one client
//! configuration every outgoing HTTPS client shares.
//!
//! reqwest and tokio-rustls are built without a default provider (ring, not
//! aws-lc, keeps the binary small and the build free of cmake), so every TLS
//! user calls [`install_crypto_provider`] first. Installing twice is harmless.
//!
//! Left to itself, reqwest reads and parses the system's root certificates
//! (`/etc/ssl/certs`, about 150 files) every time a client is built; the
//! daemon builds one per channel, provider and tool at start, which cost most
//! of its start time (docs/performance.md). [`client_config`] instead hands
//! every client the same configuration, whose verifier loads the roots once,
//! on the first certificate it has to check: a daemon that never makes an
//! outgoing HTTPS request never reads them.

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
use std::sync::{Arc, LazyLock, Once, OnceLock};

static INSTALL: Once = Once::new();

/// Install ring as the process-wide rustls provider (once).
pub fn install_crypto_provider() {
    INSTALL.call_once(|| {
        // Err means a provider is already installed, which is what we want.
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

static CLIENT_CONFIG: LazyLock<Result<rustls::ClientConfig, rustls::Error>> = LazyLock::new(|| {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let verifier = Arc::new(LazyRoots {
        provider: provider.clone(),
        roots: OnceLock::new(),
    });
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth())
});

/// The TLS configuration of every outgoing HTTPS client (cheap to clone: it
/// is a handful of `Arc`s). An error means the provider refused its own
/// protocol versions; callers then let reqwest configure TLS itself.
pub fn client_config() -> Result<rustls::ClientConfig, rustls::Error> {
    install_crypto_provider();
    CLIENT_CONFIG.clone()
}

/// The platform's verifier, built on first use. Signatures of the handshake
/// need no roots, so only the certificate check waits for them.
#[derive(Debug)]
struct LazyRoots {
    provider: Arc<CryptoProvider>,
    /// Loaded at most once. An error (no readable roots) is kept too: every
    /// handshake then fails with it, which says what to fix, rather than
    /// reading the disk again on each request.
    roots: OnceLock<Result<Arc<rustls_platform_verifier::Verifier>, rustls::Error>>,
}

impl LazyRoots {
    fn roots(&self) -> Result<Arc<rustls_platform_verifier::Verifier>, rustls::Error> {
        self.roots
            .get_or_init(|| {
                rustls_platform_verifier::Verifier::new(self.provider.clone()).map(Arc::new)
            })
            .clone()
    }

    fn algorithms(&self) -> &WebPkiSupportedAlgorithms {
        &self.provider.signature_verification_algorithms
    }
}

impl ServerCertVerifier for LazyRoots {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        self.roots()?
            .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, self.algorithms())
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, self.algorithms())
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms().supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_self_signed_certificate_is_refused_and_the_roots_load_once() {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let verifier = LazyRoots {
            provider,
            roots: OnceLock::new(),
        };
        assert!(
            verifier.roots.get().is_none(),
            "nothing read before a check"
        );
        let cert = match rcgen::generate_simple_self_signed(vec!["localhost".into()]) {
            Ok(c) => c.cert,
            Err(e) => panic!("rcgen: {e}"),
        };
        let name = match ServerName::try_from("localhost") {
            Ok(n) => n,
            Err(e) => panic!("{e}"),
        };
        let check = || verifier.verify_server_cert(cert.der(), &[], &name, &[], UnixTime::now());
        assert!(
            check().is_err(),
            "a self-signed certificate must not verify"
        );
        assert!(
            verifier.roots.get().is_some(),
            "the roots were read for the check"
        );
        assert!(check().is_err());
    }
}
