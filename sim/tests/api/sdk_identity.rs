//! The official Rust SDK's credentials (azure_identity 1.0) against the simulated Entra: client
//! secret, workload identity with a federated token file, and the App Service managed identity.

use std::sync::Arc;

use azdo_sim::seed::FederatedCredentialSeed;
use azdo_sim::{OidcIssuer, Seed, SimOptions, TokenSpec};
use azure_core::cloud::{CloudConfiguration, CustomConfiguration};
use azure_core::credentials::{Secret, TokenCredential};
use azure_core::http::{ClientOptions, Transport};
use azure_identity::{
    ClientAssertionCredentialOptions, ClientSecretCredential, ClientSecretCredentialOptions,
    ManagedIdentityCredential, ManagedIdentityCredentialOptions, UserAssignedId,
    WorkloadIdentityCredential, WorkloadIdentityCredentialOptions,
};

use crate::support::*;

fn client_options(h: &Harness) -> ClientOptions {
    let mut cloud = CustomConfiguration::default();
    cloud.authority_host = h.sim.login_url();
    ClientOptions {
        transport: Some(Transport::new(Arc::new(h.client.clone()))),
        cloud: Some(Arc::new(CloudConfiguration::Custom(cloud))),
        ..ClientOptions::default()
    }
}

async fn can_list_projects(h: &Harness, token: &str) -> bool {
    h.client
        .get(h.core("_apis/projects?api-version=7.1"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .status()
        == 200
}

#[tokio::test]
async fn client_secret_credential() {
    let h = Harness::start().await;
    let credential = ClientSecretCredential::new(
        TENANT,
        OPERATOR_CLIENT_ID.to_string(),
        Secret::new(OPERATOR_SECRET),
        Some(ClientSecretCredentialOptions {
            client_options: client_options(&h),
        }),
    )
    .unwrap();
    let token = credential.get_token(&[ADO_SCOPE], None).await.unwrap();
    assert!(can_list_projects(&h, token.token.secret()).await);

    let wrong = ClientSecretCredential::new(
        TENANT,
        OPERATOR_CLIENT_ID.to_string(),
        Secret::new("wrong"),
        Some(ClientSecretCredentialOptions {
            client_options: client_options(&h),
        }),
    )
    .unwrap();
    let error = wrong.get_token(&[ADO_SCOPE], None).await.unwrap_err();
    assert!(format!("{error:?}").contains("7000215"), "{error:?}");
}

#[tokio::test]
async fn workload_identity_credential_with_a_federated_token_file() {
    let issuer = OidcIssuer::start().await.unwrap();
    let mut seed = Seed::default_seed();
    seed.identities
        .iter_mut()
        .find(|i| i.name == OPERATOR)
        .unwrap()
        .federated_credentials
        .push(FederatedCredentialSeed {
            name: None,
            issuer: issuer.url().to_string(),
            subject: "system:serviceaccount:azdo-operator:azdo-operator".into(),
            audiences: vec!["api://AzureADTokenExchange".into()],
        });
    let h = Harness::with_seed(
        seed,
        SimOptions {
            trusted_issuers: vec![issuer.trusted_by_discovery()],
            issuer_ca_pem: Some(issuer.ca_pem().to_string()),
            ..SimOptions::default()
        },
    )
    .await;
    let dir = std::env::temp_dir().join(format!("azdo-sim-wi-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("token");
    let assertion = issuer
        .mint(&TokenSpec::service_account(
            "azdo-operator",
            "azdo-operator",
        ))
        .unwrap();
    std::fs::write(&file, assertion).unwrap();
    let credential = WorkloadIdentityCredential::new(Some(WorkloadIdentityCredentialOptions {
        credential_options: ClientAssertionCredentialOptions {
            client_options: client_options(&h),
        },
        client_id: Some(OPERATOR_CLIENT_ID.to_string()),
        tenant_id: Some(TENANT.to_string()),
        token_file_path: Some(file.clone()),
    }))
    .unwrap();
    let token = credential.get_token(&[ADO_SCOPE], None).await.unwrap();
    assert!(can_list_projects(&h, token.token.secret()).await);
    std::fs::remove_dir_all(&dir).ok();
    issuer.shutdown().await;
}

#[tokio::test]
async fn managed_identity_credential_in_app_service_mode() {
    let h = Harness::start().await;
    // The credential reads its endpoint from the environment; no other test uses these variables.
    std::env::set_var("IDENTITY_ENDPOINT", h.sim.managed_identity_endpoint());
    std::env::set_var(
        "IDENTITY_HEADER",
        SimOptions::default().managed_identity_secret,
    );
    let credential = ManagedIdentityCredential::new(Some(ManagedIdentityCredentialOptions {
        user_assigned_id: Some(UserAssignedId::ClientId(
            "9f8e7d6c-5b4a-4392-8180-7f6e5d4c3b2a".to_string(),
        )),
        client_options: client_options(&h),
    }))
    .unwrap();
    let token = credential.get_token(&[ADO_SCOPE], None).await.unwrap();
    assert!(can_list_projects(&h, token.token.secret()).await);
}
