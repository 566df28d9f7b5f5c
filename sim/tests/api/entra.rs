//! The Entra token endpoint: client secrets, federated client assertions verified against the
//! issuer's keys (discovery, inline, file), error codes, and the managed identity endpoint.

use azdo_sim::seed::FederatedCredentialSeed;
use azdo_sim::{Faults, JwksSource, OidcIssuer, Seed, SimOptions, TokenSpec, TrustedIssuer};
use serde_json::Value;

use crate::support::*;

const SA_NAMESPACE: &str = "azdo-operator";
const SA_NAME: &str = "azdo-operator";
const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

async fn request_token(h: &Harness, form: &[(&str, &str)]) -> (u16, Value) {
    let response = h
        .client
        .post(h.token_url())
        .form(form)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

fn secret_form<'a>(client_id: &'a str, secret: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("grant_type", "client_credentials"),
        ("client_id", client_id),
        ("client_secret", secret),
        ("scope", ADO_SCOPE),
    ]
}

fn assert_entra_error(body: &Value, error: &str, code: u64) {
    assert_eq!(body["error"], error, "{body}");
    assert_eq!(body["error_codes"][0], code, "{body}");
    let description = body["error_description"].as_str().unwrap();
    assert!(
        description.starts_with(&format!("AADSTS{code}: ")),
        "{description}"
    );
    assert!(description.contains("Trace ID: ") && description.contains("Correlation ID: "));
    for field in ["timestamp", "trace_id", "correlation_id"] {
        assert!(body[field].is_string(), "{field}");
    }
}

#[tokio::test]
async fn client_secret_issues_a_token_that_azure_devops_accepts() {
    let h = Harness::start().await;
    let (status, body) = request_token(&h, &secret_form(OPERATOR_CLIENT_ID, OPERATOR_SECRET)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 3599);
    assert_eq!(body["ext_expires_in"], 3599);
    let token = body["access_token"].as_str().unwrap();
    let response = h
        .client
        .get(h.graph("groups"))
        .bearer_auth(token)
        .query(&[("api-version", PREVIEW)])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn client_secret_errors() {
    let h = Harness::start().await;
    let (status, body) = request_token(&h, &secret_form(OPERATOR_CLIENT_ID, "wrong")).await;
    assert_eq!(status, 401);
    assert_entra_error(&body, "invalid_client", 7000215);

    let (status, body) = request_token(
        &h,
        &secret_form("11111111-2222-4333-8444-555555555555", "x"),
    )
    .await;
    assert_eq!(status, 400);
    assert_entra_error(&body, "unauthorized_client", 700016);

    let mut form = secret_form(OPERATOR_CLIENT_ID, OPERATOR_SECRET);
    form[3] = ("scope", "499b84ac-1321-427f-aa17-267ca6975798");
    let (status, body) = request_token(&h, &form).await;
    assert_eq!(status, 400);
    assert_entra_error(&body, "invalid_scope", 1002012);

    form[3] = ("scope", "https://graph.microsoft.com/.default");
    let (status, body) = request_token(&h, &form).await;
    assert_eq!(status, 400);
    assert_entra_error(&body, "invalid_resource", 500011);

    let response = h
        .client
        .post(format!(
            "{}/not-our-tenant/oauth2/v2.0/token",
            h.sim.login_url()
        ))
        .form(&secret_form(OPERATOR_CLIENT_ID, OPERATOR_SECRET))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    assert_entra_error(&response.json().await.unwrap(), "invalid_request", 90002);
}

/// The default seed with the operator's federated credential pointing at `issuer`.
fn seed_trusting(issuer: &OidcIssuer) -> Seed {
    let mut seed = Seed::default_seed();
    let operator = seed
        .identities
        .iter_mut()
        .find(|i| i.name == OPERATOR)
        .unwrap();
    operator
        .federated_credentials
        .push(FederatedCredentialSeed {
            name: Some("test-cluster".into()),
            issuer: issuer.url().to_string(),
            subject: format!("system:serviceaccount:{SA_NAMESPACE}:{SA_NAME}"),
            audiences: vec!["api://AzureADTokenExchange".into()],
        });
    seed
}

async fn federated(h: &Harness, assertion: &str) -> (u16, Value) {
    request_token(
        h,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", OPERATOR_CLIENT_ID),
            ("client_assertion_type", ASSERTION_TYPE),
            ("client_assertion", assertion),
            ("scope", ADO_SCOPE),
        ],
    )
    .await
}

#[tokio::test]
async fn federated_assertions_are_verified_through_oidc_discovery() {
    let issuer = OidcIssuer::start().await.unwrap();
    let h = Harness::with_seed(
        seed_trusting(&issuer),
        SimOptions {
            trusted_issuers: vec![issuer.trusted_by_discovery()],
            issuer_ca_pem: Some(issuer.ca_pem().to_string()),
            ..SimOptions::default()
        },
    )
    .await;
    let good = issuer
        .mint(&TokenSpec::service_account(SA_NAMESPACE, SA_NAME))
        .unwrap();
    let (status, body) = federated(&h, &good).await;
    assert_eq!(status, 200, "{body}");
    let token = body["access_token"].as_str().unwrap();
    let response = h
        .client
        .get(h.core("_apis/projects?api-version=7.1"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);

    let mut wrong_subject = TokenSpec::service_account(SA_NAMESPACE, "someone-else");
    let (status, body) = federated(&h, &issuer.mint(&wrong_subject).unwrap()).await;
    assert_eq!(status, 400);
    assert_entra_error(&body, "invalid_request", 70021);
    assert!(body["error_description"]
        .as_str()
        .unwrap()
        .contains("system:serviceaccount:azdo-operator:someone-else"));

    wrong_subject = TokenSpec::service_account(SA_NAMESPACE, SA_NAME);
    wrong_subject.audience = "api://something-else".into();
    let (status, body) = federated(&h, &issuer.mint(&wrong_subject).unwrap()).await;
    assert_eq!(status, 400);
    assert_entra_error(&body, "invalid_request", 70021);

    let mut wrong_issuer = TokenSpec::service_account(SA_NAMESPACE, SA_NAME);
    wrong_issuer.issuer = Some("https://kubernetes.default.svc".into());
    let (status, body) = federated(&h, &issuer.mint(&wrong_issuer).unwrap()).await;
    assert_eq!(status, 400);
    assert_entra_error(&body, "invalid_request", 70021);

    let forged = issuer
        .mint_with_foreign_key(&TokenSpec::service_account(SA_NAMESPACE, SA_NAME))
        .unwrap();
    let (status, body) = federated(&h, &forged).await;
    assert_eq!(status, 401);
    assert_entra_error(&body, "invalid_client", 50013);

    let mut expired = TokenSpec::service_account(SA_NAMESPACE, SA_NAME);
    expired.expires_in = -120;
    let (status, body) = federated(&h, &issuer.mint(&expired).unwrap()).await;
    assert_eq!(status, 401);
    assert_entra_error(&body, "invalid_client", 700024);

    let (status, body) = federated(&h, "not.a.jwt").await;
    assert_eq!(status, 400);
    assert_entra_error(&body, "invalid_request", 50027);
    issuer.shutdown().await;
}

#[tokio::test]
async fn federated_keys_can_come_inline_or_from_a_file() {
    let issuer = OidcIssuer::start().await.unwrap();
    let spec = TokenSpec::service_account(SA_NAMESPACE, SA_NAME);
    let inline = Harness::with_seed(
        seed_trusting(&issuer),
        SimOptions {
            trusted_issuers: vec![issuer.trusted_inline()],
            ..SimOptions::default()
        },
    )
    .await;
    let (status, body) = federated(&inline, &issuer.mint(&spec).unwrap()).await;
    assert_eq!(status, 200, "{body}");

    let dir = std::env::temp_dir().join(format!("azdo-sim-jwks-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("jwks.json");
    std::fs::write(&file, issuer.jwks().to_string()).unwrap();
    let from_file = Harness::with_seed(
        seed_trusting(&issuer),
        SimOptions {
            trusted_issuers: vec![TrustedIssuer {
                issuer: issuer.url().to_string(),
                jwks: Some(JwksSource::File(file.to_string_lossy().into_owned())),
            }],
            ..SimOptions::default()
        },
    )
    .await;
    let (status, body) = federated(&from_file, &issuer.mint(&spec).unwrap()).await;
    assert_eq!(status, 200, "{body}");
    std::fs::remove_dir_all(&dir).ok();

    // Without trust in the issuer's CA, discovery fails: Entra reports the OIDC endpoint.
    let untrusted = Harness::with_seed(
        seed_trusting(&issuer),
        SimOptions {
            trusted_issuers: vec![issuer.trusted_by_discovery()],
            ..SimOptions::default()
        },
    )
    .await;
    let (status, body) = federated(&untrusted, &issuer.mint(&spec).unwrap()).await;
    assert_eq!(status, 400);
    assert_entra_error(&body, "invalid_request", 50166);
    issuer.shutdown().await;
}

#[tokio::test]
async fn managed_identity_endpoint_in_app_service_style() {
    let h = Harness::start().await;
    let options = SimOptions::default();
    let response = h
        .client
        .get(h.sim.managed_identity_endpoint())
        .header(
            "X-IDENTITY-HEADER",
            options.managed_identity_secret.as_str(),
        )
        .query(&[
            ("api-version", "2019-08-01"),
            ("resource", "499b84ac-1321-427f-aa17-267ca6975798"),
        ])
        .send()
        .await
        .unwrap();
    let body = json(response, 200).await;
    assert!(
        body["expires_on"].as_str().unwrap().parse::<i64>().is_ok(),
        "expires_on is a string epoch"
    );
    let token = body["access_token"].as_str().unwrap();
    let platform = h
        .client
        .get(h.core("Platform/_apis/build/definitions?api-version=7.1"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(platform.status(), 200);
    let storefront = h
        .client
        .get(h.core("Storefront/_apis/build/definitions?api-version=7.1"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(storefront.status(), 403);

    let no_secret = h
        .client
        .get(h.sim.managed_identity_endpoint())
        .query(&[
            ("api-version", "2019-08-01"),
            ("resource", "499b84ac-1321-427f-aa17-267ca6975798"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(no_secret.status(), 401);
    let unknown = h
        .client
        .get(h.sim.managed_identity_endpoint())
        .header(
            "X-IDENTITY-HEADER",
            options.managed_identity_secret.as_str(),
        )
        .query(&[
            ("api-version", "2019-08-01"),
            ("resource", "499b84ac-1321-427f-aa17-267ca6975798"),
            ("client_id", OPERATOR_CLIENT_ID),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 400);
}

#[tokio::test]
async fn token_outage_answers_503() {
    let h = Harness::with(SimOptions {
        faults: Faults {
            token_outage: true,
            ..Faults::default()
        },
        ..SimOptions::default()
    })
    .await;
    let (status, body) = request_token(&h, &secret_form(OPERATOR_CLIENT_ID, OPERATOR_SECRET)).await;
    assert_eq!(status, 503);
    assert_eq!(body["error"], "temporarily_unavailable");
}
