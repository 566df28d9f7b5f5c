//! HTTPS clients that trust only the test control plane's CA.

use super::certs::PemPair;
use super::error::HarnessResult;
use std::time::Duration;

/// Installs aws-lc-rs as the process-wide rustls provider (idempotent).
pub fn install_crypto_provider() {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
}

/// A client trusting only `ca_pem`, anonymous or authenticated with a client certificate.
pub fn https_client(ca_pem: &str, identity: Option<&PemPair>) -> HarnessResult<reqwest::Client> {
    install_crypto_provider();
    let ca = reqwest::Certificate::from_pem(ca_pem.as_bytes())?;
    let mut builder = reqwest::Client::builder()
        .tls_certs_only([ca])
        .timeout(Duration::from_secs(10));
    if let Some(pair) = identity {
        let pem = format!("{}\n{}", pair.cert_pem, pair.key_pem);
        builder = builder.identity(reqwest::Identity::from_pem(pem.as_bytes())?);
    }
    Ok(builder.build()?)
}
