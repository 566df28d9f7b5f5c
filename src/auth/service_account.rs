//! Workload identity of a service account other than the operator's own: its token is minted
//! with the Kubernetes TokenRequest API (audience `api://AzureADTokenExchange`) and exchanged
//! through `azure_identity`'s client-assertion credential.
//!
//! A fresh assertion is minted for every Entra token request (about once an hour), so an
//! assertion can never be used after it expired.

use super::entra::EntraTokenSource;
use super::{AuthEnvironment, AuthError, SecretString, TokenSource};
use async_trait::async_trait;
use azure_core::credentials::TokenCredential;
use azure_core::http::ClientMethodOptions;
use azure_identity::{
    ClientAssertion, ClientAssertionCredential, ClientAssertionCredentialOptions,
};
use k8s_openapi::api::authentication::v1::{TokenRequest, TokenRequestSpec};
use k8s_openapi::api::core::v1::ServiceAccount;
use kube::api::PostParams;
use kube::Api;
use std::fmt;
use std::sync::Arc;

pub(crate) const KIND: &str = "service-account";

/// Audience Entra expects on federated service account tokens.
pub const TOKEN_EXCHANGE_AUDIENCE: &str = "api://AzureADTokenExchange";
const CLIENT_ID_ANNOTATION: &str = "azure.workload.identity/client-id";
const TENANT_ID_ANNOTATION: &str = "azure.workload.identity/tenant-id";
/// The shortest lifetime the API server accepts; the assertion is used once, right away.
const ASSERTION_LIFETIME_SECONDS: i64 = 600;

/// Mints a service account token for a given audience (the Kubernetes TokenRequest API in
/// production; a fake in tests).
#[async_trait]
pub trait ServiceAccountTokenMinter: Send + Sync {
    async fn mint(
        &self,
        namespace: &str,
        name: &str,
        audience: &str,
        expiration_seconds: i64,
    ) -> Result<SecretString, AuthError>;
}

/// `POST /api/v1/namespaces/{ns}/serviceaccounts/{sa}/token`. Needs RBAC `create` on
/// `serviceaccounts/token` (narrow it with `resourceNames`).
#[derive(Clone)]
pub struct KubeTokenRequestMinter {
    client: kube::Client,
}

impl KubeTokenRequestMinter {
    pub fn new(client: kube::Client) -> Self {
        Self { client }
    }
}

/// The TokenRequest body.
pub(crate) fn token_request(audience: &str, expiration_seconds: i64) -> TokenRequest {
    TokenRequest {
        spec: TokenRequestSpec {
            audiences: vec![audience.to_string()],
            expiration_seconds: Some(expiration_seconds),
            bound_object_ref: None,
        },
        ..Default::default()
    }
}

#[async_trait]
impl ServiceAccountTokenMinter for KubeTokenRequestMinter {
    async fn mint(
        &self,
        namespace: &str,
        name: &str,
        audience: &str,
        expiration_seconds: i64,
    ) -> Result<SecretString, AuthError> {
        let api: Api<ServiceAccount> = Api::namespaced(self.client.clone(), namespace);
        let response = api
            .create_token_request(
                name,
                &PostParams::default(),
                &token_request(audience, expiration_seconds),
            )
            .await
            .map_err(|e| kube_error(namespace, name, &e))?;
        let token = response.status.map(|s| s.token).unwrap_or_default();
        if token.is_empty() {
            return Err(AuthError::ServiceAccountToken {
                namespace: namespace.to_string(),
                name: name.to_string(),
                message: "the TokenRequest response carried no token".to_string(),
                transient: true,
            });
        }
        Ok(SecretString::new(token))
    }
}

fn kube_error(namespace: &str, name: &str, err: &kube::Error) -> AuthError {
    let (message, transient) = match err {
        kube::Error::Api(status) => (
            format!("HTTP {}: {}", status.code, status.message),
            status.code == 429 || status.code >= 500,
        ),
        other => (other.to_string(), true),
    };
    AuthError::ServiceAccountToken {
        namespace: namespace.to_string(),
        name: name.to_string(),
        message: super::error::one_line(&message),
        transient,
    }
}

/// The client assertion: a freshly minted service account token.
struct ServiceAccountAssertion {
    namespace: String,
    name: String,
    minter: Arc<dyn ServiceAccountTokenMinter>,
}

impl fmt::Debug for ServiceAccountAssertion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServiceAccountAssertion")
            .field("namespace", &self.namespace)
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

#[async_trait]
impl ClientAssertion for ServiceAccountAssertion {
    async fn secret(&self, _: Option<ClientMethodOptions<'_>>) -> azure_core::Result<String> {
        self.minter
            .mint(
                &self.namespace,
                &self.name,
                TOKEN_EXCHANGE_AUDIENCE,
                ASSERTION_LIFETIME_SECONDS,
            )
            .await
            .map(|token| token.expose().to_owned())
            .map_err(|e| {
                let kind = if e.is_transient() {
                    azure_core::error::ErrorKind::Io
                } else {
                    azure_core::error::ErrorKind::Credential
                };
                azure_core::Error::with_message(kind, e.to_string())
            })
    }
}

/// A token source for a service account's workload identity with an explicit minter (the
/// organization controller goes through [`super::token_source`]; tests pass a fake minter).
pub fn service_account_token_source(
    namespace: String,
    name: String,
    client_id: String,
    tenant_id: String,
    minter: Arc<dyn ServiceAccountTokenMinter>,
    env: &AuthEnvironment,
) -> Result<Arc<dyn TokenSource>, AuthError> {
    let env = env.clone();
    let metrics = env.metrics.clone();
    let factory = move || -> Result<Arc<dyn TokenCredential>, AuthError> {
        let assertion = ServiceAccountAssertion {
            namespace: namespace.clone(),
            name: name.clone(),
            minter: minter.clone(),
        };
        let options = ClientAssertionCredentialOptions {
            client_options: env.client_options()?,
        };
        let credential = ClientAssertionCredential::new(
            tenant_id.clone(),
            client_id.clone(),
            assertion,
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

/// Client and tenant ids: the spec wins, then the service account's annotations, then (tenant
/// only) the operator's own `AZURE_TENANT_ID`.
pub(crate) async fn resolve_ids(
    kube: &kube::Client,
    namespace: &str,
    name: &str,
    client_id: Option<String>,
    tenant_id: Option<String>,
    env: &AuthEnvironment,
) -> Result<(String, String), AuthError> {
    if let (Some(client), Some(tenant)) = (&client_id, &tenant_id) {
        return Ok((client.clone(), tenant.clone()));
    }
    let api: Api<ServiceAccount> = Api::namespaced(kube.clone(), namespace);
    let account = api
        .get_opt(name)
        .await
        .map_err(|e| kube_error(namespace, name, &e))?
        .ok_or_else(|| {
            AuthError::Config(format!("service account {namespace}/{name} does not exist"))
        })?;
    let annotations = account.metadata.annotations.unwrap_or_default();
    ids_from(
        namespace,
        name,
        client_id,
        tenant_id,
        annotations.get(CLIENT_ID_ANNOTATION).cloned(),
        annotations.get(TENANT_ID_ANNOTATION).cloned(),
        env.operator_identity.tenant_id.clone(),
    )
}

fn ids_from(
    namespace: &str,
    name: &str,
    client_id: Option<String>,
    tenant_id: Option<String>,
    annotated_client: Option<String>,
    annotated_tenant: Option<String>,
    default_tenant: Option<String>,
) -> Result<(String, String), AuthError> {
    let non_empty = |v: Option<String>| v.filter(|s| !s.trim().is_empty());
    let client = non_empty(client_id)
        .or_else(|| non_empty(annotated_client))
        .ok_or_else(|| {
            AuthError::Config(format!(
                "no client id: set it in the spec or annotate service account {namespace}/{name} with {CLIENT_ID_ANNOTATION}"
            ))
        })?;
    let tenant = non_empty(tenant_id)
        .or_else(|| non_empty(annotated_tenant))
        .or_else(|| non_empty(default_tenant))
        .ok_or_else(|| {
            AuthError::Config(format!(
                "no tenant id: set it in the spec, annotate service account {namespace}/{name} with {TENANT_ID_ANNOTATION}, or set AZURE_TENANT_ID"
            ))
        })?;
    Ok((client, tenant))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    #[derive(Default)]
    struct RecordingMinter {
        calls: Mutex<Vec<(String, String, String, i64)>>,
    }

    #[async_trait]
    impl ServiceAccountTokenMinter for RecordingMinter {
        async fn mint(
            &self,
            namespace: &str,
            name: &str,
            audience: &str,
            expiration_seconds: i64,
        ) -> Result<SecretString, AuthError> {
            let mut calls = self.calls.lock().unwrap();
            calls.push((
                namespace.to_string(),
                name.to_string(),
                audience.to_string(),
                expiration_seconds,
            ));
            Ok(SecretString::new(format!("jwt-{}", calls.len())))
        }
    }

    #[tokio::test]
    async fn every_exchange_mints_a_fresh_assertion_for_the_exchange_audience() {
        let minter = Arc::new(RecordingMinter::default());
        let assertion = ServiceAccountAssertion {
            namespace: "team-a".into(),
            name: "azdo".into(),
            minter: minter.clone(),
        };
        assert_eq!(assertion.secret(None).await.unwrap(), "jwt-1");
        assert_eq!(assertion.secret(None).await.unwrap(), "jwt-2");
        let calls = minter.calls.lock().unwrap();
        assert_eq!(calls.len(), 2);
        for call in calls.iter() {
            assert_eq!(
                call,
                &(
                    "team-a".to_string(),
                    "azdo".to_string(),
                    "api://AzureADTokenExchange".to_string(),
                    600
                )
            );
        }
        assert!(!format!("{assertion:?}").contains("jwt-"));
    }

    #[tokio::test]
    async fn minting_failures_surface_as_credential_errors() {
        struct Refusing;
        #[async_trait]
        impl ServiceAccountTokenMinter for Refusing {
            async fn mint(
                &self,
                ns: &str,
                name: &str,
                _: &str,
                _: i64,
            ) -> Result<SecretString, AuthError> {
                Err(AuthError::ServiceAccountToken {
                    namespace: ns.into(),
                    name: name.into(),
                    message: "HTTP 403: forbidden".into(),
                    transient: false,
                })
            }
        }
        let assertion = ServiceAccountAssertion {
            namespace: "team-a".into(),
            name: "azdo".into(),
            minter: Arc::new(Refusing),
        };
        let err = assertion.secret(None).await.unwrap_err();
        assert!(matches!(
            err.kind(),
            azure_core::error::ErrorKind::Credential
        ));
        assert!(err.to_string().contains("team-a/azdo"), "{err}");
    }

    #[test]
    fn token_request_asks_for_the_exchange_audience_and_a_short_expiry() {
        let request = token_request(TOKEN_EXCHANGE_AUDIENCE, 600);
        let json = serde_json::to_value(&request).unwrap();
        assert_eq!(
            json["spec"]["audiences"],
            serde_json::json!(["api://AzureADTokenExchange"])
        );
        assert_eq!(json["spec"]["expirationSeconds"], 600);
    }

    #[test]
    fn ids_prefer_spec_then_annotations_then_operator_tenant() {
        let ids = |c: Option<&str>,
                   t: Option<&str>,
                   ac: Option<&str>,
                   at: Option<&str>,
                   dt: Option<&str>| {
            ids_from(
                "ns",
                "sa",
                c.map(String::from),
                t.map(String::from),
                ac.map(String::from),
                at.map(String::from),
                dt.map(String::from),
            )
        };
        assert_eq!(
            ids(Some("c"), Some("t"), Some("ac"), Some("at"), Some("dt")).unwrap(),
            ("c".to_string(), "t".to_string())
        );
        assert_eq!(
            ids(None, None, Some("ac"), Some("at"), Some("dt")).unwrap(),
            ("ac".to_string(), "at".to_string())
        );
        assert_eq!(
            ids(None, None, Some("ac"), None, Some("dt")).unwrap(),
            ("ac".to_string(), "dt".to_string())
        );
        assert!(matches!(
            ids(None, Some("t"), None, None, None),
            Err(AuthError::Config(_))
        ));
        assert!(matches!(
            ids(Some("c"), None, None, Some(" "), None),
            Err(AuthError::Config(_))
        ));
    }
}
