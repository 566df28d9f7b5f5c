//! Per-namespace workload identity end to end: a token the real apiserver mints through the
//! TokenRequest API for `<namespace>/azdo` is accepted by the simulator's Entra endpoint for the
//! identity federated with that ServiceAccount, and refused for any other identity.

use std::time::Duration;

use crate::operator_env::{OperatorEnv, TestResult, OPERATOR_CLIENT_ID, TEAM_CLIENT_ID};
use crate::support;

async fn exchange(
    env: &OperatorEnv,
    client_id: &str,
    assertion: &str,
) -> TestResult<(u16, serde_json::Value)> {
    let http = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(env.sim.ca_pem().as_bytes())?)
        .timeout(Duration::from_secs(20))
        .build()?;
    let url = format!(
        "{}/{}/oauth2/v2.0/token",
        env.sim.login_url(),
        env.tenant_id
    );
    let response = http
        .post(url)
        .form(&[
            ("client_id", client_id),
            ("client_assertion", assertion),
            (
                "client_assertion_type",
                "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            ),
            ("grant_type", "client_credentials"),
            ("scope", "499b84ac-1321-427f-aa17-267ca6975798/.default"),
        ])
        .send()
        .await?;
    let status = response.status().as_u16();
    Ok((status, response.json().await?))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_namespace_token_is_accepted_for_its_identity_and_refused_for_another() -> TestResult {
    let env = OperatorEnv::start("wi").await?;
    env.create_team_service_account().await?;
    let token = env
        .cp
        .service_account_token(
            &env.namespace,
            "azdo",
            &[support::AZURE_TOKEN_EXCHANGE_AUDIENCE],
        )
        .await?;
    let (status, body) = exchange(&env, TEAM_CLIENT_ID, &token).await?;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["token_type"], "Bearer");
    assert!(body["access_token"].as_str().is_some_and(|t| !t.is_empty()));
    let (status, body) = exchange(&env, OPERATOR_CLIENT_ID, &token).await?;
    assert_eq!(status, 400, "{body}");
    assert!(
        body["error_description"]
            .as_str()
            .unwrap_or("")
            .contains("AADSTS70021"),
        "{body}"
    );
    // A token for the wrong audience is refused too.
    let wrong_audience = env
        .cp
        .service_account_token(&env.namespace, "azdo", &["api://not-entra"])
        .await?;
    let (status, body) = exchange(&env, TEAM_CLIENT_ID, &wrong_audience).await?;
    assert_eq!(status, 400, "{body}");
    Ok(())
}
