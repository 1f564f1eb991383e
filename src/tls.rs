//! The one rustls crypto provider of the process.
//!
//! reqwest and axum-server are built without a default provider (ring, not
//! aws-lc, keeps the binary small and the build free of cmake), so every TLS
//! user calls this first. Installing twice is harmless.

use std::sync::Once;

static INSTALL: Once = Once::new();

/// Install ring as the process-wide rustls provider (once).
pub fn install_crypto_provider() {
    INSTALL.call_once(|| {
        // Err means a provider is already installed, which is what we want.
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}
