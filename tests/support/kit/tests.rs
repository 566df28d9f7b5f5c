//! The kit's own checks, without a control plane: they run in every binary that includes the
//! kit (the e2e tests and hack/'s examples, so `make unit-test` runs them).

use azdo_operator::api::{DevOpsGroup, DevOpsMembership, PipelineResourceAuthorization};
use kube::api::DynamicObject;
use kube::ResourceExt;

use super::delete::install_rank;
use super::fixtures::{target_ref, users};
use super::objects::{kind_of, reference, resource_of};
use super::{crd_count, typed, Fixtures, Ready, ToObject};

fn fixtures() -> Fixtures {
    Fixtures::new("team-x", "https://sim/contoso", "https://vssps.sim/contoso")
}

fn with_status(
    mut obj: DynamicObject,
    generation: i64,
    status: serde_json::Value,
) -> DynamicObject {
    obj.metadata.generation = Some(generation);
    obj.data["status"] = status;
    obj
}

#[test]
fn ready_is_parsed_from_the_conditions_with_its_generation() {
    let group = fixtures().group("g", "G").object();
    let condition = |status: &str| {
        serde_json::json!({"observedGeneration": 2, "conditions": [
            {"type": "Other", "status": "True", "reason": "X", "message": "",
             "lastTransitionTime": "2024-01-01T00:00:00Z"},
            {"type": "Ready", "status": status, "reason": "ProjectNotFound",
             "message": "no project", "lastTransitionTime": "2024-01-01T00:00:00Z"}]})
    };
    let ready = Ready::of(&with_status(group.clone(), 2, condition("False"))).expect("Ready");
    assert_eq!(
        (
            ready.status.as_str(),
            ready.reason.as_str(),
            ready.message.as_str()
        ),
        ("False", "ProjectNotFound", "no project")
    );
    assert!(ready.current && ready.is("False") && !ready.is_true());
    let stale = Ready::of(&with_status(group.clone(), 3, condition("True"))).expect("Ready");
    assert!(
        !stale.current && !stale.is_true(),
        "observed 2 of generation 3"
    );
    assert_eq!(Ready::of(&group), None, "no status, no condition");
}

#[test]
fn deletion_goes_dependants_first_and_organizations_last() {
    let fx = fixtures();
    let rank = |obj: &DynamicObject| install_rank(kind_of(obj));
    let org = fx.cluster_organization().object();
    let group = fx.group("g", "G").object();
    let membership = fx
        .membership("m", target_ref("g"), users(&["a@b.c"]))
        .object();
    let authorization = reference::<PipelineResourceAuthorization>(Some("team-x"), "a");
    assert!(
        rank(&membership) > rank(&group),
        "memberships before groups"
    );
    assert!(
        rank(&authorization) > rank(&group),
        "authorizations before groups"
    );
    assert!(rank(&group) > rank(&org), "groups before organizations");
    let namespaced_org = fx
        .organization("o", super::fixtures::workload_identity())
        .object();
    assert!(rank(&group) > rank(&namespaced_org));
}

#[test]
fn fixtures_are_the_crate_types_pointed_at_the_test() {
    let fx = fixtures();
    let group = fx.group("g", "Display").object();
    assert_eq!(kind_of(&group), "DevOpsGroup");
    assert_eq!(group.namespace().as_deref(), Some("team-x"));
    let back: DevOpsGroup = typed(&group).expect("a DevOpsGroup");
    assert_eq!(back.spec.display_name.as_deref(), Some("Display"));
    assert_eq!(back.spec.project.as_deref(), Some("Storefront"));
    let org = fx.cluster_organization();
    assert_eq!(org.namespace(), None);
    assert_eq!(
        org.spec.allowed_namespaces.map(|a| a.names),
        Some(vec!["team-x".to_string()])
    );
    let membership: DevOpsMembership = typed(
        &fx.membership("m", target_ref("g"), users(&["a@b.c"]))
            .object(),
    )
    .expect("typed");
    assert_eq!(membership.spec.members[0].key(), "user:a@b.c");
}

#[test]
fn every_kind_has_its_plural_from_its_crd() {
    assert_eq!(crd_count(), azdo_operator::api::all_crds().len());
    assert_eq!(
        resource_of("PipelineResourceAuthorization").map(|r| r.plural),
        Some("pipelineresourceauthorizations".to_string())
    );
    assert!(resource_of("Deployment").is_none());
}

#[test]
fn samples_are_localized_to_the_test() {
    let fx = fixtures();
    let samples = fx.samples().expect("config/samples");
    let kinds: std::collections::BTreeSet<&str> = samples.iter().map(kind_of).collect();
    let crd_kinds: std::collections::BTreeSet<String> = azdo_operator::api::all_crds()
        .into_iter()
        .map(|crd| crd.spec.names.kind)
        .collect();
    assert_eq!(
        kinds,
        crd_kinds.iter().map(String::as_str).collect(),
        "a sample of every kind"
    );
    for sample in &samples {
        match kind_of(sample) {
            "ClusterDevOpsOrganization" => {
                assert_eq!(sample.namespace(), None);
                let grants = sample.data["spec"]["grants"].as_array().expect("grants");
                assert!(
                    !grants.is_empty(),
                    "the sample organization grants something"
                );
                for grant in grants {
                    assert_eq!(
                        grant["namespaces"],
                        serde_json::json!({"names": ["team-x"]})
                    );
                }
            }
            kind => assert_eq!(sample.namespace().as_deref(), Some("team-x"), "{kind}"),
        }
        if kind_of(sample).ends_with("DevOpsOrganization") {
            assert_eq!(sample.data["spec"]["url"], "https://sim/contoso");
            assert_eq!(sample.data["spec"]["graphUrl"], "https://vssps.sim/contoso");
        }
    }
}

#[test]
fn the_storefront_grant_is_the_samples_grant() {
    let fx = fixtures();
    let samples = fx.samples().expect("config/samples");
    let org = samples
        .iter()
        .find(|s| kind_of(s) == "ClusterDevOpsOrganization")
        .expect("a sample organization");
    let ours = fx
        .cluster_organization_granting(vec![super::fixtures::storefront_grant(&["team-x"])])
        .object();
    assert_eq!(ours.data["spec"]["grants"], org.data["spec"]["grants"]);
    assert!(ours.data["spec"].get("allowedNamespaces").is_none());
}
