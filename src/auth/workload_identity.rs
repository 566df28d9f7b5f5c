//! Workload identity with the operator's own projected service account token
//! (`AZURE_FEDERATED_TOKEN_FILE`), exchanged for the app registration given by `AZURE_CLIENT_ID`
//! / `AZURE_TENANT_ID` or by the organization's overrides.

use super::entra::EntraTokenSource;
use super::{AuthEnvironment, AuthError, TokenSource};
use azure_core::credentials::TokenCredential;
use azure_identity::{
    ClientAssertionCredentialOptions, WorkloadIdentityCredential, WorkloadIdentityCredentialOptions,
};
use std::sync::Arc;

pub(crate) const KIND: &str = "workload-identity";

pub(crate) fn token_source(
    client_id: Option<String>,
    tenant_id: Option<String>,
    env: &AuthEnvironment,
) -> Result<Arc<dyn TokenSource>, AuthError> {
    let identity = &env.operator_identity;
    let client_id = client_id.or_else(|| identity.client_id.clone()).ok_or_else(|| {
        AuthError::Config(
            "workload identity needs a client id (spec or AZURE_CLIENT_ID); is the pod labelled azure.workload.identity/use?"
                .to_string(),
        )
    })?;
    let tenant_id = tenant_id
        .or_else(|| identity.tenant_id.clone())
        .ok_or_else(|| {
            AuthError::Config(
                "workload identity needs a tenant id (spec or AZURE_TENANT_ID)".to_string(),
            )
        })?;
    let token_file = identity.federated_token_file.clone().ok_or_else(|| {
        AuthError::Config(
            "workload identity needs AZURE_FEDERATED_TOKEN_FILE; is the pod labelled azure.workload.identity/use?"
                .to_string(),
        )
    })?;
    let env = env.clone();
    let metrics = env.metrics.clone();
    let factory = move || -> Result<Arc<dyn TokenCredential>, AuthError> {
        let options = WorkloadIdentityCredentialOptions {
            credential_options: ClientAssertionCredentialOptions {
                client_options: env.client_options()?,
            },
            client_id: Some(client_id.clone()),
            tenant_id: Some(tenant_id.clone()),
            token_file_path: Some(token_file.clone()),
        };
        let credential = WorkloadIdentityCredential::new(Some(options))
            .map_err(|e| AuthError::Config(super::error::one_line(&e.to_string())))?;
        Ok(credential)
    };
    Ok(Arc::new(EntraTokenSource::new(
        KIND,
        Box::new(factory),
        metrics,
    )?))
}
