//! The shared HTTP client factory.

use crate::support::Harness;
use azdo_operator::ado::{AdoError, HttpClients};

#[tokio::test]
async fn clients_are_shared_per_ca_bundle_and_bad_bundles_are_refused() {
    let h = Harness::start().await;
    let clients = HttpClients::new();
    let pem = h.sim.ca_pem();
    clients.get(Some(&pem)).unwrap();
    clients.get(Some(&format!("\n{pem}\n"))).unwrap();
    assert_eq!(clients.len(), 1);
    clients.get(None).unwrap();
    assert_eq!(clients.len(), 2);
    let garbage = clients.get(Some(
        "-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n",
    ));
    assert!(matches!(garbage, Err(AdoError::Config(_))), "{garbage:?}");
    let empty_bundle = clients.get(Some("no certificates here"));
    assert!(
        matches!(empty_bundle, Err(AdoError::Config(_))),
        "{empty_bundle:?}"
    );
    assert_eq!(clients.len(), 2);
}

#[tokio::test]
async fn without_the_simulator_ca_the_tls_handshake_fails() {
    let h = Harness::start().await;
    let trusting = HttpClients::new().get(Some(&h.sim.ca_pem())).unwrap();
    let plain = HttpClients::new().get(None).unwrap();
    let url = format!("{}/contoso/_apis/projects?api-version=7.1", h.sim.dev_url());
    // Any HTTP answer proves the handshake worked (the request itself is unauthenticated).
    assert!(trusting.get(&url).send().await.is_ok());
    let refused = plain.get(&url).send().await.unwrap_err();
    assert!(
        refused.is_connect() || refused.to_string().contains("certificate"),
        "{refused:?}"
    );
}
