//! Projects' pipelines, protected resources by name, and pipeline permissions.

use crate::support::Harness;
use azdo_operator::ado::{
    PermissionResource, PipelinePermission, ResourceKind, ResourcePipelinePermissions,
};

const DEFINITIONS: &str = "/{org}/{project}/_apis/build/definitions";
const PERMISSIONS: &str =
    "/{org}/{project}/_apis/pipelines/pipelinepermissions/{resource_type}/{resource_id}";
const PERMISSIONS_BATCH: &str = "/{org}/{project}/_apis/pipelines/pipelinepermissions";

/// Name lookups are answered from one listing of the project's pipelines; a name it does not
/// hold lists the project again only once the listing is 2 s old.
#[tokio::test]
async fn pipelines_are_found_by_name_and_folder_from_one_listing() {
    let h = Harness::start().await;
    let client = h.pat_client().await;
    let found = client
        .find_pipelines("Storefront", "Storefront-CI", None)
        .await
        .unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].id, 16);
    assert_eq!(found[0].folder, "\\CI");
    assert_eq!(h.count("GET", DEFINITIONS), 1);
    // Folder given in either separator style.
    let in_folder = client
        .find_pipelines(
            "Storefront",
            "storefront-deploy",
            Some("Deploy/Production/"),
        )
        .await
        .unwrap();
    assert_eq!(in_folder.iter().map(|p| p.id).collect::<Vec<_>>(), vec![18]);
    let elsewhere = client
        .find_pipelines("Storefront", "storefront-deploy", Some("\\CI"))
        .await
        .unwrap();
    assert!(elsewhere.is_empty());
    // Root folder; the project named in another case is the same listing.
    let root = client
        .find_pipelines("storefront", "nightly-e2e", Some("\\"))
        .await
        .unwrap();
    assert_eq!(root.iter().map(|p| p.id).collect::<Vec<_>>(), vec![20]);
    assert_eq!(h.count("GET", DEFINITIONS), 1);
    // A name the listing misses, once the listing is older than 2 s: listed again (a pipeline
    // created since would be found).
    tokio::time::sleep(std::time::Duration::from_millis(2_100)).await;
    let missing = client
        .find_pipelines("Storefront", "created-later", None)
        .await
        .unwrap();
    assert!(missing.is_empty());
    assert_eq!(h.count("GET", DEFINITIONS), 2);
    // ... and then a fresh listing: the same miss again costs nothing.
    client
        .find_pipelines("Storefront", "created-later", None)
        .await
        .unwrap();
    assert_eq!(h.count("GET", DEFINITIONS), 2);

    let by_id = client.get_pipeline("Storefront", 17).await.unwrap();
    assert_eq!(by_id.name, "storefront-pr");
    let missing = client.get_pipeline("Storefront", 9999).await.unwrap_err();
    assert!(missing.is_not_found(), "{missing:?}");
    assert_eq!(missing.type_key(), Some("DefinitionNotFoundException"));
}

#[tokio::test]
async fn every_resource_type_is_found_by_name_with_the_id_permissions_use() {
    let h = Harness::start().await;
    let client = h.pat_client().await;
    let cases = [
        (ResourceKind::Queue, "default", "31"),
        (ResourceKind::AgentPool, "linux-x64", "12"),
        (ResourceKind::Environment, "Storefront-Production", "2"),
        (
            ResourceKind::Endpoint,
            "azure-prod",
            "4a3b2c1d-0e9f-4a8b-7c6d-5e4f3a2b1c0d",
        ),
        (ResourceKind::VariableGroup, "storefront-secrets", "6"),
        (
            ResourceKind::SecureFile,
            "signing.pfx",
            "0e9d8c7b-6a5f-4e3d-2c1b-0a9f8e7d6c5b",
        ),
        (
            ResourceKind::Repository,
            "Storefront",
            "3f2a1b0c-4d5e-4f60-8a7b-9c0d1e2f3a4b.9a8b7c6d-5e4f-4a3b-2c1d-0e9f8a7b6c5d",
        ),
    ];
    for (kind, name, id) in cases {
        let found = client
            .find_resource("Storefront", kind, name)
            .await
            .unwrap();
        assert_eq!(found.len(), 1, "{kind}: {found:?}");
        assert_eq!(found[0].kind, kind);
        assert_eq!(found[0].id, id, "{kind}");
        assert!(found[0].name.eq_ignore_ascii_case(name));
        let missing = client
            .find_resource("Storefront", kind, "does-not-exist")
            .await
            .unwrap();
        assert!(missing.is_empty(), "{kind}: {missing:?}");
    }
    // One call per lookup (14 lookups, no paging at this size), except the environments'
    // miss: the project's listing of environments answered both lookups.
    let total: u64 = h.sim.control().requests().total;
    assert_eq!(total, 13);
    assert_eq!(
        h.count("GET", "/{org}/{project}/_apis/distributedtask/environments"),
        1
    );
}

#[tokio::test]
async fn pipeline_permissions_are_read_updated_and_revoked() {
    let h = Harness::start().await;
    let client = h.pat_client().await;
    let queue = client
        .pipeline_permissions("Storefront", ResourceKind::Queue, "31")
        .await
        .unwrap();
    assert!(queue.is_authorized(16) && queue.is_authorized(17) && !queue.is_authorized(18));

    let update = ResourcePipelinePermissions {
        resource: PermissionResource::new(ResourceKind::Queue, "31"),
        pipelines: vec![
            PipelinePermission::new(18, true),
            PipelinePermission::new(16, false),
        ],
        all_pipelines: None,
    };
    let merged = client
        .update_pipeline_permissions("Storefront", &update)
        .await
        .unwrap();
    assert!(merged.is_authorized(18) && merged.is_authorized(17) && !merged.is_authorized(16));
    let entry = merged.pipelines.iter().find(|p| p.id == 18).unwrap();
    assert!(
        entry.authorized_by.is_some() && entry.authorized_on.is_some(),
        "{entry:?}"
    );
    assert_eq!(h.count("PATCH", PERMISSIONS), 1);

    let read_back = client
        .pipeline_permissions("Storefront", ResourceKind::Queue, "31")
        .await
        .unwrap();
    assert!(read_back.is_authorized(18) && !read_back.is_authorized(16));
}

#[tokio::test]
async fn many_resources_are_updated_in_one_batch_call() {
    let h = Harness::start().await;
    let client = h.pat_client().await;
    let repository = client
        .find_resource("Storefront", ResourceKind::Repository, "storefront")
        .await
        .unwrap()
        .remove(0);
    let updates = vec![
        ResourcePipelinePermissions {
            resource: PermissionResource::new(ResourceKind::Environment, "2"),
            pipelines: vec![PipelinePermission::new(18, true)],
            all_pipelines: None,
        },
        ResourcePipelinePermissions {
            resource: PermissionResource::new(ResourceKind::Repository, repository.id.clone()),
            pipelines: vec![
                PipelinePermission::new(16, true),
                PipelinePermission::new(17, true),
            ],
            all_pipelines: None,
        },
    ];
    let results = client
        .update_pipeline_permissions_batch("Storefront", &updates)
        .await
        .unwrap();
    assert_eq!(h.count("PATCH", PERMISSIONS_BATCH), 1);
    assert_eq!(results.len(), 2);
    let environment = results
        .iter()
        .find(|r| r.resource.resource_kind() == Some(ResourceKind::Environment))
        .unwrap();
    assert!(environment.is_authorized(18));
    let repo = results
        .iter()
        .find(|r| r.resource.resource_kind() == Some(ResourceKind::Repository))
        .unwrap();
    assert_eq!(repo.resource.id, repository.id);
    assert!(repo.is_authorized(16) && repo.is_authorized(17));
    assert!(client
        .update_pipeline_permissions_batch("Storefront", &[])
        .await
        .unwrap()
        .is_empty());
    assert_eq!(
        h.count("PATCH", PERMISSIONS_BATCH),
        1,
        "an empty batch sends nothing"
    );
}

#[tokio::test]
async fn check_access_is_one_cheap_read() {
    let h = Harness::start().await;
    let client = h.pat_client().await;
    client.check_access().await.unwrap();
    assert_eq!(h.count("GET", "/{org}/_apis/projects"), 1);
    assert_eq!(h.sim.control().requests().total, 1);
}
