//! Admission against the real apiserver: every schema constraint and CEL rule rejects what it
//! should, with its message, and the immutable fields stay immutable.

use azdo_operator::api::{API_GROUP, API_VERSION};
use kube::api::{DynamicObject, Patch, PatchParams, PostParams};
use serde_json::{json, Value};

use crate::operator_env::TestResult;
use crate::support::{self, kit::api_for};

const GUID: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";

fn object(kind: &str, namespace: &str, name: &str, spec: Value) -> Value {
    let mut metadata = json!({"name": name});
    if kind != "ClusterDevOpsOrganization" {
        metadata["namespace"] = json!(namespace);
    }
    let api_version = format!("{API_GROUP}/{API_VERSION}");
    json!({"apiVersion": api_version, "kind": kind, "metadata": metadata, "spec": spec})
}

fn org(auth: Value) -> Value {
    json!({"url": "https://dev.azure.com/contoso", "auth": auth})
}

fn group(extra: Value) -> Value {
    let mut spec = json!({"organizationRef": {"name": "contoso"}});
    spec.as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    spec
}

fn membership(group: Value, members: Value) -> Value {
    json!({"organizationRef": {"name": "contoso"}, "group": group, "members": members})
}

fn authorization(resource: Value, pipelines: Value) -> Value {
    json!({"organizationRef": {"name": "contoso"}, "project": "Storefront", "resource": resource, "pipelines": pipelines})
}

/// (kind, spec, a part of the apiserver's message)
fn invalid_cases() -> Vec<(&'static str, Value, &'static str)> {
    vec![
        (
            "ClusterDevOpsOrganization",
            org(json!({})),
            "exactly one of workloadIdentity",
        ),
        (
            "ClusterDevOpsOrganization",
            org(json!({"workloadIdentity": {}, "managedIdentity": {}})),
            "exactly one of workloadIdentity",
        ),
        (
            "ClusterDevOpsOrganization",
            org(json!({"pat": {"secretRef": {"name": "s"}}})),
            "auth.pat.secretRef.namespace is required",
        ),
        (
            "ClusterDevOpsOrganization",
            org(
                json!({"clientSecret": {"tenantId": GUID, "clientId": GUID, "secretRef": {"name": "s"}}}),
            ),
            "auth.clientSecret.secretRef.namespace is required",
        ),
        (
            "ClusterDevOpsOrganization",
            org(json!({"workloadIdentity": {"serviceAccountRef": {"name": "sa"}}})),
            "serviceAccountRef.namespace is required",
        ),
        (
            "ClusterDevOpsOrganization",
            org(json!({"workloadIdentity": {"clientId": "nope"}})),
            "clientId must be a GUID",
        ),
        (
            "ClusterDevOpsOrganization",
            json!({"url": "http://dev.azure.com/contoso", "auth": {"workloadIdentity": {}}}),
            "url must be https://<host>/<organization>",
        ),
        (
            "ClusterDevOpsOrganization",
            json!({"url": "https://dev.azure.com/contoso", "graphUrl": "vssps", "auth": {"workloadIdentity": {}}}),
            "graphUrl must be https://",
        ),
        (
            "ClusterDevOpsOrganization",
            json!({"url": "https://dev.azure.com/contoso", "auth": {"workloadIdentity": {}}, "allowedNamespaces": {}}),
            "allowedNamespaces needs names or a selector",
        ),
        (
            "ClusterDevOpsOrganization",
            json!({"auth": {"workloadIdentity": {}}}),
            "spec.url: Required value",
        ),
        (
            "DevOpsOrganization",
            org(json!({"managedIdentity": {}})),
            "cannot use managedIdentity",
        ),
        (
            "DevOpsOrganization",
            org(json!({"workloadIdentity": {}})),
            "must set workloadIdentity.serviceAccountRef",
        ),
        (
            "DevOpsOrganization",
            org(
                json!({"workloadIdentity": {"serviceAccountRef": {"name": "sa", "namespace": "x"}}}),
            ),
            "serviceAccountRef.namespace cannot be set",
        ),
        (
            "DevOpsOrganization",
            org(json!({"pat": {"secretRef": {"name": "s", "namespace": "x"}}})),
            "secretRef.namespace cannot be set",
        ),
        (
            "DevOpsGroup",
            group(json!({})),
            "set exactly one of displayName",
        ),
        (
            "DevOpsGroup",
            group(json!({"displayName": "A", "entraGroup": {"objectId": GUID}})),
            "set exactly one of displayName",
        ),
        (
            "DevOpsGroup",
            group(json!({"entraGroup": {"objectId": GUID}, "project": "P"})),
            "materialized at organization scope",
        ),
        (
            "DevOpsGroup",
            group(json!({"entraGroup": {"objectId": GUID}, "description": "d"})),
            "description comes from Entra",
        ),
        (
            "DevOpsGroup",
            group(json!({"entraGroup": {}})),
            "exactly one of objectId or mailAddress",
        ),
        (
            "DevOpsGroup",
            group(json!({"entraGroup": {"objectId": "not-a-guid"}})),
            "spec.entraGroup.objectId",
        ),
        (
            "DevOpsGroup",
            group(json!({"displayName": "a/b"})),
            "spec.displayName",
        ),
        (
            "DevOpsGroup",
            group(json!({"displayName": "A", "deletionPolicy": "Maybe"})),
            "Unsupported value: \"Maybe\"",
        ),
        (
            "DevOpsGroup",
            json!({"displayName": "A"}),
            "spec.organizationRef: Required value",
        ),
        (
            "DevOpsGroup",
            json!({"organizationRef": {"name": "c", "kind": "Other"}, "displayName": "A"}),
            "Unsupported value: \"Other\"",
        ),
        (
            "DevOpsMembership",
            membership(json!({}), json!([])),
            "exactly one of groupRef, principalName or descriptor",
        ),
        (
            "DevOpsMembership",
            membership(json!({"principalName": "Contributors"}), json!([])),
            "principal name looks like",
        ),
        (
            "DevOpsMembership",
            membership(json!({"descriptor": "aad.x"}), json!([])),
            "starts with vssgp.",
        ),
        (
            "DevOpsMembership",
            membership(json!({"groupRef": {"name": "g"}}), json!([{}])),
            "each member must set exactly one",
        ),
        (
            "DevOpsMembership",
            membership(
                json!({"groupRef": {"name": "g"}}),
                json!([{"user": "a@b.c", "entraUser": GUID}]),
            ),
            "each member must set exactly one",
        ),
        (
            "DevOpsMembership",
            membership(
                json!({"groupRef": {"name": "g"}}),
                json!([{"user": "not-an-upn"}]),
            ),
            "spec.members[0].user",
        ),
        (
            "DevOpsMembership",
            membership(
                json!({"groupRef": {"name": "g"}}),
                json!([{"servicePrincipal": "x"}]),
            ),
            "spec.members[0].servicePrincipal",
        ),
        (
            "DevOpsMembership",
            json!({"organizationRef": {"name": "c"}, "group": {"groupRef": {"name": "g"}}, "mode": "Sometimes"}),
            "Unsupported value: \"Sometimes\"",
        ),
        (
            "PipelineResourceAuthorization",
            authorization(json!({"type": "queue"}), json!([{"id": 1}])),
            "resource must set exactly one of id or name",
        ),
        (
            "PipelineResourceAuthorization",
            authorization(json!({"type": "queue", "id": "abc"}), json!([{"id": 1}])),
            "must be an integer",
        ),
        (
            "PipelineResourceAuthorization",
            authorization(json!({"type": "endpoint", "id": "12"}), json!([{"id": 1}])),
            "must be a GUID",
        ),
        (
            "PipelineResourceAuthorization",
            authorization(
                json!({"type": "queue", "name": "q", "project": "Other"}),
                json!([{"id": 1}]),
            ),
            "only to repositories",
        ),
        (
            "PipelineResourceAuthorization",
            authorization(json!({"type": "pool", "name": "q"}), json!([{"id": 1}])),
            "Unsupported value: \"pool\"",
        ),
        (
            "PipelineResourceAuthorization",
            authorization(json!({"type": "queue", "id": "1"}), json!([])),
            "list pipelines or set allPipelines",
        ),
        (
            "PipelineResourceAuthorization",
            authorization(
                json!({"type": "queue", "id": "1"}),
                json!([{"id": 1, "name": "x"}]),
            ),
            "each pipeline must set exactly one of id or name",
        ),
        (
            "PipelineResourceAuthorization",
            authorization(
                json!({"type": "queue", "id": "1"}),
                json!([{"id": 1, "path": "\\x"}]),
            ),
            "path applies only with name",
        ),
        (
            "PipelineResourceAuthorization",
            authorization(json!({"type": "queue", "id": "1"}), json!([{"id": 0}])),
            "spec.pipelines[0].id",
        ),
    ]
}

async fn create(client: &kube::Client, doc: &Value) -> Result<DynamicObject, kube::Error> {
    let obj: DynamicObject = serde_json::from_value(doc.clone()).expect("object");
    let api = api_for(client, &obj).expect("api");
    api.create(&PostParams::default(), &obj).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_rule_rejects_what_it_should_with_its_message() -> TestResult {
    let cp = support::shared().await?;
    cp.install_crds(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("crds"))
        .await?;
    let ns = cp.new_namespace("admission").await?;
    let client = cp.client().await?;
    let mut failures = Vec::new();
    for (i, (kind, spec, expected)) in invalid_cases().into_iter().enumerate() {
        let doc = object(kind, &ns, &format!("bad-{ns}-{i}"), spec.clone());
        match create(&client, &doc).await {
            Ok(_) => failures.push(format!("#{i} {kind} {spec} was accepted")),
            Err(kube::Error::Api(status)) => {
                if status.code != 422 || !status.message.contains(expected) {
                    failures.push(format!(
                        "#{i} {kind}: expected 422 with {expected:?}, got {} {}",
                        status.code, status.message
                    ));
                }
            }
            Err(other) => failures.push(format!("#{i} {kind}: {other}")),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn identity_fields_are_immutable_and_the_rest_is_not() -> TestResult {
    let cp = support::shared().await?;
    cp.install_crds(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("crds"))
        .await?;
    let ns = cp.new_namespace("immutable").await?;
    let client = cp.client().await?;
    let cases = [
        (
            "DevOpsGroup",
            group(json!({"displayName": "A", "project": "P"})),
            json!({"project": "Q"}),
            "project is immutable",
        ),
        (
            "DevOpsGroup",
            group(json!({"displayName": "A", "project": "P"})),
            json!({"project": null}),
            "project is immutable",
        ),
        (
            "DevOpsGroup",
            group(json!({"displayName": "A"})),
            json!({"organizationRef": {"name": "other"}}),
            "organizationRef is immutable",
        ),
        (
            "DevOpsGroup",
            group(json!({"entraGroup": {"objectId": GUID}})),
            json!({"entraGroup": {"mailAddress": "a@b.c", "objectId": null}}),
            "entraGroup is immutable",
        ),
        (
            "DevOpsMembership",
            membership(json!({"principalName": "[P]\\A"}), json!([])),
            json!({"group": {"principalName": "[P]\\B"}}),
            "group is immutable",
        ),
        (
            "PipelineResourceAuthorization",
            authorization(json!({"type": "queue", "id": "1"}), json!([{"id": 1}])),
            json!({"resource": {"type": "queue", "id": "2"}}),
            "resource is immutable",
        ),
        (
            "PipelineResourceAuthorization",
            authorization(json!({"type": "queue", "id": "1"}), json!([{"id": 1}])),
            json!({"project": "Other"}),
            "project is immutable",
        ),
    ];
    for (i, (kind, spec, change, expected)) in cases.into_iter().enumerate() {
        let name = format!("imm-{i}");
        let doc = object(kind, &ns, &name, spec);
        let created = create(&client, &doc).await?;
        let api = api_for(&client, &created)?;
        let err = api
            .patch(
                &name,
                &PatchParams::default(),
                &Patch::Merge(json!({"spec": change})),
            )
            .await
            .expect_err(&format!("#{i} {kind}: the change must be refused"));
        let kube::Error::Api(status) = err else {
            panic!("#{i}: {err}")
        };
        assert!(
            status.message.contains(expected),
            "#{i} {kind}: {}",
            status.message
        );
    }
    // Mutable fields stay mutable: rename a group, change members and the deletion policy.
    let doc = object(
        "DevOpsGroup",
        &ns,
        "mutable",
        group(json!({"displayName": "A", "project": "P"})),
    );
    let created = create(&client, &doc).await?;
    let api = api_for(&client, &created)?;
    api.patch(
        "mutable",
        &PatchParams::default(),
        &Patch::Merge(
            json!({"spec": {"displayName": "B", "description": "x", "deletionPolicy": "Orphan"}}),
        ),
    )
    .await?;
    Ok(())
}
