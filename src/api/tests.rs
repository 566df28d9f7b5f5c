//! The API's own tests: the generated CRDs match `crds/`, every sample under `config/samples/`
//! parses, passes the generated OpenAPI schema and the CEL rules, and each CEL rule rejects
//! what it should (client-side; the end-to-end tests prove the same against a real apiserver).

use std::path::{Path, PathBuf};

use kube::core::crd::CustomResourceExt;
use serde::de::DeserializeOwned;
use serde_json::{json, Value};

use super::*;

fn repo_path(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

#[test]
fn crds_directory_matches_the_rust_types() {
    let dir = repo_path("crds");
    let mut expected: Vec<String> = Vec::new();
    for crd in all_crds() {
        let name = crd_file_name(&crd);
        let on_disk = std::fs::read_to_string(dir.join(&name))
            .unwrap_or_else(|e| panic!("crds/{name} missing ({e}): run `make crds`"));
        assert_eq!(
            on_disk,
            crd_yaml(&crd).unwrap(),
            "crds/{name} is stale: run `make crds` and commit the result"
        );
        expected.push(name);
    }
    let mut present: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".yaml"))
        .collect();
    present.sort();
    expected.sort();
    assert_eq!(present, expected, "crds/ holds files no type generates");
}

#[test]
fn every_kind_is_in_the_azdo_category_with_a_short_name_and_ready_column() {
    for crd in all_crds() {
        let names = &crd.spec.names;
        assert_eq!(
            names.categories.as_deref(),
            Some(&["azdo".to_string()][..]),
            "{}",
            names.kind
        );
        assert!(
            names.short_names.as_ref().is_some_and(|s| !s.is_empty()),
            "{}",
            names.kind
        );
        let columns = crd.spec.versions[0]
            .additional_printer_columns
            .clone()
            .unwrap_or_default();
        for wanted in ["Ready", "Reason", "Age"] {
            assert!(
                columns.iter().any(|c| c.name == wanted),
                "{} lacks column {wanted}",
                names.kind
            );
        }
        assert!(crd.spec.versions[0]
            .subresources
            .as_ref()
            .and_then(|s| s.status.as_ref())
            .is_some());
    }
}

/// The OpenAPI schema of a kind, as a JSON Schema validator.
fn schema_validator(
    crd: &k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition,
) -> jsonschema::Validator {
    let schema = serde_json::to_value(
        &crd.spec.versions[0]
            .schema
            .as_ref()
            .unwrap()
            .open_api_v3_schema,
    )
    .unwrap();
    jsonschema::validator_for(&schema).expect("the generated schema is valid JSON Schema")
}

/// Every key the input sets must survive a round trip through the Rust type (catches typos
/// and fields the types do not know, which the apiserver would silently prune).
fn assert_no_unknown_fields(input: &Value, typed: &Value, path: &str) {
    match (input, typed) {
        (Value::Object(a), Value::Object(b)) => {
            for (k, v) in a {
                let child = format!("{path}.{k}");
                let other = b.get(k).unwrap_or_else(|| panic!("unknown field {child}"));
                assert_no_unknown_fields(v, other, &child);
            }
        }
        (Value::Array(a), Value::Array(b)) => {
            assert_eq!(a.len(), b.len(), "{path}");
            for (i, (x, y)) in a.iter().zip(b).enumerate() {
                assert_no_unknown_fields(x, y, &format!("{path}[{i}]"));
            }
        }
        _ => {}
    }
}

fn check_sample<K>(doc: &Value, file: &str)
where
    K: DeserializeOwned + serde::Serialize + CustomResourceExt,
{
    let typed: K = serde_json::from_value(doc.clone()).unwrap_or_else(|e| panic!("{file}: {e}"));
    let back = serde_json::to_value(&typed).unwrap();
    assert_no_unknown_fields(&doc["spec"], &back["spec"], &format!("{file}: spec"));
    let validator = schema_validator(&K::crd());
    let errors: Vec<String> = validator
        .iter_errors(&back)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{file} fails the schema: {errors:?}");
}

fn samples() -> Vec<(String, Value)> {
    let dir = repo_path("config/samples");
    let mut out = Vec::new();
    let mut entries: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for path in entries {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if name == "kustomization.yaml" || !name.ends_with(".yaml") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        for doc in serde_yaml::Deserializer::from_str(&text) {
            let value: Value = serde::Deserialize::deserialize(doc).unwrap();
            out.push((name.clone(), value));
        }
    }
    out
}

#[test]
fn every_sample_parses_and_validates() {
    let samples = samples();
    let mut kinds: Vec<&str> = Vec::new();
    for (file, doc) in &samples {
        assert_eq!(doc["apiVersion"], "azdo.io/v1alpha1", "{file}");
        let kind = doc["kind"].as_str().unwrap();
        match kind {
            "ClusterDevOpsOrganization" => {
                check_sample::<ClusterDevOpsOrganization>(doc, file);
                let o: ClusterDevOpsOrganization = serde_json::from_value(doc.clone()).unwrap();
                o.validate_cel().unwrap_or_else(|e| panic!("{file}: {e:?}"));
            }
            "DevOpsOrganization" => {
                check_sample::<DevOpsOrganization>(doc, file);
                let o: DevOpsOrganization = serde_json::from_value(doc.clone()).unwrap();
                o.validate_cel().unwrap_or_else(|e| panic!("{file}: {e:?}"));
            }
            "DevOpsGroup" => {
                check_sample::<DevOpsGroup>(doc, file);
                let o: DevOpsGroup = serde_json::from_value(doc.clone()).unwrap();
                o.validate_cel().unwrap_or_else(|e| panic!("{file}: {e:?}"));
            }
            "DevOpsMembership" => {
                check_sample::<DevOpsMembership>(doc, file);
                let o: DevOpsMembership = serde_json::from_value(doc.clone()).unwrap();
                o.validate_cel().unwrap_or_else(|e| panic!("{file}: {e:?}"));
            }
            "PipelineResourceAuthorization" => {
                check_sample::<PipelineResourceAuthorization>(doc, file);
                let o: PipelineResourceAuthorization = serde_json::from_value(doc.clone()).unwrap();
                o.validate_cel().unwrap_or_else(|e| panic!("{file}: {e:?}"));
            }
            "DevOpsRoleAssignment" => {
                check_sample::<DevOpsRoleAssignment>(doc, file);
                let o: DevOpsRoleAssignment = serde_json::from_value(doc.clone()).unwrap();
                o.validate_cel().unwrap_or_else(|e| panic!("{file}: {e:?}"));
            }
            "PipelineResourceCheck" => {
                check_sample::<PipelineResourceCheck>(doc, file);
                let o: PipelineResourceCheck = serde_json::from_value(doc.clone()).unwrap();
                o.validate_cel().unwrap_or_else(|e| panic!("{file}: {e:?}"));
            }
            "DevOpsEntitlement" => {
                check_sample::<DevOpsEntitlement>(doc, file);
                let o: DevOpsEntitlement = serde_json::from_value(doc.clone()).unwrap();
                o.validate_cel().unwrap_or_else(|e| panic!("{file}: {e:?}"));
            }
            other => panic!("{file}: unexpected kind {other}"),
        }
        kinds.push(kind);
    }
    for crd in all_crds() {
        assert!(
            kinds.contains(&crd.spec.names.kind.as_str()),
            "no sample for {}",
            crd.spec.names.kind
        );
    }
}

/// Runs the CEL rules of a kind on an object (and an old one, for transition rules) and
/// returns the error text, or "" when it passes.
macro_rules! cel {
    ($kind:ty, $obj:expr) => {{
        let o: $kind = serde_json::from_value($obj).expect("deserializes");
        match o.validate_cel() {
            Ok(()) => String::new(),
            Err(e) => format!("{e:?}"),
        }
    }};
    ($kind:ty, $obj:expr, $old:expr) => {{
        let o: $kind = serde_json::from_value($obj).expect("deserializes");
        let old: $kind = serde_json::from_value($old).expect("deserializes");
        match o.validate_cel_update(&old) {
            Ok(()) => String::new(),
            Err(e) => format!("{e:?}"),
        }
    }};
}

fn obj(kind: &str, spec: Value) -> Value {
    json!({"apiVersion": "azdo.io/v1alpha1", "kind": kind, "metadata": {"name": "x", "namespace": "ns"}, "spec": spec})
}

fn org_spec(auth: Value) -> Value {
    json!({"url": "https://dev.azure.com/contoso", "auth": auth})
}

#[test]
fn organization_rules_reject_what_they_should() {
    let two_methods =
        json!({"workloadIdentity": {}, "pat": {"secretRef": {"name": "s", "namespace": "n"}}});
    assert!(cel!(
        ClusterDevOpsOrganization,
        obj("ClusterDevOpsOrganization", org_spec(two_methods))
    )
    .contains("exactly one of workloadIdentity"));
    assert!(cel!(
        ClusterDevOpsOrganization,
        obj("ClusterDevOpsOrganization", org_spec(json!({})))
    )
    .contains("exactly one of workloadIdentity"));
    let pat_no_ns = json!({"pat": {"secretRef": {"name": "s"}}});
    assert!(cel!(
        ClusterDevOpsOrganization,
        obj("ClusterDevOpsOrganization", org_spec(pat_no_ns.clone()))
    )
    .contains("namespace is required"));
    assert_eq!(
        cel!(
            DevOpsOrganization,
            obj("DevOpsOrganization", org_spec(pat_no_ns))
        ),
        ""
    );
    let mi = json!({"managedIdentity": {}});
    assert_eq!(
        cel!(
            ClusterDevOpsOrganization,
            obj("ClusterDevOpsOrganization", org_spec(mi.clone()))
        ),
        ""
    );
    assert!(
        cel!(DevOpsOrganization, obj("DevOpsOrganization", org_spec(mi)))
            .contains("cannot use managedIdentity")
    );
    let own_wi = json!({"workloadIdentity": {}});
    assert!(cel!(
        DevOpsOrganization,
        obj("DevOpsOrganization", org_spec(own_wi))
    )
    .contains("must set workloadIdentity.serviceAccountRef"));
    let foreign_sa =
        json!({"workloadIdentity": {"serviceAccountRef": {"name": "azdo", "namespace": "other"}}});
    assert!(cel!(
        DevOpsOrganization,
        obj("DevOpsOrganization", org_spec(foreign_sa))
    )
    .contains("serviceAccountRef.namespace cannot be set"));
    let foreign_secret = json!({"clientSecret": {"tenantId": "72f988bf-86f1-41af-91ab-2d7cd011db47", "clientId": "72f988bf-86f1-41af-91ab-2d7cd011db47", "secretRef": {"name": "s", "namespace": "other"}}});
    assert!(cel!(
        DevOpsOrganization,
        obj("DevOpsOrganization", org_spec(foreign_secret))
    )
    .contains("secretRef.namespace cannot be set"));
    let bad_guid = json!({"workloadIdentity": {"clientId": "not-a-guid"}});
    assert!(cel!(
        ClusterDevOpsOrganization,
        obj("ClusterDevOpsOrganization", org_spec(bad_guid))
    )
    .contains("clientId must be a GUID"));
    let mut http = org_spec(json!({"workloadIdentity": {}}));
    http["url"] = json!("http://dev.azure.com/contoso");
    assert!(cel!(
        ClusterDevOpsOrganization,
        obj("ClusterDevOpsOrganization", http)
    )
    .contains("url must be https"));
    let mut empty_allowed = org_spec(json!({"workloadIdentity": {}}));
    empty_allowed["allowedNamespaces"] = json!({});
    assert!(cel!(
        ClusterDevOpsOrganization,
        obj("ClusterDevOpsOrganization", empty_allowed)
    )
    .contains("allowedNamespaces needs names or a selector"));
}

fn group_spec(extra: Value) -> Value {
    let mut spec = json!({"organizationRef": {"name": "contoso"}});
    spec.as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    spec
}

#[test]
fn group_rules_reject_what_they_should() {
    let ok = obj(
        "DevOpsGroup",
        group_spec(json!({"displayName": "Team", "project": "P"})),
    );
    assert_eq!(cel!(DevOpsGroup, ok.clone()), "");
    let neither = obj("DevOpsGroup", group_spec(json!({})));
    assert!(cel!(DevOpsGroup, neither).contains("exactly one of displayName"));
    let entra_in_project = obj(
        "DevOpsGroup",
        group_spec(
            json!({"entraGroup": {"objectId": "72f988bf-86f1-41af-91ab-2d7cd011db47"}, "project": "P"}),
        ),
    );
    assert!(cel!(DevOpsGroup, entra_in_project).contains("organization scope"));
    let entra_both = obj(
        "DevOpsGroup",
        group_spec(
            json!({"entraGroup": {"objectId": "72f988bf-86f1-41af-91ab-2d7cd011db47", "mailAddress": "a@b.c"}}),
        ),
    );
    assert!(cel!(DevOpsGroup, entra_both).contains("exactly one of objectId or mailAddress"));
    let moved = obj(
        "DevOpsGroup",
        group_spec(json!({"displayName": "Team", "project": "Q"})),
    );
    assert!(cel!(DevOpsGroup, moved, ok.clone()).contains("project is immutable"));
    let unscoped = obj("DevOpsGroup", group_spec(json!({"displayName": "Team"})));
    assert!(cel!(DevOpsGroup, unscoped, ok.clone()).contains("project is immutable"));
    let mut other_org = ok.clone();
    other_org["spec"]["organizationRef"]["name"] = json!("fabrikam");
    assert!(cel!(DevOpsGroup, other_org, ok.clone()).contains("organizationRef is immutable"));
    let renamed = obj(
        "DevOpsGroup",
        group_spec(json!({"displayName": "Team 2", "project": "P"})),
    );
    assert_eq!(cel!(DevOpsGroup, renamed, ok), "", "renaming is allowed");
}

#[test]
fn membership_rules_reject_what_they_should() {
    let spec = |group: Value, members: Value| {
        obj(
            "DevOpsMembership",
            json!({"organizationRef": {"name": "contoso"}, "group": group, "members": members}),
        )
    };
    let ok = spec(
        json!({"principalName": "[Fabrikam]\\Contributors"}),
        json!([{"user": "a@contoso.com"}]),
    );
    assert_eq!(cel!(DevOpsMembership, ok.clone()), "");
    assert!(cel!(DevOpsMembership, spec(json!({}), json!([])))
        .contains("exactly one of groupRef, principalName or descriptor"));
    assert!(cel!(
        DevOpsMembership,
        spec(json!({"principalName": "Contributors"}), json!([]))
    )
    .contains("principal name looks like"));
    assert!(cel!(
        DevOpsMembership,
        spec(json!({"descriptor": "aad.abc"}), json!([]))
    )
    .contains("starts with vssgp."));
    let two = spec(
        json!({"groupRef": {"name": "g"}}),
        json!([{"user": "a@contoso.com", "entraUser": "72f988bf-86f1-41af-91ab-2d7cd011db47"}]),
    );
    assert!(cel!(DevOpsMembership, two).contains("each member must set exactly one"));
    let other_group = spec(json!({"principalName": "[Fabrikam]\\Readers"}), json!([]));
    assert!(cel!(DevOpsMembership, other_group, ok).contains("group is immutable"));
}

#[test]
fn authorization_rules_reject_what_they_should() {
    let spec = |resource: Value, pipelines: Value| {
        obj(
            "PipelineResourceAuthorization",
            json!({"organizationRef": {"name": "contoso"}, "project": "Fabrikam", "resource": resource, "pipelines": pipelines}),
        )
    };
    let ok = spec(json!({"type": "queue", "id": "7"}), json!([{"id": 3}]));
    assert_eq!(cel!(PipelineResourceAuthorization, ok.clone()), "");
    assert!(cel!(
        PipelineResourceAuthorization,
        spec(json!({"type": "queue"}), json!([{"id": 3}]))
    )
    .contains("exactly one of id or name"));
    assert!(cel!(
        PipelineResourceAuthorization,
        spec(json!({"type": "queue", "id": "abc"}), json!([{"id": 3}]))
    )
    .contains("must be an integer"));
    assert!(cel!(
        PipelineResourceAuthorization,
        spec(json!({"type": "endpoint", "id": "12"}), json!([{"id": 3}]))
    )
    .contains("must be a GUID"));
    assert!(cel!(
        PipelineResourceAuthorization,
        spec(
            json!({"type": "queue", "name": "q", "project": "Other"}),
            json!([{"id": 3}])
        )
    )
    .contains("only to repositories"));
    assert_eq!(
        cel!(
            PipelineResourceAuthorization,
            spec(
                json!({"type": "repository", "name": "r", "project": "Other"}),
                json!([{"id": 3}])
            )
        ),
        ""
    );
    assert!(cel!(
        PipelineResourceAuthorization,
        spec(json!({"type": "queue", "id": "7"}), json!([]))
    )
    .contains("list pipelines or set allPipelines"));
    assert!(cel!(
        PipelineResourceAuthorization,
        spec(
            json!({"type": "queue", "id": "7"}),
            json!([{"id": 3, "name": "x"}])
        )
    )
    .contains("exactly one of id or name"));
    assert!(cel!(
        PipelineResourceAuthorization,
        spec(
            json!({"type": "queue", "id": "7"}),
            json!([{"id": 3, "path": "\\x"}])
        )
    )
    .contains("path applies only with name"));
    let moved = spec(json!({"type": "queue", "id": "8"}), json!([{"id": 3}]));
    assert!(cel!(PipelineResourceAuthorization, moved, ok).contains("resource is immutable"));
}

#[test]
fn role_assignment_rules_reject_what_they_should() {
    let spec = |project: Option<&str>, resource: Value| {
        let mut spec = json!({"organizationRef": {"name": "contoso"}, "resource": resource,
            "assignments": [{"role": "User", "members": [{"user": "a@contoso.com"}]}]});
        if let Some(p) = project {
            spec["project"] = json!(p);
        }
        obj("DevOpsRoleAssignment", spec)
    };
    let ok = spec(
        Some("Storefront"),
        json!({"type": "environment", "name": "prod"}),
    );
    assert_eq!(cel!(DevOpsRoleAssignment, ok.clone()), "");
    assert_eq!(
        cel!(
            DevOpsRoleAssignment,
            spec(None, json!({"type": "agentpool", "id": "9"}))
        ),
        ""
    );
    assert_eq!(
        cel!(
            DevOpsRoleAssignment,
            spec(Some("Storefront"), json!({"type": "library"}))
        ),
        ""
    );
    assert!(cel!(
        DevOpsRoleAssignment,
        spec(None, json!({"type": "environment", "id": "2"}))
    )
    .contains("project is required"));
    assert!(cel!(
        DevOpsRoleAssignment,
        spec(Some("Storefront"), json!({"type": "agentpool", "id": "9"}))
    )
    .contains("must be absent for agentpool"));
    assert!(cel!(
        DevOpsRoleAssignment,
        spec(
            Some("Storefront"),
            json!({"type": "library", "name": "Library"})
        )
    )
    .contains("neither for library"));
    assert!(cel!(
        DevOpsRoleAssignment,
        spec(Some("Storefront"), json!({"type": "environment"}))
    )
    .contains("exactly one of id or name"));
    assert!(cel!(
        DevOpsRoleAssignment,
        spec(Some("Storefront"), json!({"type": "queue", "id": "abc"}))
    )
    .contains("must be an integer"));
    assert!(cel!(
        DevOpsRoleAssignment,
        spec(Some("Storefront"), json!({"type": "endpoint", "id": "12"}))
    )
    .contains("must be a GUID"));
    let moved = spec(
        Some("Storefront"),
        json!({"type": "environment", "name": "other"}),
    );
    assert!(cel!(DevOpsRoleAssignment, moved, ok.clone()).contains("resource is immutable"));
    let mut member = ok.clone();
    member["spec"]["assignments"][0]["members"] =
        json!([{"user": "a@contoso.com", "group": "[P]\\G"}]);
    assert!(cel!(DevOpsRoleAssignment, member).contains("exactly one of user"));
}

#[test]
fn resource_check_rules_reject_what_they_should() {
    let spec = |resource: Value, checks: Value| {
        obj(
            "PipelineResourceCheck",
            json!({"organizationRef": {"name": "contoso"}, "project": "Storefront",
                "resource": resource, "checks": checks}),
        )
    };
    let env = json!({"type": "environment", "name": "prod"});
    let lock = json!({"exclusiveLock": {}});
    let approval =
        json!({"approval": {"approvers": [{"user": "a@contoso.com"}], "minimumApprovers": 1}});
    let ok = spec(env.clone(), json!([lock.clone(), approval.clone()]));
    assert_eq!(cel!(PipelineResourceCheck, ok.clone()), "");
    assert!(cel!(
        PipelineResourceCheck,
        spec(
            json!({"type": "agentpool", "id": "9"}),
            json!([lock.clone()])
        )
    )
    .contains("not on organization agent pools"));
    assert!(cel!(
        PipelineResourceCheck,
        spec(env.clone(), json!([lock.clone(), lock.clone()]))
    )
    .contains("at most one exclusive lock"));
    let two_types =
        json!([{"exclusiveLock": {}, "approval": {"approvers": [{"user": "a@contoso.com"}]}}]);
    assert!(cel!(PipelineResourceCheck, spec(env.clone(), two_types))
        .contains("exactly one of approval"));
    assert!(cel!(PipelineResourceCheck, spec(env.clone(), json!([{}])))
        .contains("exactly one of approval"));
    let too_many =
        json!([{"approval": {"approvers": [{"user": "a@contoso.com"}], "minimumApprovers": 2}}]);
    assert!(cel!(PipelineResourceCheck, spec(env.clone(), too_many))
        .contains("minimumApprovers cannot exceed"));
    let backwards = json!([{"businessHours": {"days": ["Monday"], "start": "18:00", "end": "08:00", "timeZone": "UTC"}}]);
    assert!(cel!(PipelineResourceCheck, spec(env.clone(), backwards))
        .contains("start must be before end"));
    let short = json!([{"branchControl": {"allowedBranches": ["main"]}}]);
    assert!(cel!(PipelineResourceCheck, spec(env.clone(), short)).contains("full refs"));
    let moved = spec(
        json!({"type": "environment", "name": "other"}),
        json!([lock]),
    );
    assert!(cel!(PipelineResourceCheck, moved, ok).contains("resource is immutable"));
}

#[test]
fn entitlement_rules_reject_what_they_should() {
    let spec = |principal: Value, projects: Value| {
        obj(
            "DevOpsEntitlement",
            json!({"organizationRef": {"name": "contoso"}, "principal": principal,
                "accessLevel": "Stakeholder", "projectEntitlements": projects}),
        )
    };
    let ok = spec(
        json!({"user": "a@contoso.com"}),
        json!([{"project": "Storefront", "group": "Contributors"},
               {"project": "Payments", "group": "Custom", "customGroup": "Release Approvers"}]),
    );
    assert_eq!(cel!(DevOpsEntitlement, ok.clone()), "");
    assert!(cel!(
        DevOpsEntitlement,
        spec(
            json!({"user": "a@contoso.com", "groupRef": {"name": "g"}}),
            json!([])
        )
    )
    .contains("exactly one of user"));
    assert!(cel!(DevOpsEntitlement, spec(json!({}), json!([]))).contains("exactly one of user"));
    assert!(cel!(
        DevOpsEntitlement,
        spec(
            json!({"user": "a@contoso.com"}),
            json!([{"project": "Storefront", "group": "Readers"},
                   {"project": "storefront", "group": "Contributors"}])
        )
    )
    .contains("each project appears once"));
    assert!(cel!(
        DevOpsEntitlement,
        spec(
            json!({"user": "a@contoso.com"}),
            json!([{"project": "Storefront", "group": "Custom"}])
        )
    )
    .contains("customGroup is required"));
    assert!(cel!(
        DevOpsEntitlement,
        spec(
            json!({"user": "a@contoso.com"}),
            json!([{"project": "Storefront", "group": "Readers", "customGroup": "x"}])
        )
    )
    .contains("customGroup is required"));
    let other = spec(json!({"user": "b@contoso.com"}), json!([]));
    assert!(cel!(DevOpsEntitlement, other, ok.clone()).contains("principal is immutable"));
    assert_eq!(
        cel!(
            DevOpsEntitlement,
            spec(json!({"group": "[Storefront]\\Team"}), json!([]))
        ),
        ""
    );
    assert!(
        cel!(DevOpsEntitlement, spec(json!({"group": "Team"}), json!([])))
            .contains("principal name")
    );
}
