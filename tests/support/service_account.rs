//! Service accounts and their tokens (TokenRequest API).

use super::error::{HarnessError, HarnessResult};
use k8s_openapi::api::authentication::v1::{TokenRequest, TokenRequestSpec};
use k8s_openapi::api::core::v1::ServiceAccount;
use kube::api::{Api, ObjectMeta, PostParams};

/// Creates the ServiceAccount `namespace/name` (no RBAC is granted to it).
pub async fn create_service_account(
    client: &kube::Client,
    namespace: &str,
    name: &str,
) -> HarnessResult<ServiceAccount> {
    let account = ServiceAccount {
        metadata: ObjectMeta {
            name: Some(name.to_string()),
            ..Default::default()
        },
        ..Default::default()
    };
    Ok(Api::<ServiceAccount>::namespaced(client.clone(), namespace)
        .create(&PostParams::default(), &account)
        .await?)
}

/// Mints a token for `namespace/name` through the TokenRequest API. With no `audiences` the
/// apiserver's default audience (its issuer URL) applies. `expiration_seconds` must be at least
/// 600 (the apiserver's minimum).
pub async fn request_token(
    client: &kube::Client,
    namespace: &str,
    name: &str,
    audiences: &[&str],
    expiration_seconds: i64,
) -> HarnessResult<String> {
    let request = TokenRequest {
        spec: TokenRequestSpec {
            audiences: audiences.iter().map(|a| a.to_string()).collect(),
            expiration_seconds: Some(expiration_seconds),
            ..Default::default()
        },
        ..Default::default()
    };
    let response = Api::<ServiceAccount>::namespaced(client.clone(), namespace)
        .create_token_request(name, &PostParams::default(), &request)
        .await?;
    response
        .status
        .map(|status| status.token)
        .filter(|token| !token.is_empty())
        .ok_or_else(|| {
            HarnessError::Invalid(format!(
                "TokenRequest for {namespace}/{name} returned no token"
            ))
        })
}
