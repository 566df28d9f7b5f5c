//! Tenant RBAC, proven against the real apiserver and its real ClusterRole aggregation: the
//! chart's RBAC is rendered and applied, kube-controller-manager's clusterrole-aggregation
//! controller folds the tenant roles into the standard `edit`, `view` and `admin`, and
//! ServiceAccounts bound to `edit` or `view` in a tenant namespace ask the apiserver (with their
//! own tokens: SelfSubjectAccessReviews, and real requests) what they may do. A tenant with
//! `edit` manages the namespaced azdo.io kinds and nothing the operator keeps for itself:
//! status, finalizers, ClusterDevOpsOrganizations, the ledger ConfigMaps in the operator's
//! namespace, the operator's ServiceAccount tokens. The operator's own roles carry no wildcard
//! and no verb the code does not use.

use std::process::Stdio;
use std::time::{Duration, Instant};

use k8s_openapi::api::authorization::v1::{
    ResourceAttributes, SelfSubjectAccessReview, SelfSubjectAccessReviewSpec,
};
use k8s_openapi::api::core::v1::ConfigMap;
use k8s_openapi::api::rbac::v1::{ClusterRole, RoleBinding, RoleRef, Subject};
use kube::api::{Api, DynamicObject, ListParams, ObjectMeta, Patch, PatchParams, PostParams};
use kube::core::{ApiResource, GroupVersionKind};
use serde_json::{json, Value};

use crate::operator_env::TestResult;
use crate::packaging::tools::{documents, granted, helm_template, repo, run, TOOL_TIMEOUT};
use crate::support::{self, ControlPlane};

/// A release name of its own, so that its cluster-scoped objects clash with no other test's.
const RELEASE: &str = "tenant-rbac";
const FULLNAME: &str = "tenant-rbac-azdo-operator";
const AGGREGATION: Duration = Duration::from_secs(90);

/// The namespaced kinds a tenant manages.
const TENANT_KINDS: [&str; 6] = [
    "devopsorganizations",
    "devopsgroups",
    "devopsmemberships",
    "pipelineresourceauthorizations",
    "devopsroleassignments",
    "pipelineresourcechecks",
];
const ALL_KINDS: [&str; 7] = [
    "clusterdevopsorganizations",
    "devopsorganizations",
    "devopsgroups",
    "devopsmemberships",
    "pipelineresourceauthorizations",
    "devopsroleassignments",
    "pipelineresourcechecks",
];

/// One request to authorize: `verb` on `group`/`resource`[/`subresource`] in `namespace`
/// (cluster-wide when `None`).
#[derive(Debug, Clone)]
struct Access {
    verb: &'static str,
    group: &'static str,
    resource: String,
    namespace: Option<String>,
}

fn access(
    verb: &'static str,
    group: &'static str,
    resource: &str,
    namespace: Option<&str>,
) -> Access {
    Access {
        verb,
        group,
        resource: resource.to_string(),
        namespace: namespace.map(str::to_string),
    }
}

/// Ask the apiserver, as the client's own identity, whether it may do `access`.
async fn allowed(client: &kube::Client, access: &Access) -> TestResult<bool> {
    let (resource, subresource) = match access.resource.split_once('/') {
        Some((resource, sub)) => (resource.to_string(), Some(sub.to_string())),
        None => (access.resource.clone(), None),
    };
    let review = SelfSubjectAccessReview {
        spec: SelfSubjectAccessReviewSpec {
            resource_attributes: Some(ResourceAttributes {
                verb: Some(access.verb.to_string()),
                group: Some(access.group.to_string()),
                resource: Some(resource),
                subresource,
                namespace: access.namespace.clone(),
                ..Default::default()
            }),
            ..Default::default()
        },
        ..Default::default()
    };
    let answer = Api::<SelfSubjectAccessReview>::all(client.clone())
        .create(&PostParams::default(), &review)
        .await?;
    Ok(answer.status.is_some_and(|s| s.allowed))
}

/// Every access whose answer is not `expected`, for one assertion listing them all.
async fn not_as_expected(
    client: &kube::Client,
    accesses: &[Access],
    expected: bool,
) -> TestResult<Vec<Access>> {
    let mut wrong = Vec::new();
    for a in accesses {
        if allowed(client, a).await? != expected {
            wrong.push(a.clone());
        }
    }
    Ok(wrong)
}

/// A client authenticated as `namespace/name` with a TokenRequest token.
async fn client_as(cp: &ControlPlane, namespace: &str, name: &str) -> TestResult<kube::Client> {
    let token = cp.service_account_token(namespace, name, &[]).await?;
    let path = cp
        .work_dir()
        .join(format!("tenant-rbac-{namespace}-{name}.kubeconfig"));
    cp.kubeconfig_for_token(&token, &path)?;
    Ok(support::kubeconfig::client_from_kubeconfig(&path).await?)
}

async fn bind(
    admin: &kube::Client,
    namespace: &str,
    cluster_role: &str,
    service_account: &str,
) -> TestResult {
    let binding = RoleBinding {
        metadata: ObjectMeta {
            name: Some(format!("{service_account}-{cluster_role}")),
            namespace: Some(namespace.to_string()),
            ..Default::default()
        },
        role_ref: RoleRef {
            api_group: "rbac.authorization.k8s.io".to_string(),
            kind: "ClusterRole".to_string(),
            name: cluster_role.to_string(),
        },
        subjects: Some(vec![Subject {
            kind: "ServiceAccount".to_string(),
            name: service_account.to_string(),
            namespace: Some(namespace.to_string()),
            ..Default::default()
        }]),
    };
    Api::<RoleBinding>::namespaced(admin.clone(), namespace)
        .create(&PostParams::default(), &binding)
        .await?;
    Ok(())
}

async fn kubectl_stdin(cp: &ControlPlane, args: &[&str], stdin: &str) -> TestResult<String> {
    let mut kubectl = cp.kubectl();
    kubectl.args(args);
    run(kubectl, Some(stdin.as_bytes()), TOOL_TIMEOUT).await
}

/// The chart's RBAC objects (and its ServiceAccount) for release RELEASE in `namespace`.
async fn chart_rbac(cp: &ControlPlane, namespace: &str) -> TestResult<Vec<Value>> {
    let rendered = helm_template(cp, RELEASE, namespace, &["--set", "crds.install=false"]).await?;
    Ok(documents(&rendered)?
        .into_iter()
        .filter(|d| {
            [
                "ClusterRole",
                "ClusterRoleBinding",
                "Role",
                "RoleBinding",
                "ServiceAccount",
            ]
            .iter()
            .any(|k| d["kind"] == *k)
        })
        .collect())
}

fn to_yaml_stream(docs: &[Value]) -> TestResult<String> {
    let mut out = String::new();
    for doc in docs {
        out.push_str("---\n");
        out.push_str(&serde_yaml::to_string(doc)?);
    }
    Ok(out)
}

/// Assert what the operator's own ClusterRole (`role`, rendered or kustomized) may do: no
/// wildcard anywhere, only `get`/`patch`/`update` on a status subresource, nothing on
/// finalizers, and no create, update or delete of an azdo.io kind.
fn assert_operator_role_is_narrow(role: &Value, source: &str) {
    let rules = role["rules"].as_array().cloned().unwrap_or_default();
    assert!(
        !rules.is_empty(),
        "{source}: the operator's ClusterRole has no rules"
    );
    for rule in &rules {
        for field in ["apiGroups", "resources", "verbs", "resourceNames"] {
            let values = rule[field].as_array().cloned().unwrap_or_default();
            assert!(
                values
                    .iter()
                    .all(|v| v.as_str().is_some_and(|s| !s.contains('*'))),
                "{source}: wildcard in {field} of {rule}"
            );
        }
    }
    let grants = granted(std::slice::from_ref(role));
    for grant in &grants {
        let (resource, verb) = grant.rsplit_once(':').expect("group/resource:verb");
        if resource.ends_with("/status") {
            assert!(
                ["get", "patch", "update"].contains(&verb),
                "{source}: {grant} is more than a status write needs"
            );
        }
        assert!(
            !resource.ends_with("/finalizers"),
            "{source}: {grant}: the finalizer is patched on the object itself"
        );
        if resource.starts_with("azdo.io/") {
            assert!(
                !["create", "update", "delete", "deletecollection"].contains(&verb),
                "{source}: {grant}: the operator never creates, replaces or deletes an azdo.io object"
            );
        }
    }
    // What the code does need is there: reads, the finalizer patch, the status patch.
    for needed in [
        "azdo.io/devopsmemberships:watch",
        "azdo.io/devopsmemberships:patch",
        "azdo.io/devopsmemberships/status:patch",
        "azdo.io/clusterdevopsorganizations/status:patch",
    ] {
        assert!(
            grants.iter().any(|g| g == needed),
            "{source}: {needed} missing from {grants:#?}"
        );
    }
    for unneeded in [
        "azdo.io/clusterdevopsorganizations:patch",
        "azdo.io/devopsorganizations:patch",
    ] {
        assert!(
            !grants.iter().any(|g| g == unneeded),
            "{source}: {unneeded}: organizations carry no finalizer"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operator_role_has_no_wildcard_and_no_unused_verb() -> TestResult {
    let cp = support::shared().await?;
    let rendered = documents(&helm_template(cp, "azdo-operator", "azdo-operator", &[]).await?)?;
    let mut kustomize = cp.kubectl();
    kustomize
        .arg("kustomize")
        .arg(repo().join("config/default"));
    let kustomized = documents(&run(kustomize, None, TOOL_TIMEOUT).await?)?;
    for (source, docs) in [("chart", &rendered), ("config/default", &kustomized)] {
        let role = docs
            .iter()
            .find(|d| d["kind"] == "ClusterRole" && d["metadata"]["name"] == "azdo-operator")
            .ok_or_else(|| format!("{source}: no ClusterRole azdo-operator"))?;
        assert_operator_role_is_narrow(role, source);
        // The tenant roles: never status, finalizers or ClusterDevOpsOrganization writes.
        for name in ["azdo-operator-edit", "azdo-operator-view"] {
            let tenant = docs
                .iter()
                .find(|d| d["kind"] == "ClusterRole" && d["metadata"]["name"] == name)
                .ok_or_else(|| format!("{source}: no ClusterRole {name}"))?;
            for grant in granted(std::slice::from_ref(tenant)) {
                assert!(
                    !grant.contains("/status:") && !grant.contains("/finalizers:"),
                    "{source}: {name} grants {grant}"
                );
                assert!(
                    !grant.contains('*'),
                    "{source}: {name} grants a wildcard: {grant}"
                );
                if grant.starts_with("azdo.io/clusterdevopsorganizations:") {
                    assert!(
                        ["get", "list", "watch"]
                            .iter()
                            .any(|v| grant.ends_with(&format!(":{v}"))),
                        "{source}: {name} grants {grant}"
                    );
                }
            }
        }
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tenants_with_edit_or_view_get_the_azdo_kinds_and_nothing_the_operator_keeps() -> TestResult
{
    let cp = support::shared().await?;
    cp.install_crds(&repo().join("crds")).await?;
    let admin = cp.client().await?;
    let operator_ns = cp.new_namespace("tenant-rbac-operator").await?;
    let tenant_ns = cp.new_namespace("tenant-rbac-team").await?;

    let rbac = chart_rbac(cp, &operator_ns).await?;
    for name in [format!("{FULLNAME}-edit"), format!("{FULLNAME}-view")] {
        assert!(
            rbac.iter()
                .any(|d| d["kind"] == "ClusterRole" && d["metadata"]["name"] == name.as_str()),
            "the chart renders no ClusterRole {name}"
        );
    }
    let manifest = to_yaml_stream(&rbac)?;
    kubectl_stdin(
        cp,
        &[
            "apply",
            "--server-side",
            "--field-manager",
            "azdo-e2e",
            "-f",
            "-",
        ],
        &manifest,
    )
    .await?;

    // The clusterrole-aggregation controller, which the shared control plane does not run.
    let log = std::fs::File::create(cp.work_dir().join("tenant-rbac-aggregation.log"))?;
    let mut aggregation =
        tokio::process::Command::new(cp.bin_dir().join("kube-controller-manager"))
            .arg(format!("--kubeconfig={}", cp.kubeconfig_path().display()))
            .arg("--secure-port=0")
            .arg("--leader-elect=false")
            .arg("--controllers=clusterrole-aggregation-controller")
            .arg("--v=1")
            .stdout(Stdio::from(log.try_clone()?))
            .stderr(Stdio::from(log))
            .kill_on_drop(true)
            .spawn()?;

    let outcome = exercise(cp, &admin, &operator_ns, &tenant_ns).await;

    let _ = aggregation.kill().await;
    let cluster_scoped: Vec<Value> = rbac
        .iter()
        .filter(|d| d["kind"] == "ClusterRole" || d["kind"] == "ClusterRoleBinding")
        .cloned()
        .collect();
    let cleanup = kubectl_stdin(
        cp,
        &["delete", "--ignore-not-found", "-f", "-"],
        &to_yaml_stream(&cluster_scoped)?,
    )
    .await;
    outcome?;
    cleanup?;
    Ok(())
}

async fn exercise(
    cp: &ControlPlane,
    admin: &kube::Client,
    operator_ns: &str,
    tenant_ns: &str,
) -> TestResult {
    cp.create_service_account(tenant_ns, "tenant").await?;
    cp.create_service_account(tenant_ns, "viewer").await?;
    bind(admin, tenant_ns, "edit", "tenant").await?;
    bind(admin, tenant_ns, "view", "viewer").await?;
    let tenant = client_as(cp, tenant_ns, "tenant").await?;
    let viewer = client_as(cp, tenant_ns, "viewer").await?;
    let operator = client_as(cp, operator_ns, FULLNAME).await?;

    // Wait until the aggregation reached `edit`, `view` and `admin`.
    let started = Instant::now();
    let probe_edit = access("create", "azdo.io", "devopsmemberships", Some(tenant_ns));
    let probe_view = access("list", "azdo.io", "devopsmemberships", Some(tenant_ns));
    while !(allowed(&tenant, &probe_edit).await? && allowed(&viewer, &probe_view).await?) {
        if started.elapsed() > AGGREGATION {
            let roles: Api<ClusterRole> = Api::all(admin.clone());
            let edit = roles.get("edit").await?;
            return Err(format!(
                "the tenant roles were not aggregated into edit/view within {AGGREGATION:?}; edit has {:?}",
                edit.rules
            )
            .into());
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    eprintln!("tenant roles aggregated in {:?}", started.elapsed());
    let roles: Api<ClusterRole> = Api::all(admin.clone());
    let admin_role = roles.get("admin").await?;
    assert!(
        admin_role.rules.iter().flatten().any(|r| {
            r.api_groups.iter().flatten().any(|g| g == "azdo.io")
                && r.verbs.iter().any(|v| v == "create")
        }),
        "the tenant edit role is not aggregated into admin: {:?}",
        admin_role.rules
    );
    let view_role = roles.get("view").await?;
    assert!(
        view_role.rules.iter().flatten().any(|r| {
            r.resources
                .iter()
                .flatten()
                .any(|res| res == "clusterdevopsorganizations")
                && r.verbs
                    .iter()
                    .all(|v| ["get", "list", "watch"].contains(&v.as_str()))
        }),
        "view carries no read-only rule for clusterdevopsorganizations: {:?}",
        view_role.rules
    );

    let ns = Some(tenant_ns);
    let op_ns = Some(operator_ns);
    // edit: every verb on the namespaced kinds, in its namespace.
    let mut may = Vec::new();
    for kind in TENANT_KINDS {
        for verb in [
            "get", "list", "watch", "create", "update", "patch", "delete",
        ] {
            may.push(access(verb, "azdo.io", kind, ns));
        }
    }
    let wrong = not_as_expected(&tenant, &may, true).await?;
    assert!(wrong.is_empty(), "edit may not: {wrong:#?}");
    // ... and nothing the operator keeps for itself.
    let mut may_not = Vec::new();
    for kind in ALL_KINDS {
        for verb in ["update", "patch"] {
            may_not.push(access(verb, "azdo.io", &format!("{kind}/status"), ns));
            may_not.push(access(verb, "azdo.io", &format!("{kind}/finalizers"), ns));
        }
    }
    for verb in ["create", "update", "patch", "delete", "get", "list"] {
        // Cluster-scoped: no RoleBinding can grant it.
        may_not.push(access(verb, "azdo.io", "clusterdevopsorganizations", None));
    }
    for verb in [
        "get", "list", "watch", "create", "update", "patch", "delete",
    ] {
        may_not.push(access(verb, "", "configmaps", op_ns));
    }
    may_not.extend([
        access("create", "", "serviceaccounts/token", op_ns),
        access("get", "", "secrets", op_ns),
        access("create", "azdo.io", "devopsmemberships", op_ns),
        access(
            "escalate",
            "rbac.authorization.k8s.io",
            "clusterroles",
            None,
        ),
        access("bind", "rbac.authorization.k8s.io", "clusterroles", None),
        access(
            "create",
            "rbac.authorization.k8s.io",
            "clusterrolebindings",
            None,
        ),
    ]);
    let wrong = not_as_expected(&tenant, &may_not, false).await?;
    assert!(wrong.is_empty(), "edit may: {wrong:#?}");

    // view: reads only.
    let mut reads = Vec::new();
    let mut writes = Vec::new();
    for kind in TENANT_KINDS {
        for verb in ["get", "list", "watch"] {
            reads.push(access(verb, "azdo.io", kind, ns));
        }
        for verb in ["create", "update", "patch", "delete"] {
            writes.push(access(verb, "azdo.io", kind, ns));
        }
        writes.push(access("patch", "azdo.io", &format!("{kind}/status"), ns));
    }
    let wrong = not_as_expected(&viewer, &reads, true).await?;
    assert!(wrong.is_empty(), "view may not: {wrong:#?}");
    let wrong = not_as_expected(&viewer, &writes, false).await?;
    assert!(wrong.is_empty(), "view may: {wrong:#?}");

    // Real requests, not just reviews: the tenant creates a membership and is refused its status;
    // the viewer lists it and is refused a create.
    let gvk = GroupVersionKind::gvk("azdo.io", "v1alpha1", "DevOpsMembership");
    let resource = ApiResource::from_gvk_with_plural(&gvk, "devopsmemberships");
    let membership: DynamicObject = serde_json::from_value(json!({
        "apiVersion": "azdo.io/v1alpha1",
        "kind": "DevOpsMembership",
        "metadata": {"name": "tenant-rbac", "namespace": tenant_ns},
        "spec": {
            "organizationRef": {"name": "contoso"},
            "group": {"principalName": "[Storefront]\\Contributors"},
            "mode": "Additive",
            "members": [{"user": "christie.cline@contoso.com"}],
        },
    }))?;
    let as_tenant: Api<DynamicObject> = Api::namespaced_with(tenant.clone(), tenant_ns, &resource);
    as_tenant
        .create(&PostParams::default(), &membership)
        .await?;
    let status_write = as_tenant
        .patch_status(
            "tenant-rbac",
            &PatchParams::default(),
            &Patch::Merge(json!({"status": {"added": [{"user": "someone@contoso.com"}]}})),
        )
        .await;
    assert_forbidden(status_write.map(|_| ()), "the tenant's status patch")?;
    let as_viewer: Api<DynamicObject> = Api::namespaced_with(viewer.clone(), tenant_ns, &resource);
    let listed = as_viewer.list(&ListParams::default()).await?;
    assert_eq!(listed.items.len(), 1, "the viewer lists the membership");
    let mut other = membership.clone();
    other.metadata.name = Some("tenant-rbac-viewer".to_string());
    let created = as_viewer.create(&PostParams::default(), &other).await;
    assert_forbidden(created.map(|_| ()), "the viewer's create")?;
    let ledger = ConfigMap {
        metadata: ObjectMeta {
            name: Some("tenant-rbac-forged-ledger".to_string()),
            labels: Some(
                [
                    ("app.kubernetes.io/managed-by", "azdo-operator"),
                    ("azdo.io/ledger", "true"),
                ]
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .into(),
            ),
            ..Default::default()
        },
        ..Default::default()
    };
    let forged = Api::<ConfigMap>::namespaced(tenant.clone(), operator_ns)
        .create(&PostParams::default(), &ledger)
        .await;
    assert_forbidden(forged.map(|_| ()), "the tenant's ledger ConfigMap")?;

    // The operator's ServiceAccount: its ledger in its own namespace, status and finalizer
    // patches; no spec replace, no create or delete of azdo.io objects, no ConfigMaps elsewhere.
    let mut may = vec![
        access("patch", "azdo.io", "devopsmemberships", ns),
        access("patch", "azdo.io", "devopsmemberships/status", ns),
        access(
            "patch",
            "azdo.io",
            "clusterdevopsorganizations/status",
            None,
        ),
        access("list", "", "namespaces", None),
        access("create", "events.k8s.io", "events", ns),
    ];
    for verb in [
        "get", "list", "watch", "create", "update", "patch", "delete",
    ] {
        may.push(access(verb, "", "configmaps", op_ns));
    }
    let wrong = not_as_expected(&operator, &may, true).await?;
    assert!(wrong.is_empty(), "the operator may not: {wrong:#?}");
    let mut may_not = vec![
        access("get", "", "configmaps", ns),
        access("create", "", "configmaps", ns),
        access("list", "", "secrets", ns),
        access("create", "", "serviceaccounts/token", ns),
        access("patch", "azdo.io", "clusterdevopsorganizations", None),
        access("patch", "azdo.io", "devopsorganizations", ns),
    ];
    for kind in ALL_KINDS {
        for verb in ["create", "update", "delete"] {
            may_not.push(access(verb, "azdo.io", kind, ns));
        }
        may_not.push(access(
            "update",
            "azdo.io",
            &format!("{kind}/finalizers"),
            ns,
        ));
        may_not.push(access("update", "azdo.io", &format!("{kind}/status"), ns));
    }
    let wrong = not_as_expected(&operator, &may_not, false).await?;
    assert!(wrong.is_empty(), "the operator may: {wrong:#?}");
    Ok(())
}

fn assert_forbidden(result: Result<(), kube::Error>, what: &str) -> TestResult {
    match result {
        Err(kube::Error::Api(status)) if status.code == 403 => Ok(()),
        other => Err(format!("{what}: expected 403 Forbidden, got {other:?}").into()),
    }
}
