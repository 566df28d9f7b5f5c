//! `helm install`, `helm upgrade` and `helm uninstall` of the chart on a control plane of its
//! own, so that the install starts from a cluster without the CRDs, as a newcomer's does: one
//! `helm install` with the organization URL and the client id creates the CRDs, the operator
//! and the ClusterDevOpsOrganization. The cluster runs no pods: the test asserts on the objects,
//! and on the admission of the Deployment's Pod in a namespace that enforces the restricted Pod
//! Security Standard.

use std::time::Instant;

use azdo_operator::api::ClusterDevOpsOrganization;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{Pod, ServiceAccount};
use k8s_openapi::api::networking::v1::NetworkPolicy;
use k8s_openapi::api::rbac::v1::ClusterRole;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{Api, ListParams, PostParams};
use serde_json::Value;

use super::chart::{CLIENT_ID, TENANT_ID};
use super::tools::{chart_dir, run, TOOL_TIMEOUT};
use crate::operator_env::TestResult;
use crate::support::kit::crd_count;
use crate::support::ControlPlane;

const RELEASE: &str = "azdo-operator";
const NAMESPACE: &str = "azdo-operator";
const ORG_URL: &str = "https://127.0.0.1:9/contoso";

fn organizations(client: &kube::Client) -> Api<ClusterDevOpsOrganization> {
    Api::all(client.clone())
}

async fn helm(cp: &ControlPlane, args: &[&str]) -> TestResult<String> {
    let mut helm = cp.helm();
    helm.args(args);
    run(helm, None, TOOL_TIMEOUT).await
}

async fn release_status(cp: &ControlPlane) -> TestResult<(String, i64)> {
    let status: Value = serde_json::from_str(
        &helm(
            cp,
            &[
                "status",
                RELEASE,
                "--namespace",
                NAMESPACE,
                "--output",
                "json",
            ],
        )
        .await?,
    )?;
    Ok((
        status["info"]["status"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
        status["version"].as_i64().unwrap_or_default(),
    ))
}

async fn crd_names(client: &kube::Client) -> TestResult<Vec<String>> {
    let crds: Api<CustomResourceDefinition> = Api::all(client.clone());
    let mut names: Vec<String> = crds
        .list(&ListParams::default())
        .await?
        .items
        .into_iter()
        .filter_map(|c| c.metadata.name)
        .filter(|n| n.ends_with(".azdo.io"))
        .collect();
    names.sort();
    Ok(names)
}

/// Create (as a server-side dry run) the Pod the Deployment's ReplicaSet would create: the
/// harness runs no ReplicaSet controller, and the Pod Security admission judges Pods.
async fn admit_pod_of(client: &kube::Client, deployment: &Deployment) -> TestResult<Pod> {
    let template = deployment
        .spec
        .as_ref()
        .map(|s| s.template.clone())
        .ok_or("Deployment without spec")?;
    let mut metadata = template.metadata.unwrap_or_default();
    metadata.name = Some(format!("{RELEASE}-admission-check"));
    let pod = Pod {
        metadata,
        spec: template.spec,
        ..Default::default()
    };
    let pods: Api<Pod> = Api::namespaced(client.clone(), NAMESPACE);
    let params = PostParams {
        dry_run: true,
        ..Default::default()
    };
    Ok(pods.create(&params, &pod).await?)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn helm_install_upgrade_and_uninstall_on_a_fresh_cluster() -> TestResult {
    let cp = ControlPlane::start().await?;
    let client = cp.client().await?;
    assert!(crd_names(&client).await?.is_empty(), "a fresh cluster");
    let mut namespace = cp.kubectl();
    namespace.args(["create", "namespace", NAMESPACE]);
    run(namespace, None, TOOL_TIMEOUT).await?;
    let mut label = cp.kubectl();
    label.args([
        "label",
        "namespace",
        NAMESPACE,
        "pod-security.kubernetes.io/enforce=restricted",
    ]);
    run(label, None, TOOL_TIMEOUT).await?;

    // Install: the README's single-organization command.
    let chart = chart_dir();
    let chart = chart.to_str().ok_or("chart path")?;
    let client_id = format!("workloadIdentity.clientId={CLIENT_ID}");
    let tenant_id = format!("workloadIdentity.tenantId={TENANT_ID}");
    let org_url = format!("organization.url={ORG_URL}");
    let org_graph = format!("organization.graphUrl={ORG_URL}");
    let started = Instant::now();
    let args = |verb: &'static [&'static str]| -> Vec<&str> {
        let mut all: Vec<&str> = verb.to_vec();
        all.extend([
            RELEASE,
            chart,
            "--namespace",
            NAMESPACE,
            "--set",
            &client_id,
            "--set",
            &tenant_id,
            "--set",
            &org_url,
            "--set",
            &org_graph,
            "--timeout",
            "90s",
        ]);
        all
    };
    // Known limit (docs/install.md): Helm may build the post-install organization hook from
    // discovery taken before the release's CRDs were served, and fail with "resource mapping not
    // found ... ensure CRDs are installed first". Running the same install again as
    // `helm upgrade --install` completes it; anything else is a failure.
    let (notes, installs) = match helm(&cp, &args(&["install"])).await {
        Ok(notes) => (notes, 1),
        Err(e) if e.to_string().contains("resource mapping not found") => {
            eprintln!("helm install raced CRD discovery; running it again as upgrade --install");
            (helm(&cp, &args(&["upgrade", "--install"])).await?, 2)
        }
        Err(e) => return Err(e),
    };
    eprintln!("helm install took {:?}", started.elapsed());
    assert!(
        notes.contains("system:serviceaccount:azdo-operator:azdo-operator"),
        "{notes}"
    );
    assert_eq!(
        release_status(&cp).await?,
        ("deployed".to_string(), installs)
    );
    assert_eq!(crd_names(&client).await?.len(), crd_count());

    let accounts: Api<ServiceAccount> = Api::namespaced(client.clone(), NAMESPACE);
    let account = accounts.get("azdo-operator").await?;
    let annotations = account.metadata.annotations.unwrap_or_default();
    assert_eq!(
        annotations
            .get("azure.workload.identity/client-id")
            .map(String::as_str),
        Some(CLIENT_ID)
    );
    assert_eq!(
        annotations
            .get("azure.workload.identity/tenant-id")
            .map(String::as_str),
        Some(TENANT_ID)
    );

    let org = organizations(&client).get("contoso").await?;
    assert_eq!(org.spec.url, ORG_URL);
    assert_eq!(
        org.spec
            .auth
            .workload_identity
            .and_then(|w| w.client_id)
            .as_deref(),
        Some(CLIENT_ID)
    );

    let deployments: Api<Deployment> = Api::namespaced(client.clone(), NAMESPACE);
    let deployment = deployments.get(RELEASE).await?;
    assert_eq!(deployment.spec.as_ref().and_then(|s| s.replicas), Some(2));
    let pod = admit_pod_of(&client, &deployment).await.map_err(|e| {
        format!("the restricted Pod Security Standard refused the operator's pod: {e}")
    })?;
    assert_eq!(
        pod.spec.and_then(|s| s.service_account_name).as_deref(),
        Some("azdo-operator")
    );

    // Upgrade: more replicas, per-namespace identities, a NetworkPolicy, a changed organization.
    let started = Instant::now();
    helm(
        &cp,
        &[
            "upgrade",
            RELEASE,
            chart,
            "--namespace",
            NAMESPACE,
            "--reuse-values",
            "--set",
            "replicaCount=3",
            "--set",
            "perNamespaceIdentities.enabled=true",
            "--set",
            "networkPolicy.enabled=true",
            "--set",
            "organization.allowedNamespaces.names={team-a}",
            "--timeout",
            "90s",
        ],
    )
    .await?;
    eprintln!("helm upgrade took {:?}", started.elapsed());
    assert_eq!(
        release_status(&cp).await?,
        ("deployed".to_string(), installs + 1)
    );
    assert_eq!(
        deployments
            .get(RELEASE)
            .await?
            .spec
            .and_then(|s| s.replicas),
        Some(3)
    );
    let roles: Api<ClusterRole> = Api::all(client.clone());
    roles.get("azdo-operator-token-requester").await?;
    let policies: Api<NetworkPolicy> = Api::namespaced(client.clone(), NAMESPACE);
    policies.get(RELEASE).await?;
    let org = organizations(&client).get("contoso").await?;
    assert_eq!(
        org.spec.allowed_namespaces.map(|a| a.names),
        Some(vec!["team-a".to_string()])
    );

    // Upgrade without the CRDs in the release: they stay (resource-policy keep).
    helm(
        &cp,
        &[
            "upgrade",
            RELEASE,
            chart,
            "--namespace",
            NAMESPACE,
            "--reuse-values",
            "--set",
            "crds.install=false",
            "--timeout",
            "90s",
        ],
    )
    .await?;
    assert_eq!(
        release_status(&cp).await?,
        ("deployed".to_string(), installs + 2)
    );
    assert_eq!(crd_names(&client).await?.len(), crd_count());

    // Uninstall: the operator goes; the CRDs and the organization (a hook) stay.
    helm(
        &cp,
        &[
            "uninstall",
            RELEASE,
            "--namespace",
            NAMESPACE,
            "--timeout",
            "90s",
        ],
    )
    .await?;
    assert!(deployments.get_opt(RELEASE).await?.is_none());
    assert!(roles.get_opt("azdo-operator").await?.is_none());
    assert_eq!(crd_names(&client).await?.len(), crd_count());
    assert!(organizations(&client).get_opt("contoso").await?.is_some());
    Ok(())
}
