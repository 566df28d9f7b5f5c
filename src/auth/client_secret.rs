//! An app registration's client secret (`client_credentials` grant with `client_secret`).

use super::entra::EntraTokenSource;
use super::{AuthEnvironment, AuthError, SecretString, TokenSource};
use azure_core::credentials::{Secret, TokenCredential};
use azure_identity::{ClientSecretCredential, ClientSecretCredentialOptions};
use std::sync::Arc;

pub(crate) const KIND: &str = "client-secret";

pub(crate) fn token_source(
    tenant_id: String,
    client_id: String,
    secret: SecretString,
    env: &AuthEnvironment,
) -> Result<Arc<dyn TokenSource>, AuthError> {
    if secret.is_empty() {
        return Err(AuthError::Config("the client secret is empty".to_string()));
    }
    let env = env.clone();
    let metrics = env.metrics.clone();
    let factory = move || -> Result<Arc<dyn TokenCredential>, AuthError> {
        let options = ClientSecretCredentialOptions {
            client_options: env.client_options()?,
        };
        let credential = ClientSecretCredential::new(
            &tenant_id,
            client_id.clone(),
            Secret::new(secret.expose().to_owned()),
            Some(options),
        )
        .map_err(|e| AuthError::Config(super::error::one_line(&e.to_string())))?;
        Ok(credential)
    };
    Ok(Arc::new(EntraTokenSource::new(
        KIND,
        Box::new(factory),
        metrics,
    )?))
}
