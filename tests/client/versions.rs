//! api-versions: released resources are called with the plain released version, so a service
//! that has switched off previews of released versions still answers every call.

use crate::support::{Harness, ORG};
use azdo_operator::ado::ResourceKind;
use azdo_sim::{Behaviours, SimOptions};

fn refusing_released_previews() -> SimOptions {
    SimOptions {
        behaviours: Some(Behaviours {
            refuse_released_preview: true,
            ..Behaviours::default()
        }),
        ..SimOptions::default()
    }
}

/// Every lookup on a released resource (queues, pools, environments, endpoints, variable
/// groups, repositories, build definitions, projects, descriptors, storage keys) works when the
/// simulator refuses `-preview` on released versions; a preview resource (secure files, Graph)
/// still works with its preview.
#[tokio::test]
async fn released_resources_get_plain_versions() {
    let h = Harness::with_options(refusing_released_previews()).await;
    let client = h.pat_client().await;
    for (kind, name) in [
        (ResourceKind::Queue, "Default"),
        (ResourceKind::AgentPool, "Default"),
        (ResourceKind::Environment, "storefront-staging"),
        (ResourceKind::Endpoint, "azure-prod"),
        (ResourceKind::VariableGroup, "storefront-common"),
        (ResourceKind::SecureFile, "signing.pfx"),
        (ResourceKind::Repository, "storefront"),
    ] {
        let found = client
            .find_resource("Storefront", kind, name)
            .await
            .unwrap_or_else(|e| panic!("{kind} {name}: {e}"));
        assert_eq!(found.len(), 1, "{kind} {name}");
    }
    assert_eq!(
        client
            .find_pipelines("Storefront", "storefront-ci", None)
            .await
            .unwrap()
            .len(),
        1
    );
    let scope = client.project_scope_descriptor("Storefront").await.unwrap();
    assert!(scope.starts_with("scp."), "{scope}");
    let group = client
        .find_group(Some(&scope), "Readers")
        .await
        .unwrap()
        .expect("Storefront's Readers");
    let key = client.storage_key(&group.descriptor).await.unwrap();
    assert_eq!(key.len(), 36, "{key}");
    client.check_access().await.unwrap();
    assert_eq!(
        h.sim
            .control()
            .requests()
            .count("GET", "/{org}/_apis/projects"),
        1
    );
}

/// The switch is real: a preview of a released resource is refused with 400.
#[tokio::test]
async fn the_simulator_refuses_previews_of_released_versions_when_asked() {
    let h = Harness::with_options(refusing_released_previews()).await;
    let response = h
        .http
        .get(format!(
            "{}/{ORG}/Storefront/_apis/distributedtask/queues?api-version=7.1-preview.1",
            h.sim.dev_url()
        ))
        .basic_auth("", Some(crate::support::OPERATOR_PAT))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 400);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["typeKey"], "VssInvalidPreviewVersionException");
    // A preview number above the resource's version is out of range, switch or not.
    let response = h
        .http
        .get(format!(
            "{}/{ORG}/_apis/graph/groups?api-version=7.1-preview.9",
            h.sim.vssps_url()
        ))
        .basic_auth("", Some(crate::support::OPERATOR_PAT))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 400);
}
