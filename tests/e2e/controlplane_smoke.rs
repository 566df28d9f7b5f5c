//! Proves the harness' control plane is the real thing: pinned versions, storage, CRDs,
//! service-account tokens verifiable by an outside party, RBAC, and namespace deletion.

use crate::support::{self, binaries, AZURE_TOKEN_EXCHANGE_AUDIENCE};
use crate::TestResult;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use k8s_openapi::api::authentication::v1::SelfSubjectReview;
use k8s_openapi::api::core::v1::{ConfigMap, Namespace, Secret};
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{Api, DeleteParams, DynamicObject, ListParams, Patch, PatchParams, PostParams};
use kube::core::{ApiResource, GroupVersionKind};
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::process::Output;
use std::time::{Duration, Instant};

fn stdout_of(output: Output, what: &str) -> Result<String, String> {
    if output.status.success() {
        Ok(String::from_utf8_lossy(&output.stdout).trim().to_string())
    } else {
        Err(format!(
            "{what} failed with {}: {}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        ))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apiserver_reports_the_pinned_kubernetes_version() -> TestResult {
    let cp = support::shared().await?;
    let pinned = binaries::pinned_kubernetes_version()?;
    let info = cp.client().await?.apiserver_version().await?;
    assert_eq!(info.git_version, pinned);
    let minor = pinned.split('.').nth(1).ok_or("malformed pinned version")?;
    assert_eq!((info.major.as_str(), info.minor.as_str()), ("1", minor));
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_and_helm_are_pinned_and_reach_the_cluster() -> TestResult {
    let cp = support::shared().await?;
    let namespace = cp.new_namespace("tools").await?;

    let client_version = stdout_of(
        cp.kubectl()
            .args(["version", "--client", "-o", "json"])
            .output()?,
        "kubectl version",
    )?;
    let client_version: Value = serde_json::from_str(&client_version)?;
    assert_eq!(
        client_version["clientVersion"]["gitVersion"],
        json!(binaries::pinned_kubernetes_version()?)
    );
    let listed = stdout_of(
        cp.kubectl()
            .args(["get", "namespace", &namespace, "-o", "name"])
            .output()?,
        "kubectl get namespace",
    )?;
    assert_eq!(listed, format!("namespace/{namespace}"));

    let helm_version = stdout_of(
        cp.helm()
            .args(["version", "--template", "{{.Version}}"])
            .output()?,
        "helm version",
    )?;
    assert_eq!(helm_version, binaries::pinned_helm_version()?);
    let releases = stdout_of(
        cp.helm()
            .args(["list", "--namespace", &namespace, "--output", "json"])
            .output()?,
        "helm list",
    )?;
    assert_eq!(serde_json::from_str::<Value>(&releases)?, json!([]));
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn config_map_round_trips_through_etcd() -> TestResult {
    let cp = support::shared().await?;
    let namespace = cp.new_namespace("configmap").await?;
    let config_maps: Api<ConfigMap> = Api::namespaced(cp.client().await?, &namespace);
    let created: ConfigMap = serde_json::from_value(json!({
        "metadata": { "name": "round-trip" },
        "data": { "greeting": "hello", "unicode": "grüße ✓" },
    }))?;
    config_maps.create(&PostParams::default(), &created).await?;

    let patch = json!({ "data": { "greeting": "goodbye" } });
    config_maps
        .patch("round-trip", &PatchParams::default(), &Patch::Merge(&patch))
        .await?;
    let read = config_maps.get("round-trip").await?;
    let data = read.data.ok_or("the ConfigMap lost its data")?;
    assert_eq!(data.get("greeting").map(String::as_str), Some("goodbye"));
    assert_eq!(data.get("unicode").map(String::as_str), Some("grüße ✓"));

    config_maps
        .delete("round-trip", &DeleteParams::default())
        .await?;
    assert!(config_maps.get_opt("round-trip").await?.is_none());
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crds_install_and_serve_custom_resources() -> TestResult {
    let cp = support::shared().await?;
    let client = cp.client().await?;

    // A CRD of the test's own, so the installer is proven even while crds/ is still empty.
    let fixture_dir = cp.work_dir().join("fixture-crds");
    std::fs::create_dir_all(&fixture_dir)?;
    std::fs::write(fixture_dir.join("widgets.yaml"), WIDGET_CRD)?;
    let installed = cp.install_crds(&fixture_dir).await?;
    assert_eq!(installed, vec!["widgets.e2e.azdo.test".to_string()]);

    let namespace = cp.new_namespace("crd").await?;
    let gvk = GroupVersionKind::gvk("e2e.azdo.test", "v1", "Widget");
    let widgets: Api<DynamicObject> =
        Api::namespaced_with(client.clone(), &namespace, &ApiResource::from_gvk(&gvk));
    let widget: DynamicObject = serde_json::from_value(json!({
        "apiVersion": "e2e.azdo.test/v1",
        "kind": "Widget",
        "metadata": { "name": "w1" },
        "spec": { "size": 3 },
    }))?;
    widgets.create(&PostParams::default(), &widget).await?;
    let bad: DynamicObject = serde_json::from_value(json!({
        "apiVersion": "e2e.azdo.test/v1",
        "kind": "Widget",
        "metadata": { "name": "w2" },
        "spec": { "size": 0 },
    }))?;
    let rejected = widgets.create(&PostParams::default(), &bad).await;
    assert!(
        matches!(&rejected, Err(kube::Error::Api(status)) if status.code == 422),
        "the schema minimum must reject size 0, got {rejected:?}"
    );

    // The operator's CRDs, once crds/ has them.
    let repo_crds = binaries::repo_root().join("crds");
    let expected = support::manifests::manifest_files(&repo_crds)?
        .iter()
        .map(|file| support::manifests::read_manifest(file))
        .collect::<Result<Vec<_>, _>>()?
        .into_iter()
        .flatten()
        .filter(|o| {
            o.types
                .as_ref()
                .is_some_and(|t| t.kind == "CustomResourceDefinition")
        })
        .count();
    let installed = cp.install_crds(&repo_crds).await?;
    assert_eq!(installed.len(), expected);
    let crds: Api<CustomResourceDefinition> = Api::all(client);
    for name in installed {
        let crd = crds.get(&name).await?;
        let established = crd
            .status
            .and_then(|s| s.conditions)
            .unwrap_or_default()
            .into_iter()
            .any(|c| c.type_ == "Established" && c.status == "True");
        assert!(established, "CRD {name} is not Established");
    }
    Ok(())
}

const WIDGET_CRD: &str = r#"
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.e2e.azdo.test
spec:
  group: e2e.azdo.test
  scope: Namespaced
  names: { plural: widgets, singular: widget, kind: Widget }
  versions:
    - name: v1
      served: true
      storage: true
      schema:
        openAPIV3Schema:
          type: object
          properties:
            spec:
              type: object
              required: [size]
              properties:
                size: { type: integer, minimum: 1 }
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn service_account_token_verifies_against_the_anonymous_jwks() -> TestResult {
    let cp = support::shared().await?;
    let namespace = cp.new_namespace("token").await?;
    cp.create_service_account(&namespace, "azdo").await?;
    let token = cp
        .service_account_token(&namespace, "azdo", &[AZURE_TOKEN_EXCHANGE_AUDIENCE])
        .await?;

    // What an external verifier (Entra, the simulator) does: discovery, then JWKS, over TLS
    // trusting only the cluster CA, without credentials.
    let anonymous = cp.https_client(None)?;
    let discovery: Value = anonymous
        .get(format!("{}/.well-known/openid-configuration", cp.issuer()))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    assert_eq!(discovery["issuer"], json!(cp.issuer()));
    let jwks_uri = discovery["jwks_uri"]
        .as_str()
        .ok_or("discovery has no jwks_uri")?;
    assert_eq!(jwks_uri, format!("{}/openid/v1/jwks", cp.issuer()));
    let jwks: JwkSet = anonymous
        .get(jwks_uri)
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;

    let header = jsonwebtoken::decode_header(&token)?;
    assert_eq!(header.alg, Algorithm::RS256);
    let kid = header.kid.ok_or("the token has no kid")?;
    let jwk = jwks.find(&kid).ok_or("the JWKS lacks the token's kid")?;
    let key = DecodingKey::from_jwk(jwk)?;
    let mut validation = Validation::new(Algorithm::RS256);
    validation.set_audience(&[AZURE_TOKEN_EXCHANGE_AUDIENCE]);
    validation.set_issuer(&[cp.issuer()]);
    let claims = jsonwebtoken::decode::<Value>(&token, &key, &validation)?.claims;
    assert_eq!(claims["iss"], json!(cp.issuer()));
    assert_eq!(claims["aud"], json!([AZURE_TOKEN_EXCHANGE_AUDIENCE]));
    assert_eq!(
        claims["sub"],
        json!(format!("system:serviceaccount:{namespace}:azdo"))
    );

    // The same checks refuse a token minted for another audience or tampered with.
    let other_audience = cp
        .service_account_token(&namespace, "azdo", &["api://some-other-audience"])
        .await?;
    assert!(jsonwebtoken::decode::<Value>(&other_audience, &key, &validation).is_err());
    let tampered = tamper_with_signature(&token)?;
    assert!(jsonwebtoken::decode::<Value>(&tampered, &key, &validation).is_err());

    // Anonymous access stops at the discovery endpoints.
    let namespaces = anonymous
        .get(format!("{}/api/v1/namespaces", cp.server_url()))
        .send()
        .await?;
    assert_eq!(namespaces.status(), StatusCode::FORBIDDEN);
    Ok(())
}

/// The token with one character in the middle of its signature changed.
fn tamper_with_signature(token: &str) -> Result<String, &'static str> {
    let signature_start = token.rfind('.').ok_or("not a JWT")? + 1;
    let position = signature_start + (token.len() - signature_start) / 2;
    let mut bytes = token.as_bytes().to_vec();
    bytes[position] = if bytes[position] == b'A' { b'B' } else { b'A' };
    String::from_utf8(bytes).map_err(|_| "not ASCII")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn service_account_without_rbac_is_refused_secrets() -> TestResult {
    let cp = support::shared().await?;
    let namespace = cp.new_namespace("rbac").await?;
    cp.create_service_account(&namespace, "nobody").await?;
    let token = cp.service_account_token(&namespace, "nobody", &[]).await?;
    let kubeconfig = cp.work_dir().join(format!("{namespace}-nobody.kubeconfig"));
    cp.kubeconfig_for_token(&token, &kubeconfig)?;
    let client = support::kubeconfig::client_from_kubeconfig(&kubeconfig).await?;

    // Authenticated as the service account...
    let review = Api::<SelfSubjectReview>::all(client.clone())
        .create(&PostParams::default(), &SelfSubjectReview::default())
        .await?;
    let username = review
        .status
        .and_then(|s| s.user_info)
        .and_then(|u| u.username);
    assert_eq!(
        username,
        Some(format!("system:serviceaccount:{namespace}:nobody"))
    );
    // ...and refused by RBAC.
    let listed = Api::<Secret>::namespaced(client, &namespace)
        .list(&ListParams::default())
        .await;
    assert!(
        matches!(&listed, Err(kube::Error::Api(status)) if status.code == 403),
        "expected 403 Forbidden, got {listed:?}"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleted_namespace_is_finalized_by_the_controller_manager() -> TestResult {
    let cp = support::shared().await?;
    let namespace = cp.new_namespace("delete").await?;
    let client = cp.client().await?;
    let config_map: ConfigMap =
        serde_json::from_value(json!({ "metadata": { "name": "doomed" } }))?;
    Api::<ConfigMap>::namespaced(client.clone(), &namespace)
        .create(&PostParams::default(), &config_map)
        .await?;

    let namespaces: Api<Namespace> = Api::all(client);
    namespaces
        .delete(&namespace, &DeleteParams::default())
        .await?;
    let deadline = Instant::now() + Duration::from_secs(60);
    while namespaces.get_opt(&namespace).await?.is_some() {
        assert!(
            cp.controller_manager_running(),
            "kube-controller-manager died:\n{}",
            cp.log_tails(20)
        );
        assert!(
            Instant::now() < deadline,
            "namespace {namespace} still exists after 60s"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    Ok(())
}
