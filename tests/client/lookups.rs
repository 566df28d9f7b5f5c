//! Lookups that saturate or leak: the subject query's 100-result cap, a search that answers
//! groups of other scopes, the 500-key limit of subject lookup, endpoints that are not ready,
//! and paging (with empty pages) on the dev host's paged lists.

use crate::support::{Harness, ORG};
use azdo_operator::ado::{AdoError, ResourceKind};
use azdo_operator::reason::Reason;
use azdo_sim::{Behaviours, SimOptions};

const QUERY: &str = "/{org}/_apis/graph/subjectquery";
const LOOKUP: &str = "/{org}/_apis/graph/subjectlookup";
const GROUPS: &str = "/{org}/_apis/graph/groups";

fn with(behaviours: Behaviours) -> SimOptions {
    SimOptions {
        behaviours: Some(behaviours),
        ..SimOptions::default()
    }
}

/// 105 groups share the prefix of the one looked up, which was created last: the query's 100
/// results do not hold it, so the client lists the scope.
#[tokio::test]
async fn a_principal_name_hidden_by_the_query_cap_is_found_by_listing() {
    let h = Harness::with_options(with(Behaviours {
        graph_page_size: 50,
        ..Behaviours::default()
    }))
    .await;
    let client = h.pat_client().await;
    let scope = client.project_scope_descriptor("Platform").await.unwrap();
    for i in 0..105 {
        client
            .create_group(Some(&scope), &format!("Cap Team {i:03}"), None)
            .await
            .unwrap();
    }
    let target = client
        .create_group(Some(&scope), "Cap Team", None)
        .await
        .unwrap();
    let found = client
        .resolve_group_by_principal_name("[Platform]\\Cap Team")
        .await
        .unwrap();
    assert_eq!(found.descriptor, target.descriptor);
    assert_eq!(h.count("POST", QUERY), 1);
    assert!(h.count("GET", GROUPS) >= 1, "the scope was listed");
}

/// The search answers every project's "Readers": only the one whose domain is the project's
/// is taken, whichever comes first.
#[tokio::test]
async fn a_project_scoped_lookup_takes_only_its_projects_group() {
    let h = Harness::with_options(with(Behaviours {
        subject_query_loose_scope: true,
        ..Behaviours::default()
    }))
    .await;
    let client = h.pat_client().await;
    for project in ["Payments", "Platform", "Storefront"] {
        let id = client.project(project).await.unwrap().id;
        let scope = client.project_scope_descriptor(project).await.unwrap();
        let readers = client
            .find_group(Some(&scope), "Readers")
            .await
            .unwrap()
            .expect("the project's Readers");
        assert_eq!(
            readers.project_id().map(str::to_lowercase),
            Some(id.to_lowercase()),
            "{project}: {readers:?}"
        );
        assert_eq!(
            readers.principal_name.as_deref(),
            Some(format!("[{project}]\\Readers").as_str())
        );
    }
    // The scope's project id came from the scope cache: no storage key calls.
    assert_eq!(
        h.count("GET", "/{org}/_apis/graph/storagekeys/{descriptor}"),
        0
    );
}

/// 1200 descriptors are looked up in batches of at most 500 (the service refuses more).
#[tokio::test]
async fn subject_lookups_are_batched_within_the_500_key_limit() {
    let h = Harness::start().await;
    let client = h.pat_client().await;
    let sanjay = h.subject("sanjay.shah@contoso.com");
    let mut descriptors: Vec<String> = (0..1199)
        .map(|i| format!("aad.bm90LXJlYWwt{i:06}"))
        .collect();
    descriptors.push(sanjay.descriptor.clone());
    let found = client.lookup_subjects(&descriptors).await.unwrap();
    assert_eq!(found.len(), 1);
    assert!(found.contains_key(&sanjay.descriptor));
    assert_eq!(h.count("POST", LOOKUP), 3);
    // The limit is real.
    let keys: Vec<_> = (0..501)
        .map(|i| serde_json::json!({"descriptor": format!("aad.x{i}")}))
        .collect();
    let response = h
        .http
        .post(format!(
            "{}/{ORG}/_apis/graph/subjectlookup?api-version=7.1-preview.1",
            h.sim.vssps_url()
        ))
        .basic_auth("", Some(crate::support::OPERATOR_PAT))
        .json(&serde_json::json!({ "lookupKeys": keys }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 400);
    assert!(response.text().await.unwrap().contains("TF400049"));
}

/// An endpoint that is not ready is only listed with `includeFailed=true`; the client asks for
/// it and reports it as not ready rather than missing.
#[tokio::test]
async fn a_service_endpoint_that_is_not_ready_is_reported_as_such() {
    let h = Harness::start().await;
    h.sim.control().with_state(|state| {
        let project = state
            .organization_mut(ORG)
            .and_then(|org| org.project_mut("Storefront"))
            .expect("Storefront");
        let endpoint = project
            .service_endpoints
            .iter_mut()
            .find(|e| e.name == "azure-staging")
            .expect("azure-staging");
        endpoint.is_ready = false;
    });
    let client = h.pat_client().await;
    let error = client
        .find_resource("Storefront", ResourceKind::Endpoint, "azure-staging")
        .await
        .unwrap_err();
    assert!(matches!(error, AdoError::NotReady(_)), "{error:?}");
    assert_eq!(error.reason(), Reason::ServiceEndpointNotReady);
    assert!(!error.is_transient());
    assert!(error.to_string().contains("azure-staging"), "{error}");
    // A ready one is found as before.
    let ready = client
        .find_resource("Storefront", ResourceKind::Endpoint, "azure-prod")
        .await
        .unwrap();
    assert_eq!(ready.len(), 1);
}

/// With one item per page, the name filters leave most pages empty: the client follows the
/// continuation token through them.
#[tokio::test]
async fn paged_dev_lists_are_followed_through_empty_pages() {
    let h = Harness::with_options(with(Behaviours {
        list_page_size: 1,
        ..Behaviours::default()
    }))
    .await;
    let client = h.pat_client().await;
    let pipelines = client
        .find_pipelines("Storefront", "nightly-e2e", None)
        .await
        .unwrap();
    assert_eq!(pipelines.iter().map(|p| p.id).collect::<Vec<_>>(), vec![20]);
    assert_eq!(
        h.count("GET", "/{org}/{project}/_apis/build/definitions"),
        5
    );
    let environments = client
        .find_resource(
            "Storefront",
            ResourceKind::Environment,
            "storefront-staging",
        )
        .await
        .unwrap();
    assert_eq!(environments.len(), 1);
    assert_eq!(
        h.count("GET", "/{org}/{project}/_apis/distributedtask/environments"),
        2
    );
    let groups = client
        .find_resource(
            "Storefront",
            ResourceKind::VariableGroup,
            "storefront-common",
        )
        .await
        .unwrap();
    assert_eq!(groups.len(), 1);
    assert_eq!(
        h.count(
            "GET",
            "/{org}/{project}/_apis/distributedtask/variablegroups"
        ),
        2
    );
}
