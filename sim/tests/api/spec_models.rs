//! The simulator's JSON follows the published models: every field it returns for a model is one
//! the 7.1 spec defines for it (or a listed, explained extra), with the spec's JSON type. The
//! field table (`spec_models.txt`) was extracted from Microsoft's published 7.1 REST specs.

use std::collections::{BTreeMap, BTreeSet};

use reqwest::Method;
use serde_json::Value;

use crate::support::{json, Harness, OPERATOR, STOREFRONT_ID};

const MODELS: &str = include_str!("spec_models.txt");

/// Fields azdo-sim sends beyond a published model, and why.
const EXTRAS: &[(&str, &str, &str)] = &[(
    "GraphGroup",
    "isDeleted",
    "in the official SDKs' GraphGroup, not in the published schema (omitIsDeleted drops it)",
)];

fn models() -> BTreeMap<&'static str, BTreeMap<&'static str, &'static str>> {
    let mut models: BTreeMap<_, BTreeMap<_, _>> = BTreeMap::new();
    for line in MODELS
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
    {
        let mut parts = line.split(' ');
        let (Some(model), Some(field), Some(kind)) = (parts.next(), parts.next(), parts.next())
        else {
            panic!("bad model line {line:?}");
        };
        models.entry(model).or_default().insert(field, kind);
    }
    models
}

fn type_matches(kind: &str, value: &Value) -> bool {
    matches!(
        (kind, value),
        (_, Value::Null)
            | ("string", Value::String(_))
            | ("integer" | "number", Value::Number(_))
            | ("boolean", Value::Bool(_))
            | ("object", Value::Object(_))
            | ("array", Value::Array(_))
    )
}

/// The problems of one object against its model.
pub fn check(model: &str, body: &Value, problems: &mut BTreeSet<String>) {
    let models = models();
    let fields = models
        .get(model)
        .unwrap_or_else(|| panic!("no model {model}"));
    let Some(object) = body.as_object() else {
        problems.insert(format!("{model}: not an object: {body}"));
        return;
    };
    for (name, value) in object {
        let extra = EXTRAS.iter().any(|(m, f, _)| *m == model && f == name);
        match fields.get(name.as_str()) {
            Some(kind) if !type_matches(kind, value) => {
                problems.insert(format!("{model}.{name}: {kind} expected, got {value}"));
            }
            Some(_) => {}
            None if extra => {}
            None => {
                problems.insert(format!("{model}.{name}: not in the published model"));
            }
        }
    }
}

#[tokio::test]
async fn returned_models_follow_the_published_field_names_and_types() {
    let h = Harness::start().await;
    let get = |url: String| {
        let request = h
            .client
            .request(Method::GET, url)
            .bearer_auth(h.token(OPERATOR));
        async move { json(request.send().await.unwrap(), 200).await }
    };
    let graph = |path: &str| format!("{}?api-version=7.1-preview.1", h.graph(path));
    let graph_released = |path: &str| format!("{}?api-version=7.1", h.graph(path));
    let core = |path: &str| {
        let sep = if path.contains('?') { '&' } else { '?' };
        format!("{}{sep}api-version=7.1", h.core(path))
    };
    let admins = h.group_descriptor("[contoso]\\Platform Admins").await;
    let mut problems = BTreeSet::new();
    let lists = [
        (graph("groups"), "GraphGroup"),
        (graph("users"), "GraphUser"),
        (graph("serviceprincipals"), "GraphServicePrincipal"),
        (
            format!("{}&direction=down", graph(&format!("memberships/{admins}"))),
            "GraphMembership",
        ),
        (core("_apis/projects"), "TeamProjectReference"),
        (
            core("Storefront/_apis/build/definitions"),
            "BuildDefinitionReference",
        ),
        (core("_apis/distributedtask/pools"), "TaskAgentPool"),
        (
            core("Storefront/_apis/distributedtask/queues"),
            "TaskAgentQueue",
        ),
        (
            core("Storefront/_apis/distributedtask/environments"),
            "EnvironmentInstance",
        ),
        (
            core("Storefront/_apis/distributedtask/variablegroups"),
            "VariableGroup",
        ),
        (
            core("Storefront/_apis/serviceendpoint/endpoints"),
            "ServiceEndpoint",
        ),
        (core("Storefront/_apis/git/repositories"), "GitRepository"),
    ];
    for (url, model) in lists {
        let body = get(url.clone()).await;
        let items = body["value"].as_array().unwrap_or_else(|| panic!("{url}"));
        assert!(!items.is_empty(), "{url} listed nothing");
        for item in items {
            check(model, item, &mut problems);
        }
    }
    let singles = [
        (graph(&format!("groups/{admins}")), "GraphGroup"),
        (
            graph(&format!("membershipstates/{admins}")),
            "GraphMembershipState",
        ),
        (
            graph_released(&format!("descriptors/{STOREFRONT_ID}")),
            "GraphDescriptorResult",
        ),
        (
            graph_released(&format!("storagekeys/{admins}")),
            "GraphStorageKeyResult",
        ),
        (
            core("_apis/projects/Storefront?includeCapabilities=true"),
            "TeamProject",
        ),
        (
            core("_apis/process/processes/adcc42ab-9882-485e-a3ed-7678f01f66bc"),
            "Process",
        ),
        (
            core("Storefront/_apis/build/definitions/16"),
            "BuildDefinition",
        ),
        (
            format!(
                "{}?api-version=7.1-preview.1",
                h.core("Storefront/_apis/pipelines/pipelinepermissions/queue/31")
            ),
            "ResourcePipelinePermissions",
        ),
    ];
    for (url, model) in singles {
        let body = get(url).await;
        check(model, &body, &mut problems);
    }
    assert!(
        problems.is_empty(),
        "fields that differ from the published models:\n{}",
        problems.into_iter().collect::<Vec<_>>().join("\n")
    );
}

#[tokio::test]
async fn check_configurations_follow_the_published_models() {
    let h = Harness::start().await;
    let checks = h.core("Storefront/_apis/pipelines/checks/configurations");
    let sanjay = h.sim.control().with_state(|state| {
        state
            .organization("contoso")
            .and_then(|o| {
                o.subjects
                    .iter()
                    .find(|s| s.principal_name == "sanjay.shah@contoso.com")
            })
            .map(|s| s.storage_key.to_string())
            .expect("a materialized subject")
    });
    let bodies = [
        serde_json::json!({"type": {"id": "8c6f20a7-a545-4486-9777-f762fafe0d4d"},
            "resource": {"type": "environment", "id": "2"},
            "settings": {"approvers": [{"id": sanjay}]}}),
        serde_json::json!({"type": {"id": "fe1de3ee-a436-41b4-bb20-f6eb4cb879a7"},
            "resource": {"type": "environment", "id": "2"},
            "settings": {"definitionRef": {"id": "86b05a0c-73e6-4f7d-b3cf-e38f3b39a75b"},
                "inputs": {"allowedBranches": "refs/heads/main"}}}),
    ];
    let mut problems = BTreeSet::new();
    for body in bodies {
        let created = json(
            h.client
                .post(format!("{checks}?api-version=7.1-preview.1"))
                .bearer_auth(h.token(OPERATOR))
                .json(&body)
                .send()
                .await
                .unwrap(),
            200,
        )
        .await;
        check("GenericCheckConfiguration", &created, &mut problems);
        check("CheckType", &created["type"], &mut problems);
        check("Resource", &created["resource"], &mut problems);
        let settings = &created["settings"];
        if settings.get("approvers").is_some() {
            check("ApprovalConfigSettings", settings, &mut problems);
        } else {
            check("TaskCheckConfig", settings, &mut problems);
            check(
                "TaskCheckDefinitionReference",
                &settings["definitionRef"],
                &mut problems,
            );
        }
    }
    assert!(
        problems.is_empty(),
        "fields that differ from the published models:\n{}",
        problems.into_iter().collect::<Vec<_>>().join("\n")
    );
}
