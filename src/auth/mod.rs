//! Authentication to Azure DevOps: one [`TokenSource`] trait, one implementation per way an
//! organization can authenticate, chosen from an [`AuthConfig`] by [`token_source`].

mod client_secret;
mod entra;
mod environment;
mod error;
mod managed_identity;
mod pat;
mod secret;
mod service_account;
mod workload_identity;

pub use environment::{parse_authority, AuthEnvironment, OperatorIdentity, AZURE_PUBLIC_AUTHORITY};
pub(crate) use error::one_line as one_line_message;
pub use error::AuthError;
pub use pat::PatTokenSource;
pub use secret::SecretString;
pub use service_account::{
    service_account_token_source, KubeTokenRequestMinter, ServiceAccountTokenMinter,
    TOKEN_EXCHANGE_AUDIENCE,
};

use async_trait::async_trait;
use std::sync::Arc;

/// Entra ID application id of Azure DevOps.
pub const AZURE_DEVOPS_RESOURCE: &str = "499b84ac-1321-427f-aa17-267ca6975798";
/// The v2 scope requested for Azure DevOps tokens.
pub const AZURE_DEVOPS_SCOPE: &str = "499b84ac-1321-427f-aa17-267ca6975798/.default";

/// Supplies the `Authorization` header for Azure DevOps calls.
///
/// Implementations cache tokens until shortly before they expire; `invalidate()` makes the next
/// call fetch a new one (used once after a 401).
#[async_trait]
pub trait TokenSource: Send + Sync {
    /// The complete header value: `Bearer <token>` or `Basic <base64(":" + PAT)>`.
    /// Never log it.
    async fn authorization_header(&self) -> Result<String, AuthError>;

    /// Forget the cached token; the next `authorization_header()` acquires a fresh one.
    fn invalidate(&self);

    /// A stable label for metrics and messages: `workload-identity`, `service-account`,
    /// `managed-identity`, `client-secret` or `pat`.
    fn kind(&self) -> &'static str;
}

/// How an organization authenticates; built by the organization controller from its spec.
#[derive(Debug, Clone)]
pub enum AuthConfig {
    /// The operator's own projected service account token (`AZURE_*` environment), optionally
    /// exchanged for another app registration's token (client and tenant override).
    WorkloadIdentity {
        client_id: Option<String>,
        tenant_id: Option<String>,
    },
    /// Workload identity of another service account: its token is minted with the Kubernetes
    /// TokenRequest API; client and tenant default to the service account's
    /// `azure.workload.identity/client-id` and `azure.workload.identity/tenant-id` annotations.
    ServiceAccount {
        namespace: String,
        name: String,
        client_id: Option<String>,
        tenant_id: Option<String>,
    },
    /// Azure managed identity (IMDS); `client_id` selects a user-assigned identity.
    ManagedIdentity { client_id: Option<String> },
    /// An app registration's client secret.
    ClientSecret {
        tenant_id: String,
        client_id: String,
        secret: SecretString,
    },
    /// A personal access token (legacy).
    Pat { token: SecretString },
}

impl AuthConfig {
    /// The [`TokenSource::kind`] label this configuration produces.
    pub fn kind(&self) -> &'static str {
        match self {
            AuthConfig::WorkloadIdentity { .. } => workload_identity::KIND,
            AuthConfig::ServiceAccount { .. } => service_account::KIND,
            AuthConfig::ManagedIdentity { .. } => managed_identity::KIND,
            AuthConfig::ClientSecret { .. } => client_secret::KIND,
            AuthConfig::Pat { .. } => pat::KIND,
        }
    }
}

/// Build the token source for an organization. Performs no token request; the ServiceAccount
/// variant reads the service account (one Kubernetes GET) when client or tenant id is missing.
pub async fn token_source(
    config: AuthConfig,
    env: &AuthEnvironment,
) -> Result<Arc<dyn TokenSource>, AuthError> {
    match config {
        AuthConfig::WorkloadIdentity {
            client_id,
            tenant_id,
        } => workload_identity::token_source(client_id, tenant_id, env),
        AuthConfig::ServiceAccount {
            namespace,
            name,
            client_id,
            tenant_id,
        } => {
            let kube = env.kube.clone().ok_or_else(|| {
                AuthError::Config(
                    "service account authentication needs a Kubernetes client".to_string(),
                )
            })?;
            let (client_id, tenant_id) =
                service_account::resolve_ids(&kube, &namespace, &name, client_id, tenant_id, env)
                    .await?;
            service_account_token_source(
                namespace,
                name,
                client_id,
                tenant_id,
                Arc::new(KubeTokenRequestMinter::new(kube)),
                env,
            )
        }
        AuthConfig::ManagedIdentity { client_id } => managed_identity::token_source(client_id, env),
        AuthConfig::ClientSecret {
            tenant_id,
            client_id,
            secret,
        } => client_secret::token_source(tenant_id, client_id, secret, env),
        AuthConfig::Pat { token } => Ok(Arc::new(PatTokenSource::new(token)?)),
    }
}
