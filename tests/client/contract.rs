//! The wire contract (`docs/contract.md`) held to the code both ways: every request the client
//! makes, driven through every client operation against azdo-sim, matches a row (method, host,
//! route template, api-version, query parameters), every row is called, and every row is a
//! route azdo-sim's catalog serves with the same released/preview status.

use crate::support::{Harness, ORG};
use azdo_operator::ado::{
    CheckSettings, DesiredCheck, EntraGroupKey, PermissionResource, PipelinePermission,
    ResourceKind, ResourcePipelinePermissions, RoleGrantRef, RoleScope,
};
use azdo_sim::http::discovery::catalog::{Host, ENDPOINTS};
use azdo_sim::http::version::ApiVersion;
use azdo_sim::{Behaviours, HostKind, SimOptions};
use std::collections::{BTreeMap, BTreeSet};

const CONTRACT: &str = include_str!("../../docs/contract.md");

#[derive(Debug, Clone)]
struct Row {
    method: String,
    host: String,
    route: String,
    api_version: String,
    spec: String,
    /// name -> always sent
    query: BTreeMap<String, bool>,
}

fn unquote(cell: &str) -> String {
    cell.trim().trim_matches('`').to_string()
}

fn rows() -> Vec<Row> {
    let rows: Vec<Row> = CONTRACT
        .lines()
        .filter(|l| l.starts_with("| ") && !l.starts_with("| method") && !l.starts_with("|---"))
        .map(|line| {
            // `\|` inside a cell is a literal bar, not a separator.
            let line = line.replace("\\|", "\u{1}");
            let cells: Vec<&str> = line.trim().trim_matches('|').split('|').collect();
            assert!(cells.len() >= 7, "a contract row has 7 cells: {line}");
            let query = cells[5]
                .split(',')
                .map(unquote)
                .filter(|q| !q.is_empty())
                .map(|q| match q.strip_suffix('*') {
                    Some(name) => (name.to_string(), true),
                    None => (q, false),
                })
                .collect();
            Row {
                method: unquote(cells[0]),
                host: unquote(cells[1]),
                route: unquote(cells[2]),
                api_version: unquote(cells[3]),
                spec: cells[4].trim().to_string(),
                query,
            }
        })
        .collect();
    assert!(rows.len() >= 30, "the table was read: {} rows", rows.len());
    rows
}

fn key(method: &str, host: &str, route: &str) -> (String, String, String) {
    (method.to_string(), host.to_string(), route.to_string())
}

fn host_name(host: HostKind) -> &'static str {
    match host {
        HostKind::Dev => "dev",
        HostKind::Vssps => "vssps",
        HostKind::Vsaex => "vsaex",
        HostKind::Login => "login",
    }
}

/// Every row is served by azdo-sim's catalog, with the released/preview status its version
/// says, a preview number within the resource's version, and the spec column agreeing.
#[test]
fn every_row_is_a_route_the_simulator_serves_as_the_spec_marks_it() {
    for row in rows() {
        let host = match row.host.as_str() {
            "dev" => Host::Dev,
            "vssps" => Host::Vssps,
            "vsaex" => Host::Vsaex,
            other => panic!("unknown host {other}"),
        };
        let endpoint = ENDPOINTS
            .iter()
            .find(|e| {
                e.served_by(host) && e.path == row.route && e.verb.method().as_str() == row.method
            })
            .unwrap_or_else(|| panic!("azdo-sim does not serve {} {}", row.method, row.route));
        let version = ApiVersion::parse(&row.api_version).expect("a valid api-version");
        assert_eq!(
            version.preview,
            endpoint.location.preview_only(),
            "{} {}: the simulator's released status differs from the contract",
            row.method,
            row.route
        );
        if let Some(n) = version.preview_number {
            assert!(n <= endpoint.location.resource_version, "{}", row.route);
        }
        let spec_says_preview = row.spec.starts_with("none in 7.1")
            || row.spec.contains("Service Principal Entitlements_")
            || [
                "graph.json",
                "pipelinePermissions.json",
                "securityRoles.json",
                "pipelinesChecks.json",
            ]
            .iter()
            .any(|f| row.spec.starts_with(f))
                && !["Descriptors_Get", "Storage Keys_Get"]
                    .iter()
                    .any(|op| row.spec.contains(op));
        assert_eq!(
            version.preview, spec_says_preview,
            "{}: {}",
            row.route, row.spec
        );
    }
}

/// Every client operation, once; the simulator's request log is the client's side of the
/// contract.
#[tokio::test]
async fn every_client_request_matches_a_row_and_every_row_is_called() {
    let h = Harness::with_options(SimOptions {
        behaviours: Some(Behaviours {
            omit_is_deleted: true,
            list_page_size: 2,
            ..Behaviours::default()
        }),
        ..SimOptions::default()
    })
    .await;
    let c = h.pat_client().await;
    c.check_access().await.unwrap();
    let scope = c.project_scope_descriptor("Storefront").await.unwrap();
    c.find_pipelines("Storefront", "storefront-ci", None)
        .await
        .unwrap();
    c.get_pipeline("Storefront", 16).await.unwrap();
    // The whole listings of `export`.
    c.list_projects().await.unwrap();
    c.list_pipelines("Storefront").await.unwrap();
    for kind in ResourceKind::ALL {
        c.list_resources("Storefront", kind).await.unwrap();
    }
    for (kind, name) in [
        (ResourceKind::Queue, "Default"),
        (ResourceKind::AgentPool, "Default"),
        (ResourceKind::Environment, "storefront-staging"),
        (ResourceKind::Endpoint, "azure-prod"),
        (ResourceKind::VariableGroup, "storefront-common"),
        (ResourceKind::SecureFile, "signing.pfx"),
        (ResourceKind::Repository, "storefront"),
    ] {
        c.find_resource("Storefront", kind, name).await.unwrap();
    }
    c.pipeline_permissions("Storefront", ResourceKind::Queue, "31")
        .await
        .unwrap();
    let update = ResourcePipelinePermissions {
        resource: PermissionResource::new(ResourceKind::Queue, "31"),
        pipelines: vec![PipelinePermission::new(16, true)],
        all_pipelines: None,
    };
    c.update_pipeline_permissions("Storefront", &update)
        .await
        .unwrap();
    c.update_pipeline_permissions_batch("Storefront", std::slice::from_ref(&update))
        .await
        .unwrap();
    c.list_groups(Some(&scope)).await.unwrap();
    c.find_group(Some(&scope), "Readers").await.unwrap();
    let group = c
        .create_group(Some(&scope), "Contract Team", None)
        .await
        .unwrap();
    c.get_group(&group.descriptor).await.unwrap();
    c.update_group(&group.descriptor, None, Some("d"))
        .await
        .unwrap();
    let user = c.resolve_user("lee.gu@contoso.com").await.unwrap();
    let sp = h
        .sim
        .control()
        .with_state(|s| s.directory.service_principals[0].object_id.to_string());
    c.resolve_service_principal(&sp).await.unwrap();
    c.materialize_entra_group(EntraGroupKey::ObjectId(h.directory_group("QA Team")))
        .await
        .unwrap();
    c.add_member(&user, &group.descriptor).await.unwrap();
    assert!(c.is_member(&user, &group.descriptor).await.unwrap());
    c.list_members(&group.descriptor).await.unwrap();
    c.ancestry(&user).await.unwrap();
    c.remove_member(&user, &group.descriptor).await.unwrap();
    c.lookup_subjects(std::slice::from_ref(&user))
        .await
        .unwrap();
    let storage_key = c.storage_key(&user).await.unwrap();
    assert_eq!(c.descriptor_of(&storage_key).await.unwrap(), user);
    c.delete_group(&group.descriptor).await.unwrap();
    // Resources by id (DevOpsRoleAssignment) and the security roles API.
    for (kind, id) in [
        (ResourceKind::Queue, "31"),
        (ResourceKind::AgentPool, "12"),
        (ResourceKind::Environment, "2"),
        (
            ResourceKind::Endpoint,
            "4a3b2c1d-0e9f-4a8b-7c6d-5e4f3a2b1c0d",
        ),
        (ResourceKind::VariableGroup, "5"),
        (
            ResourceKind::SecureFile,
            "0e9d8c7b-6a5f-4e3d-2c1b-0a9f8e7d6c5b",
        ),
    ] {
        c.resource_by_id("Storefront", kind, id).await.unwrap();
    }
    let project = c.project("Storefront").await.unwrap().id;
    let env = RoleScope::Environment;
    let resource = env.resource_id(Some(&project), "2").unwrap();
    let identity = c.storage_key(&user).await.unwrap();
    c.role_definitions(env).await.unwrap();
    let grant = RoleGrantRef {
        role_name: "User".into(),
        user_id: identity.clone(),
    };
    c.set_role_assignments(env, &resource, std::slice::from_ref(&grant))
        .await
        .unwrap();
    c.role_assignments(env, &resource).await.unwrap();
    c.remove_role_assignments(env, &resource, std::slice::from_ref(&identity))
        .await
        .unwrap();
    c.set_role_assignments(env, &resource, std::slice::from_ref(&grant))
        .await
        .unwrap();
    c.remove_role_assignment(env, &resource, &identity)
        .await
        .unwrap();
    c.set_role_inheritance(env, &resource, false).await.unwrap();
    // Check configurations.
    let lock = DesiredCheck {
        settings: CheckSettings::ExclusiveLock,
        timeout: 60,
    };
    let check = c
        .create_check("Storefront", ResourceKind::Environment, "2", &lock)
        .await
        .unwrap();
    c.check_configurations("Storefront", ResourceKind::Environment, "2")
        .await
        .unwrap();
    let longer = DesiredCheck {
        timeout: 120,
        ..lock
    };
    c.update_check(
        "Storefront",
        check.id,
        ResourceKind::Environment,
        "2",
        &longer,
    )
    .await
    .unwrap();
    c.delete_check("Storefront", check.id).await.unwrap();
    crate::entitlements::drive_every_operation(&h, &c).await;

    let rows = rows();
    let by_key: BTreeMap<_, _> = rows
        .iter()
        .map(|r| (key(&r.method, &r.host, &r.route), r))
        .collect();
    let mut called = BTreeSet::new();
    for record in h.sim.control().requests().requests {
        let k = key(&record.method, host_name(record.host), &record.route);
        let row = by_key.get(&k).unwrap_or_else(|| {
            panic!("the client called {k:?}, which the contract does not list ({ORG})")
        });
        let params: BTreeMap<String, String> =
            reqwest::Url::parse(&format!("https://x/?{}", record.query))
                .expect("a query")
                .query_pairs()
                .into_owned()
                .collect();
        assert_eq!(
            params.get("api-version"),
            Some(&row.api_version),
            "{k:?} was called with another api-version"
        );
        for name in params.keys() {
            assert!(
                name == "api-version"
                    || name == "continuationToken"
                    || row.query.contains_key(name),
                "{k:?} sent `{name}`, which the contract does not list"
            );
        }
        for (name, always) in &row.query {
            assert!(!always || params.contains_key(name), "{k:?} lacks `{name}`");
        }
        called.insert(k);
    }
    let never: Vec<_> = by_key.keys().filter(|k| !called.contains(*k)).collect();
    assert!(never.is_empty(), "rows the client never called: {never:?}");
}
