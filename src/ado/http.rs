//! Shared HTTP clients: one `reqwest::Client` (one connection pool) per distinct extra-CA bundle,
//! used for Azure DevOps and Entra alike. TLS is always verified; an extra CA is trusted in
//! addition to the system roots, never instead of verification.

use super::AdoError;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

const USER_AGENT: &str = concat!("azdo-operator/", env!("CARGO_PKG_VERSION"));

/// Factory and cache of HTTP clients keyed by CA bundle content.
#[derive(Clone, Default)]
pub struct HttpClients {
    clients: Arc<Mutex<HashMap<Option<String>, reqwest::Client>>>,
}

impl std::fmt::Debug for HttpClients {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpClients").finish_non_exhaustive()
    }
}

impl HttpClients {
    pub fn new() -> Self {
        Self::default()
    }

    /// The client for a CA bundle (PEM, one or more certificates), or for the system roots
    /// only. Equal bundles share one client.
    pub fn get(&self, ca_pem: Option<&str>) -> Result<reqwest::Client, AdoError> {
        let key = ca_pem
            .map(|pem| pem.trim().to_string())
            .filter(|pem| !pem.is_empty());
        let mut clients = self.clients.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(client) = clients.get(&key) {
            return Ok(client.clone());
        }
        let client = build_http_client(key.as_deref())?;
        clients.insert(key, client.clone());
        Ok(client)
    }

    /// Number of distinct clients built so far.
    pub fn len(&self) -> usize {
        self.clients.lock().unwrap_or_else(|p| p.into_inner()).len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Build one client. Redirects are not followed: Azure DevOps redirects an unauthenticated
/// request to a sign-in page, which must surface as an authentication failure.
pub fn build_http_client(ca_pem: Option<&str>) -> Result<reqwest::Client, AdoError> {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let mut builder = reqwest::Client::builder()
        .user_agent(USER_AGENT)
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(Duration::from_secs(10))
        .pool_idle_timeout(Duration::from_secs(90));
    if let Some(pem) = ca_pem {
        let certificates = reqwest::Certificate::from_pem_bundle(pem.as_bytes())
            .map_err(|e| AdoError::Config(format!("the CA bundle is not valid PEM: {e}")))?;
        if certificates.is_empty() {
            return Err(AdoError::Config(
                "the CA bundle contains no certificate".to_string(),
            ));
        }
        builder = builder.tls_certs_merge(certificates);
    }
    builder
        .build()
        .map_err(|e| AdoError::Config(format!("building the HTTP client failed: {e}")))
}
