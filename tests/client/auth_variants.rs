//! Every authentication variant against the simulator's Entra endpoint: token caching and
//! refresh, client secret, PAT, workload identity from a token file (JWT signed by a test key
//! the simulator trusts), the ServiceAccount assertion path, and managed identity.

use crate::support::{
    fast_limits, Harness, K8S_ISSUER, OPERATOR_CLIENT_ID, OPERATOR_SECRET, PLATFORM_MI_CLIENT_ID,
    TENANT_ID,
};
use async_trait::async_trait;
use azdo_operator::ado::{AdoError, HttpClients};
use azdo_operator::auth::{
    parse_authority, service_account_token_source, token_source, AuthConfig, AuthError,
    OperatorIdentity, SecretString, ServiceAccountTokenMinter,
};
use azdo_sim::{JwksSource, SimOptions, TrustedIssuer};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// An RSA key standing in for a cluster's service account issuer.
struct IssuerKey {
    encoding: EncodingKey,
    jwks: serde_json::Value,
    kid: String,
}

impl IssuerKey {
    fn generate(kid: &str) -> Self {
        let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_RSA_SHA256).expect("rsa key");
        let encoding = EncodingKey::from_rsa_der(&pkcs1_from_pkcs8(&key.serialize_der()));
        let mut jwk =
            jsonwebtoken::jwk::Jwk::from_encoding_key(&encoding, Algorithm::RS256).expect("jwk");
        jwk.common.key_id = Some(kid.to_string());
        jwk.common.public_key_use = Some(jsonwebtoken::jwk::PublicKeyUse::Signature);
        Self {
            encoding,
            jwks: serde_json::json!({"keys": [jwk]}),
            kid: kid.to_string(),
        }
    }

    /// A service account token as the API server would mint it.
    fn sign(&self, namespace: &str, name: &str, audience: &str, lifetime: Duration) -> String {
        let now = chrono::Utc::now().timestamp();
        let claims = serde_json::json!({
            "iss": K8S_ISSUER,
            "sub": format!("system:serviceaccount:{namespace}:{name}"),
            "aud": [audience],
            "iat": now,
            "nbf": now,
            "exp": now + lifetime.as_secs() as i64,
            "kubernetes.io": {"namespace": namespace, "serviceaccount": {"name": name, "uid": "7f1c5d2e-0000-4000-8000-000000000001"}}
        });
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some(self.kid.clone());
        jsonwebtoken::encode(&header, &claims, &self.encoding).expect("sign")
    }
}

/// The PKCS#1 `RSAPrivateKey` inside a PKCS#8 `PrivateKeyInfo` (its `privateKey` OCTET STRING).
fn pkcs1_from_pkcs8(der: &[u8]) -> Vec<u8> {
    /// (tag, content, rest) of the DER element at the start of `input`.
    fn element(input: &[u8]) -> (u8, &[u8], &[u8]) {
        let tag = input[0];
        let (length, header) = match input[1] {
            short if short < 0x80 => (short as usize, 2),
            long => {
                let count = (long & 0x7f) as usize;
                let length = input[2..2 + count]
                    .iter()
                    .fold(0usize, |acc, b| (acc << 8) | *b as usize);
                (length, 2 + count)
            }
        };
        (
            tag,
            &input[header..header + length],
            &input[header + length..],
        )
    }
    let (tag, info, _) = element(der);
    assert_eq!(tag, 0x30, "PrivateKeyInfo is a SEQUENCE");
    let (_, _, rest) = element(info); // version
    let (_, _, rest) = element(rest); // algorithm
    let (tag, key, _) = element(rest);
    assert_eq!(tag, 0x04, "privateKey is an OCTET STRING");
    key.to_vec()
}

async fn harness_trusting(key: &IssuerKey) -> Harness {
    Harness::with_options(SimOptions {
        trusted_issuers: vec![TrustedIssuer {
            issuer: K8S_ISSUER.to_string(),
            jwks: Some(JwksSource::Inline(key.jwks.clone())),
        }],
        ..SimOptions::default()
    })
    .await
}

#[tokio::test]
async fn client_secret_tokens_are_cached_across_calls() {
    let h = Harness::start().await;
    let client = h.client(
        h.secret(OPERATOR_CLIENT_ID, OPERATOR_SECRET).await,
        fast_limits(),
    );
    for project in ["Storefront", "Payments", "Platform", "Storefront"] {
        client.project(project).await.unwrap();
    }
    client.check_access().await.unwrap();
    assert_eq!(h.token_requests(), 1, "N calls, one token");
    assert_eq!(h.metrics.token_acquisitions("client-secret"), 1);
}

#[tokio::test]
async fn tokens_are_refreshed_before_they_expire() {
    let h = Harness::with_options(SimOptions {
        access_token_lifetime: Duration::from_secs(2),
        ..SimOptions::default()
    })
    .await;
    let client = h.client(
        h.secret(OPERATOR_CLIENT_ID, OPERATOR_SECRET).await,
        fast_limits(),
    );
    client.check_access().await.unwrap();
    client.check_access().await.unwrap();
    assert_eq!(h.token_requests(), 1);
    // Refreshed at half-life for short-lived tokens.
    tokio::time::sleep(Duration::from_millis(1200)).await;
    client.check_access().await.unwrap();
    assert_eq!(h.token_requests(), 2);
    // No request was rejected for an expired token.
    let unauthorized = h
        .sim
        .control()
        .requests()
        .requests
        .iter()
        .filter(|r| r.status == 401)
        .count();
    assert_eq!(unauthorized, 0);
}

#[tokio::test]
async fn invalidate_forces_a_new_token() {
    let h = Harness::start().await;
    let source = h.secret(OPERATOR_CLIENT_ID, OPERATOR_SECRET).await;
    let first = source.authorization_header().await.unwrap();
    assert!(first.starts_with("Bearer "));
    assert_eq!(source.authorization_header().await.unwrap(), first);
    source.invalidate();
    let second = source.authorization_header().await.unwrap();
    assert_eq!(h.token_requests(), 2);
    assert_eq!(source.kind(), "client-secret");
    let client = h.client(source, fast_limits());
    client.check_access().await.unwrap();
    assert!(second.starts_with("Bearer "));
}

#[tokio::test]
async fn a_wrong_client_secret_is_an_authentication_failure_without_any_azure_devops_call() {
    let h = Harness::start().await;
    let client = h.client(
        h.secret(OPERATOR_CLIENT_ID, "wrong-secret").await,
        fast_limits(),
    );
    let error = client.check_access().await.unwrap_err();
    match &error {
        AdoError::Auth(AuthError::Entra {
            status,
            transient,
            message,
        }) => {
            assert_eq!(*status, Some(401), "{message}");
            assert!(!transient);
            assert!(message.contains("AADSTS"), "{message}");
            assert!(!message.contains("wrong-secret"), "{message}");
        }
        other => panic!("unexpected {other:?}"),
    }
    assert_eq!(
        error.reason(),
        azdo_operator::reason::Reason::AuthenticationFailed
    );
    assert_eq!(h.count("GET", "/{org}/_apis/projects"), 0);
    assert_eq!(h.metrics.token_failures("client-secret"), 1);
}

#[tokio::test]
async fn an_entra_outage_is_a_transient_authentication_error() {
    let h = Harness::start().await;
    h.sim.control().set_faults(azdo_sim::Faults {
        token_outage: true,
        ..azdo_sim::Faults::default()
    });
    let client = h.client(
        h.secret(OPERATOR_CLIENT_ID, OPERATOR_SECRET).await,
        fast_limits(),
    );
    let error = client.check_access().await.unwrap_err();
    assert!(matches!(error, AdoError::Auth(_)), "{error:?}");
    assert!(error.is_transient(), "{error:?}");
}

#[tokio::test]
async fn pat_authentication_works_without_entra() {
    let h = Harness::start().await;
    let client = h.pat_client().await;
    client.check_access().await.unwrap();
    assert_eq!(h.token_requests(), 0);
}

#[tokio::test]
async fn workload_identity_exchanges_the_projected_token_file() {
    let key = IssuerKey::generate("test-key-1");
    let h = harness_trusting(&key).await;
    let dir = crate::support::temp_dir("wi");
    let token_file = dir.join("token");
    std::fs::write(
        &token_file,
        key.sign(
            "azdo-operator",
            "azdo-operator",
            "api://AzureADTokenExchange",
            Duration::from_secs(3600),
        ),
    )
    .unwrap();
    let mut env = h.auth_env();
    env.operator_identity = OperatorIdentity {
        client_id: Some(OPERATOR_CLIENT_ID.to_string()),
        tenant_id: Some(TENANT_ID.to_string()),
        federated_token_file: Some(token_file.clone()),
    };
    let source = token_source(
        AuthConfig::WorkloadIdentity {
            client_id: None,
            tenant_id: None,
        },
        &env,
    )
    .await
    .unwrap();
    assert_eq!(source.kind(), "workload-identity");
    let client = h.client(source, fast_limits());
    client.check_access().await.unwrap();
    client.project("Platform").await.unwrap();
    assert_eq!(h.token_requests(), 1);
    assert_eq!(h.metrics.token_acquisitions("workload-identity"), 1);
    std::fs::remove_dir_all(dir).ok();
}

#[tokio::test]
async fn workload_identity_with_a_foreign_key_or_subject_is_refused() {
    let trusted = IssuerKey::generate("trusted");
    let rogue = IssuerKey::generate("trusted"); // same kid, different key
    let h = harness_trusting(&trusted).await;
    let dir = crate::support::temp_dir("wi-bad");
    let cases = [
        (
            "wrong-key",
            rogue.sign(
                "azdo-operator",
                "azdo-operator",
                "api://AzureADTokenExchange",
                Duration::from_secs(600),
            ),
            "AADSTS50013",
        ),
        (
            "wrong-subject",
            trusted.sign(
                "default",
                "intruder",
                "api://AzureADTokenExchange",
                Duration::from_secs(600),
            ),
            "AADSTS70021",
        ),
        (
            "wrong-audience",
            trusted.sign(
                "azdo-operator",
                "azdo-operator",
                "api://Other",
                Duration::from_secs(600),
            ),
            "AADSTS70021",
        ),
    ];
    for (name, jwt, code) in cases {
        let token_file = dir.join(name);
        std::fs::write(&token_file, jwt).unwrap();
        let mut env = h.auth_env();
        env.operator_identity = OperatorIdentity {
            client_id: Some(OPERATOR_CLIENT_ID.to_string()),
            tenant_id: Some(TENANT_ID.to_string()),
            federated_token_file: Some(token_file),
        };
        let source = token_source(
            AuthConfig::WorkloadIdentity {
                client_id: None,
                tenant_id: None,
            },
            &env,
        )
        .await
        .unwrap();
        let error = h
            .client(source, fast_limits())
            .check_access()
            .await
            .unwrap_err();
        match &error {
            AdoError::Auth(AuthError::Entra {
                message, transient, ..
            }) => {
                assert!(message.contains(code), "{name}: {message}");
                assert!(!transient, "{name}");
            }
            other => panic!("{name}: unexpected {other:?}"),
        }
    }
    assert_eq!(h.count("GET", "/{org}/_apis/projects"), 0);
    std::fs::remove_dir_all(dir).ok();
}

#[tokio::test]
async fn workload_identity_without_a_token_file_is_a_configuration_error() {
    let h = Harness::start().await;
    let error = token_source(
        AuthConfig::WorkloadIdentity {
            client_id: Some(OPERATOR_CLIENT_ID.into()),
            tenant_id: Some(TENANT_ID.into()),
        },
        &h.auth_env(),
    )
    .await
    .err()
    .expect("no token file");
    assert!(matches!(error, AuthError::Config(_)), "{error:?}");
}

/// Stands in for the Kubernetes TokenRequest API: records each request and signs a token.
struct FakeTokenRequests {
    key: IssuerKey,
    requests: Mutex<Vec<(String, String, String, i64)>>,
}

#[async_trait]
impl ServiceAccountTokenMinter for FakeTokenRequests {
    async fn mint(
        &self,
        namespace: &str,
        name: &str,
        audience: &str,
        expiration_seconds: i64,
    ) -> Result<SecretString, AuthError> {
        self.requests.lock().unwrap().push((
            namespace.to_string(),
            name.to_string(),
            audience.to_string(),
            expiration_seconds,
        ));
        Ok(SecretString::new(self.key.sign(
            namespace,
            name,
            audience,
            Duration::from_secs(expiration_seconds as u64),
        )))
    }
}

#[tokio::test]
async fn service_account_assertions_are_minted_per_exchange_and_verified() {
    let minter = Arc::new(FakeTokenRequests {
        key: IssuerKey::generate("sa-key"),
        requests: Mutex::new(Vec::new()),
    });
    let h = harness_trusting(&minter.key).await;
    let source = service_account_token_source(
        "azdo-operator".into(),
        "azdo-operator".into(),
        OPERATOR_CLIENT_ID.into(),
        TENANT_ID.into(),
        minter.clone(),
        &h.auth_env(),
    )
    .unwrap();
    assert_eq!(source.kind(), "service-account");
    let client = h.client(source.clone(), fast_limits());
    client.check_access().await.unwrap();
    client.project("Storefront").await.unwrap();
    assert_eq!(
        minter.requests.lock().unwrap().len(),
        1,
        "one assertion per token"
    );
    source.invalidate();
    client.check_access().await.unwrap();
    let requests = minter.requests.lock().unwrap().clone();
    assert_eq!(requests.len(), 2, "a fresh assertion for the new token");
    for request in requests {
        assert_eq!(
            request,
            (
                "azdo-operator".into(),
                "azdo-operator".into(),
                "api://AzureADTokenExchange".into(),
                600
            )
        );
    }
    assert_eq!(h.token_requests(), 2);

    // Another service account has no federated credential on that app registration.
    let other = service_account_token_source(
        "team-a".into(),
        "builder".into(),
        OPERATOR_CLIENT_ID.into(),
        TENANT_ID.into(),
        minter.clone(),
        &h.auth_env(),
    )
    .unwrap();
    let error = h
        .client(other, fast_limits())
        .check_access()
        .await
        .unwrap_err();
    assert!(error.to_string().contains("AADSTS70021"), "{error}");
}

#[tokio::test]
async fn managed_identity_uses_the_identity_endpoint() {
    let h = Harness::start().await;
    // azure_identity picks its managed identity source from the process environment; only this
    // test in this binary sets these variables.
    std::env::set_var("IDENTITY_ENDPOINT", h.sim.managed_identity_endpoint());
    std::env::set_var("IDENTITY_HEADER", "azdo-sim-identity-header");
    let source = token_source(
        AuthConfig::ManagedIdentity {
            client_id: Some(PLATFORM_MI_CLIENT_ID.into()),
        },
        &h.auth_env(),
    )
    .await
    .unwrap();
    assert_eq!(source.kind(), "managed-identity");
    let client = h.client(source, fast_limits());
    client.project("Platform").await.unwrap();
    client.project("Platform").await.unwrap();
    assert_eq!(h.count("GET", "/msi/token"), 1);
    // The identity may only see the Platform project.
    let error = client.project_scope_descriptor("Payments").await;
    assert!(error.is_err());
}

#[tokio::test]
async fn an_http_authority_is_refused() {
    let error = parse_authority("http://127.0.0.1:1").unwrap_err();
    assert!(matches!(error, AuthError::Config(_)));
    let h = Harness::start().await;
    let mut env = h.auth_env();
    env.authority_host = reqwest::Url::parse("http://127.0.0.1:1").unwrap();
    let error = token_source(
        AuthConfig::ClientSecret {
            tenant_id: TENANT_ID.into(),
            client_id: OPERATOR_CLIENT_ID.into(),
            secret: SecretString::new(OPERATOR_SECRET),
        },
        &env,
    )
    .await
    .err()
    .expect("refused");
    assert!(error.to_string().contains("https"), "{error}");
}

#[tokio::test]
async fn the_extra_ca_is_what_lets_entra_calls_through() {
    let h = Harness::start().await;
    let mut env = h.auth_env();
    env.http = HttpClients::new().get(None).unwrap(); // system roots only
    let source = token_source(
        AuthConfig::ClientSecret {
            tenant_id: TENANT_ID.into(),
            client_id: OPERATOR_CLIENT_ID.into(),
            secret: SecretString::new(OPERATOR_SECRET),
        },
        &env,
    )
    .await
    .unwrap();
    let error = source.authorization_header().await.unwrap_err();
    assert!(
        matches!(error, AuthError::Entra { status: None, .. }),
        "{error:?}"
    );
    assert_eq!(h.token_requests(), 0, "TLS was refused before any request");
}

/// Entra's codes for a federated credential that matches nothing (`AADSTS700213`) and for
/// federation disabled in the tenant (`AADSTS700223`) become precise reasons, without a retry
/// (nothing reaches Azure DevOps, one token request each).
#[tokio::test]
async fn federated_credential_errors_end_in_precise_reasons() {
    use azdo_operator::reason::Reason;
    let trusted = IssuerKey::generate("trusted");
    let h = harness_trusting(&trusted).await;
    let dir = crate::support::temp_dir("wi-codes");
    let check = |subject: &str, file: &str| {
        let token_file = dir.join(file);
        std::fs::write(
            &token_file,
            trusted.sign(
                "azdo-operator",
                subject,
                "api://AzureADTokenExchange",
                Duration::from_secs(600),
            ),
        )
        .unwrap();
        let mut env = h.auth_env();
        env.operator_identity = OperatorIdentity {
            client_id: Some(OPERATOR_CLIENT_ID.to_string()),
            tenant_id: Some(TENANT_ID.to_string()),
            federated_token_file: Some(token_file),
        };
        env
    };
    let workload = AuthConfig::WorkloadIdentity {
        client_id: None,
        tenant_id: None,
    };
    h.sim.control().set_behaviours(azdo_sim::Behaviours {
        federated_mismatch_code: azdo_sim::FederatedMismatchCode::Aadsts700213,
        ..azdo_sim::Behaviours::default()
    });
    let env = check("intruder", "mismatch");
    let source = token_source(workload.clone(), &env).await.unwrap();
    let error = h
        .client(source, fast_limits())
        .check_access()
        .await
        .unwrap_err();
    assert!(error.to_string().contains("AADSTS700213"), "{error}");
    assert_eq!(error.reason(), Reason::FederatedCredentialMismatch);
    assert!(!error.is_transient());

    h.sim.control().set_behaviours(azdo_sim::Behaviours {
        federation_disabled: true,
        ..azdo_sim::Behaviours::default()
    });
    let env = check("azdo-operator", "disabled");
    let source = token_source(workload, &env).await.unwrap();
    let error = h
        .client(source, fast_limits())
        .check_access()
        .await
        .unwrap_err();
    assert!(error.to_string().contains("AADSTS700223"), "{error}");
    assert_eq!(error.reason(), Reason::FederationDisabled);
    assert!(!error.is_transient());
    assert_eq!(h.count("GET", "/{org}/_apis/projects"), 0);
    assert_eq!(
        h.token_requests(),
        2,
        "one token request per failure, no retry"
    );
    std::fs::remove_dir_all(dir).ok();
}
