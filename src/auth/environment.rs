//! What every credential needs from its surroundings: the Entra authority, the operator's own
//! identity, the shared HTTP client (so an extra CA applies to Entra too), Kubernetes, metrics.

use super::AuthError;
use crate::ado::metrics::AdoMetrics;
use azure_core::cloud::{CloudConfiguration, CustomConfiguration};
use azure_core::http::{ClientOptions, ExponentialRetryOptions, RetryOptions, Transport};
use reqwest::Url;
use std::path::PathBuf;
use std::sync::Arc;

/// Entra ID authority of the public cloud.
pub const AZURE_PUBLIC_AUTHORITY: &str = "https://login.microsoftonline.com";

const AZURE_AUTHORITY_HOST: &str = "AZURE_AUTHORITY_HOST";
const AZURE_CLIENT_ID: &str = "AZURE_CLIENT_ID";
const AZURE_TENANT_ID: &str = "AZURE_TENANT_ID";
const AZURE_FEDERATED_TOKEN_FILE: &str = "AZURE_FEDERATED_TOKEN_FILE";

/// The operator's own workload identity, as injected by the Azure workload identity webhook.
#[derive(Debug, Clone, Default)]
pub struct OperatorIdentity {
    pub client_id: Option<String>,
    pub tenant_id: Option<String>,
    pub federated_token_file: Option<PathBuf>,
}

impl OperatorIdentity {
    /// Read `AZURE_CLIENT_ID`, `AZURE_TENANT_ID` and `AZURE_FEDERATED_TOKEN_FILE`.
    pub fn from_process_env() -> Self {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        Self {
            client_id: var(AZURE_CLIENT_ID),
            tenant_id: var(AZURE_TENANT_ID),
            federated_token_file: var(AZURE_FEDERATED_TOKEN_FILE).map(PathBuf::from),
        }
    }
}

/// Shared inputs of every token source.
#[derive(Clone)]
pub struct AuthEnvironment {
    /// Entra authority host; must be https.
    pub authority_host: Url,
    /// Defaults for the workload identity variants.
    pub operator_identity: OperatorIdentity,
    /// The HTTP client used for Entra/IMDS calls (the same one Azure DevOps calls use).
    pub http: reqwest::Client,
    /// Needed by the ServiceAccount variant (annotations and TokenRequest).
    pub kube: Option<kube::Client>,
    pub metrics: Arc<AdoMetrics>,
}

impl AuthEnvironment {
    /// Authority from `AZURE_AUTHORITY_HOST` (default: public cloud) and identity from the
    /// `AZURE_*` variables.
    pub fn from_process_env(
        http: reqwest::Client,
        kube: Option<kube::Client>,
        metrics: Arc<AdoMetrics>,
    ) -> Result<Self, AuthError> {
        let authority = std::env::var(AZURE_AUTHORITY_HOST)
            .ok()
            .filter(|v| !v.trim().is_empty())
            .unwrap_or_else(|| AZURE_PUBLIC_AUTHORITY.to_string());
        Ok(Self {
            authority_host: parse_authority(&authority)?,
            operator_identity: OperatorIdentity::from_process_env(),
            http,
            kube,
            metrics,
        })
    }

    /// `azure_identity` client options: our HTTP client as transport and our authority.
    pub(crate) fn client_options(&self) -> Result<ClientOptions, AuthError> {
        if self.authority_host.scheme() != "https" {
            return Err(AuthError::Config(format!(
                "the Entra authority host must use https, got {}",
                self.authority_host
            )));
        }
        let mut cloud = CustomConfiguration::default();
        cloud.authority_host = self
            .authority_host
            .as_str()
            .trim_end_matches('/')
            .to_string();
        // A token request is retried briefly; a longer outage surfaces as a transient error and
        // the reconcile is retried later instead of holding a worker for a minute.
        let retry = RetryOptions::exponential(ExponentialRetryOptions {
            initial_delay: azure_core::time::Duration::milliseconds(250),
            max_retries: 2,
            max_total_elapsed: azure_core::time::Duration::seconds(10),
            max_delay: azure_core::time::Duration::seconds(2),
        });
        Ok(ClientOptions {
            transport: Some(Transport::new(Arc::new(self.http.clone()))),
            cloud: Some(Arc::new(CloudConfiguration::Custom(cloud))),
            retry,
            ..Default::default()
        })
    }
}

/// Parse and check an authority host (https only; a path is not allowed because the token
/// endpoint is `{authority}/{tenant}/oauth2/v2.0/token` from the host root).
pub fn parse_authority(value: &str) -> Result<Url, AuthError> {
    let url = Url::parse(value.trim())
        .map_err(|e| AuthError::Config(format!("invalid Entra authority host {value:?}: {e}")))?;
    if url.scheme() != "https" {
        return Err(AuthError::Config(format!(
            "the Entra authority host must use https, got {value:?}"
        )));
    }
    if url.path() != "/" && !url.path().is_empty() {
        return Err(AuthError::Config(format!(
            "the Entra authority host must not carry a path, got {value:?}"
        )));
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn authority_must_be_https_without_a_path() {
        assert!(parse_authority("https://login.microsoftonline.com").is_ok());
        assert!(parse_authority("https://127.0.0.1:8443/").is_ok());
        assert!(matches!(
            parse_authority("http://login.microsoftonline.com"),
            Err(AuthError::Config(_))
        ));
        assert!(matches!(
            parse_authority("https://login.example/tenant"),
            Err(AuthError::Config(_))
        ));
        assert!(matches!(
            parse_authority("not a url"),
            Err(AuthError::Config(_))
        ));
    }
}
