//! The Helm chart rendered: it lints, its CRDs are the repository's, its values are validated,
//! its defaults are hardened and least-privilege, and the apiserver accepts what it renders.

use std::collections::BTreeMap;

use serde_json::Value;

use super::tools::{
    self, chart_dir, documents, find, granted, helm_template, repo, run, run_expecting_failure,
    server_side_dry_run, TOOL_TIMEOUT,
};
use crate::operator_env::TestResult;
use crate::support;
use crate::support::kit::crd_count;

pub const CLIENT_ID: &str = "0b1c2d3e-4f5a-4b6c-8d7e-9f0a1b2c3d4e";
pub const TENANT_ID: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";

/// Values that turn on every optional part the apiserver knows (not the ServiceMonitor, whose
/// CRD belongs to the Prometheus Operator), with an organization object named `organization`.
fn everything_on(organization: &str, namespaces: &[&str]) -> Vec<String> {
    let list = format!("{{{}}}", namespaces.join(","));
    [
        format!("organization.name={organization}"),
        "organization.url=https://127.0.0.1:9/contoso".to_string(),
        "organization.graphUrl=https://127.0.0.1:9/contoso".to_string(),
        format!("organization.allowedNamespaces.names={list}"),
        format!("workloadIdentity.clientId={CLIENT_ID}"),
        format!("workloadIdentity.tenantId={TENANT_ID}"),
        "workloadIdentity.injection=projected".to_string(),
        "perNamespaceIdentities.enabled=true".to_string(),
        format!("perNamespaceIdentities.namespaces={list}"),
        "rbac.secrets.scope=namespaces".to_string(),
        format!("rbac.secrets.namespaces={list}"),
        format!("watchNamespaces={list}"),
        "networkPolicy.enabled=true".to_string(),
        "extraCA.secret.name=corporate-ca".to_string(),
        "replicaCount=3".to_string(),
    ]
    .into_iter()
    .flat_map(|v| ["--set".to_string(), v])
    .collect()
}

fn as_strs(args: &[String]) -> Vec<&str> {
    args.iter().map(String::as_str).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chart_passes_helm_lint_strict() -> TestResult {
    let cp = support::shared().await?;
    for values in [vec![], everything_on("contoso", &["team-a", "team-b"])] {
        let mut helm = cp.helm();
        helm.args(["lint", "--strict"])
            .arg(chart_dir())
            .args(as_strs(&values));
        let out = run(helm, None, TOOL_TIMEOUT).await?;
        assert!(
            out.contains("1 chart(s) linted, 0 chart(s) failed"),
            "{out}"
        );
        assert!(!out.contains("[WARNING]"), "{out}");
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chart_crds_are_the_repository_crds() -> TestResult {
    // Byte-identical copies (make crds regenerates crds/; copy them to both places).
    for copy in ["charts/azdo-operator/files/crds", "config/crd/bases"] {
        let mut names = Vec::new();
        for entry in std::fs::read_dir(repo().join("crds"))? {
            let path = entry?.path();
            let name = path.file_name().ok_or("file name")?.to_owned();
            let copied = repo().join(copy).join(&name);
            assert_eq!(
                std::fs::read(&path)?,
                std::fs::read(&copied).map_err(|e| format!("{}: {e}", copied.display()))?,
                "{} differs from {}: cp crds/*.yaml {copy}/",
                copied.display(),
                path.display()
            );
            names.push(name);
        }
        assert_eq!(
            std::fs::read_dir(repo().join(copy))?.count(),
            names.len(),
            "{copy} holds a CRD that crds/ does not"
        );
    }

    // Rendered: the same objects, plus the chart's labels and the keep policy.
    let cp = support::shared().await?;
    let rendered = documents(&helm_template(cp, "azdo-operator", "azdo-operator", &[]).await?)?;
    let crds: Vec<&Value> = rendered
        .iter()
        .filter(|d| d["kind"] == "CustomResourceDefinition")
        .collect();
    assert_eq!(crds.len(), crd_count());
    for crd in crds {
        let name = crd["metadata"]["name"].as_str().ok_or("name")?;
        let source: Value = serde_yaml::from_str(&std::fs::read_to_string(
            repo().join("crds").join(format!("{name}.yaml")),
        )?)?;
        assert_eq!(
            crd["metadata"]["annotations"]["helm.sh/resource-policy"],
            "keep"
        );
        assert_eq!(
            crd["metadata"]["labels"]["app.kubernetes.io/name"],
            "azdo-operator"
        );
        let mut stripped = crd.clone();
        stripped["metadata"] = serde_json::json!({"name": name});
        if let Some(difference) = tools::difference(&stripped, &source) {
            panic!("rendered {name} differs from crds/ at {difference}");
        }
    }

    let without = documents(
        &helm_template(
            cp,
            "azdo-operator",
            "azdo-operator",
            &["--set", "crds.install=false"],
        )
        .await?,
    )?;
    assert!(without
        .iter()
        .all(|d| d["kind"] != "CustomResourceDefinition"));
    let unkept = documents(
        &helm_template(
            cp,
            "azdo-operator",
            "azdo-operator",
            &["--set", "crds.keep=false"],
        )
        .await?,
    )?;
    assert!(unkept
        .iter()
        .filter(|d| d["kind"] == "CustomResourceDefinition")
        .all(|d| d["metadata"]["annotations"]["helm.sh/resource-policy"].is_null()));
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chart_rejects_invalid_values() -> TestResult {
    let cp = support::shared().await?;
    let cases: [(&[&str], &str); 8] = [
        (
            &["--set", "workloadIdentity.clientId=not-a-guid"],
            "/workloadIdentity/clientId",
        ),
        (
            &["--set", "organization.url=http://dev.azure.com/contoso"],
            "/organization/url",
        ),
        (&["--set", "replicaCount=-1"], "/replicaCount"),
        (&["--set", "unknownValue=1"], "unknownValue"),
        (
            &["--set", "rbac.secrets.scope=everything"],
            "/rbac/secrets/scope",
        ),
        (
            &[
                "--set",
                "replicaCount=2",
                "--set",
                "leaderElection.enabled=false",
            ],
            "needs leaderElection.enabled",
        ),
        (
            &["--set", "workloadIdentity.injection=projected"],
            "needs workloadIdentity.clientId and workloadIdentity.tenantId",
        ),
        (
            &[
                "--set",
                "extraCA.configMap.name=a",
                "--set",
                "extraCA.secret.name=b",
            ],
            "not both",
        ),
    ];
    for (args, expected) in cases {
        let mut helm = cp.helm();
        helm.args(["template", "x"]).arg(chart_dir()).args(args);
        let err = run_expecting_failure(helm, TOOL_TIMEOUT).await?;
        assert!(err.contains(expected), "{args:?}: {err}");
    }
    Ok(())
}

fn env_of(container: &Value) -> BTreeMap<String, Value> {
    container["env"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|e| {
            let value = if e["value"].is_null() {
                e["valueFrom"].clone()
            } else {
                e["value"].clone()
            };
            (e["name"].as_str().unwrap_or_default().to_string(), value)
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chart_defaults_are_hardened() -> TestResult {
    let cp = support::shared().await?;
    let docs = documents(
        &helm_template(
            cp,
            "azdo-operator",
            "azdo-operator",
            &["--set", &format!("workloadIdentity.clientId={CLIENT_ID}")],
        )
        .await?,
    )?;
    let deployment = find(&docs, "Deployment", "azdo-operator")?;
    let pod = &deployment["spec"]["template"];
    assert_eq!(
        pod["metadata"]["labels"]["azure.workload.identity/use"],
        "true"
    );
    assert_eq!(pod["spec"]["serviceAccountName"], "azdo-operator");
    let pod_security = &pod["spec"]["securityContext"];
    assert_eq!(pod_security["runAsNonRoot"], true);
    assert_eq!(pod_security["seccompProfile"]["type"], "RuntimeDefault");
    let container = &pod["spec"]["containers"][0];
    let security = &container["securityContext"];
    assert_eq!(security["allowPrivilegeEscalation"], false);
    assert_eq!(security["readOnlyRootFilesystem"], true);
    assert_eq!(security["runAsNonRoot"], true);
    assert_eq!(security["capabilities"]["drop"], serde_json::json!(["ALL"]));
    assert_eq!(security["seccompProfile"]["type"], "RuntimeDefault");
    for kind in ["requests", "limits"] {
        for resource in ["cpu", "memory"] {
            assert!(
                !container["resources"][kind][resource].is_null(),
                "resources.{kind}.{resource}"
            );
        }
    }
    assert_eq!(container["livenessProbe"]["httpGet"]["path"], "/healthz");
    assert_eq!(container["readinessProbe"]["httpGet"]["path"], "/readyz");
    assert_eq!(container["ports"][0]["containerPort"], 8080);
    let env = env_of(container);
    assert_eq!(env["POD_NAME"]["fieldRef"]["fieldPath"], "metadata.name");
    assert_eq!(
        env["POD_NAMESPACE"]["fieldRef"]["fieldPath"],
        "metadata.namespace"
    );
    assert_eq!(env["AZDO_METRICS_ADDR"], "0.0.0.0:8080");
    assert_eq!(env["AZDO_LEADER_ELECTION"], "true");
    assert_eq!(env["AZDO_LEADER_ELECTION_LEASE"], "azdo-operator-leader");
    assert!(deployment["spec"]["replicas"].as_i64() > Some(1));

    let account = find(&docs, "ServiceAccount", "azdo-operator")?;
    assert_eq!(
        account["metadata"]["annotations"]["azure.workload.identity/client-id"],
        CLIENT_ID
    );
    let pdb = find(&docs, "PodDisruptionBudget", "azdo-operator")?;
    assert_eq!(
        pdb["spec"]["selector"]["matchLabels"],
        deployment["spec"]["selector"]["matchLabels"]
    );
    let service = find(&docs, "Service", "azdo-operator-metrics")?;
    assert_eq!(service["spec"]["ports"][0]["targetPort"], "metrics");
    for optional in [
        "NetworkPolicy",
        "ServiceMonitor",
        "ClusterDevOpsOrganization",
    ] {
        assert!(
            docs.iter().all(|d| d["kind"] != optional),
            "{optional} is opt-in"
        );
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chart_rbac_follows_the_values() -> TestResult {
    let cp = support::shared().await?;
    let render = |args: Vec<&'static str>| async move {
        let docs = documents(&helm_template(cp, "azdo-operator", "azdo-operator", &args).await?)?;
        TestResult::Ok(docs)
    };
    let defaults = render(vec![]).await?;
    // The operator's own roles: not the tenant roles (aggregated) nor the ledger's Role.
    let operator_roles: Vec<Value> = defaults
        .iter()
        .filter(|d| {
            d["metadata"]["labels"].as_object().is_none_or(|l| {
                !l.keys()
                    .any(|k| k.starts_with("rbac.authorization.k8s.io/aggregate-to-"))
            }) && d["metadata"]["name"] != "azdo-operator-ledger"
        })
        .cloned()
        .collect();
    let grants = granted(&operator_roles);
    for expected in [
        "azdo.io/devopsgroups:patch",
        "azdo.io/devopsgroups/status:patch",
        "azdo.io/clusterdevopsorganizations:watch",
        "/namespaces:list",
        "/namespaces:watch",
        "events.k8s.io/events:create",
        "events.k8s.io/events:patch",
        "coordination.k8s.io/leases:create",
        "coordination.k8s.io/leases[azdo-operator-leader]:patch",
        "/secrets:get",
    ] {
        assert!(
            grants.iter().any(|g| g == expected),
            "{expected} missing from {grants:#?}"
        );
    }
    for forbidden in [
        "/secrets:list",
        "/secrets:watch",
        "/serviceaccounts/token:create",
        "/finalizers:",
        "azdo.io/clusterdevopsorganizations:patch",
        "azdo.io/devopsorganizations:patch",
        ":update",
        ":create",
        ":delete",
        ":*",
        "/*:",
    ] {
        assert!(
            grants
                .iter()
                .filter(
                    |g| !g.starts_with("events.k8s.io/") && !g.starts_with("coordination.k8s.io/")
                )
                .all(|g| !g.contains(forbidden)),
            "{forbidden} granted: {grants:#?}"
        );
    }
    let leader_role = find(&defaults, "Role", "azdo-operator-leader-election")?;
    assert_eq!(leader_role["metadata"]["namespace"], "azdo-operator");
    // ConfigMaps (the ownership ledger) in the release namespace only, through a Role.
    let ledger = find(&defaults, "Role", "azdo-operator-ledger")?;
    assert_eq!(ledger["metadata"]["namespace"], "azdo-operator");
    assert!(granted(&defaults)
        .iter()
        .filter(|g| g.starts_with("/configmaps"))
        .all(|g| granted(std::slice::from_ref(ledger)).contains(g)));
    // The tenant roles, and the switch that leaves them out.
    for role in ["azdo-operator-edit", "azdo-operator-view"] {
        find(&defaults, "ClusterRole", role)?;
    }
    let no_tenant_roles = render(vec!["--set", "rbac.tenantRoles.enabled=false"]).await?;
    assert!(
        no_tenant_roles
            .iter()
            .all(|d| d["metadata"]["name"] != "azdo-operator-edit"
                && d["metadata"]["name"] != "azdo-operator-view"),
        "rbac.tenantRoles.enabled=false still renders the tenant roles"
    );

    let no_secrets = render(vec!["--set", "rbac.secrets.scope=none"]).await?;
    assert!(granted(&no_secrets)
        .iter()
        .all(|g| !g.starts_with("/secrets")));

    let scoped = render(vec![
        "--set",
        "rbac.secrets.scope=namespaces",
        "--set",
        "rbac.secrets.namespaces={team-a,team-b}",
        "--set",
        "perNamespaceIdentities.enabled=true",
        "--set",
        "perNamespaceIdentities.namespaces={team-a}",
    ])
    .await?;
    let bindings: Vec<String> = scoped
        .iter()
        .filter(|d| d["kind"] == "RoleBinding" || d["kind"] == "ClusterRoleBinding")
        .map(tools::key)
        .collect();
    for expected in [
        "RoleBinding/team-a/azdo-operator-secret-reader",
        "RoleBinding/team-b/azdo-operator-secret-reader",
        "RoleBinding/team-a/azdo-operator-token-requester",
    ] {
        assert!(
            bindings.iter().any(|b| b == expected),
            "{expected}: {bindings:#?}"
        );
    }
    assert!(
        bindings.iter().all(
            |b| !b.starts_with("ClusterRoleBinding//azdo-operator-secret-reader")
                && !b.starts_with("ClusterRoleBinding//azdo-operator-token-requester")
        ),
        "namespaced grants only: {bindings:#?}"
    );
    let cluster_wide = render(vec!["--set", "perNamespaceIdentities.enabled=true"]).await?;
    let grants = granted(&cluster_wide);
    assert!(grants.iter().any(|g| g == "/serviceaccounts/token:create"));
    assert!(grants.iter().any(|g| g == "/serviceaccounts:get"));
    find(
        &cluster_wide,
        "ClusterRoleBinding",
        "azdo-operator-token-requester",
    )?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rendered_chart_passes_a_server_side_dry_run() -> TestResult {
    let cp = support::shared().await?;
    cp.install_crds(&repo().join("crds")).await?;
    let namespace = cp.new_namespace("chart-dry-run").await?;
    let team_a = cp.new_namespace("chart-team-a").await?;
    let team_b = cp.new_namespace("chart-team-b").await?;
    // The restricted Pod Security Standard: the apiserver warns about a Deployment whose pods
    // it would reject.
    let mut label = cp.kubectl();
    label.args([
        "label",
        "namespace",
        &namespace,
        "pod-security.kubernetes.io/enforce=restricted",
        "pod-security.kubernetes.io/warn=restricted",
    ]);
    run(label, None, TOOL_TIMEOUT).await?;

    let release = format!("{namespace}-rel");
    for values in [vec![], everything_on(&namespace, &[&team_a, &team_b])] {
        let manifest = helm_template(cp, &release, &namespace, &as_strs(&values)).await?;
        let objects = documents(&manifest)?.len();
        let (stdout, stderr) = server_side_dry_run(cp, &manifest).await?;
        assert_eq!(stdout.lines().count(), objects, "{stdout}\n{stderr}");
        assert!(!stderr.contains("PodSecurity"), "{stderr}");
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chart_optional_parts_render_consistently() -> TestResult {
    let cp = support::shared().await?;
    let client_id = format!("workloadIdentity.clientId={CLIENT_ID}");
    let tenant_id = format!("workloadIdentity.tenantId={TENANT_ID}");
    let docs = documents(
        &helm_template(
            cp,
            "azdo-operator",
            "azdo-operator",
            &[
                "--set",
                "metrics.serviceMonitor.enabled=true",
                "--set",
                "networkPolicy.enabled=true",
                "--set",
                "extraCA.configMap.name=corporate-ca",
                "--set",
                "workloadIdentity.injection=projected",
                "--set",
                &client_id,
                "--set",
                &tenant_id,
                "--set",
                "watchNamespaces={team-a,team-b}",
                "--set",
                "metrics.bindAddress=::",
            ],
        )
        .await?,
    )?;
    let deployment = find(&docs, "Deployment", "azdo-operator")?;
    let selector = &deployment["spec"]["selector"]["matchLabels"];
    let pod = &deployment["spec"]["template"]["spec"];
    let container = &pod["containers"][0];
    let env = env_of(container);
    let mounts: BTreeMap<String, String> = container["volumeMounts"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|m| {
            (
                m["name"].as_str().unwrap_or_default().to_string(),
                m["mountPath"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    let volume = |name: &str| {
        pod["volumes"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|v| v["name"] == name)
            .cloned()
            .unwrap_or(Value::Null)
    };

    // The ServiceMonitor scrapes the Service, which selects the operator's pods.
    let monitor = find(&docs, "ServiceMonitor", "azdo-operator")?;
    let service = find(&docs, "Service", "azdo-operator-metrics")?;
    assert_eq!(&monitor["spec"]["selector"]["matchLabels"], selector);
    assert_eq!(&service["spec"]["selector"], selector);
    assert_eq!(
        monitor["spec"]["endpoints"][0]["port"],
        service["spec"]["ports"][0]["name"]
    );
    assert_eq!(monitor["spec"]["endpoints"][0]["path"], "/metrics");

    // The NetworkPolicy applies to the operator's pods and admits the metrics port.
    let policy = find(&docs, "NetworkPolicy", "azdo-operator")?;
    assert_eq!(&policy["spec"]["podSelector"]["matchLabels"], selector);
    assert_eq!(policy["spec"]["ingress"][0]["ports"][0]["port"], "metrics");

    // The extra CA: mounted from the ConfigMap, named by AZDO_EXTRA_CA_FILE.
    assert_eq!(volume("extra-ca")["configMap"]["name"], "corporate-ca");
    assert_eq!(
        env["AZDO_EXTRA_CA_FILE"],
        format!("{}/ca.crt", mounts["extra-ca"])
    );

    // Projected workload identity: the token file the env names is the mounted projected token,
    // for Entra's audience; the webhook label is absent (it would inject a second token).
    let projected =
        &volume("azure-identity-token")["projected"]["sources"][0]["serviceAccountToken"];
    assert_eq!(projected["audience"], "api://AzureADTokenExchange");
    assert_eq!(
        env["AZURE_FEDERATED_TOKEN_FILE"],
        format!(
            "{}/{}",
            mounts["azure-identity-token"],
            projected["path"].as_str().unwrap_or_default()
        )
    );
    assert_eq!(env["AZURE_CLIENT_ID"], CLIENT_ID);
    assert_eq!(env["AZURE_TENANT_ID"], TENANT_ID);
    assert!(
        deployment["spec"]["template"]["metadata"]["labels"]["azure.workload.identity/use"]
            .is_null()
    );

    assert_eq!(env["AZDO_WATCH_NAMESPACES"], "team-a,team-b");
    assert_eq!(env["AZDO_METRICS_ADDR"], "[::]:8080");
    Ok(())
}
