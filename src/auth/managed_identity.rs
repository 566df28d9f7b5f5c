//! Azure managed identity (IMDS, or the App Service style endpoint when `IDENTITY_ENDPOINT`
//! is set); `client_id` selects a user-assigned identity.

use super::entra::EntraTokenSource;
use super::{AuthEnvironment, AuthError, TokenSource};
use azure_core::credentials::TokenCredential;
use azure_identity::{ManagedIdentityCredential, ManagedIdentityCredentialOptions, UserAssignedId};
use std::sync::Arc;

pub(crate) const KIND: &str = "managed-identity";

pub(crate) fn token_source(
    client_id: Option<String>,
    env: &AuthEnvironment,
) -> Result<Arc<dyn TokenSource>, AuthError> {
    let env = env.clone();
    let metrics = env.metrics.clone();
    let factory = move || -> Result<Arc<dyn TokenCredential>, AuthError> {
        let options = ManagedIdentityCredentialOptions {
            user_assigned_id: client_id.clone().map(UserAssignedId::ClientId),
            client_options: env.client_options()?,
        };
        let credential = ManagedIdentityCredential::new(Some(options))
            .map_err(|e| AuthError::Config(super::error::one_line(&e.to_string())))?;
        Ok(credential)
    };
    Ok(Arc::new(EntraTokenSource::new(
        KIND,
        Box::new(factory),
        metrics,
    )?))
}
