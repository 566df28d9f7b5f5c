//! Graph operations: groups, subjects, memberships, descriptors, with their call counts.

use crate::support::{Harness, ORG};
use azdo_operator::ado::{AdoError, EntraGroupKey};
use azdo_sim::{Behaviours, DuplicateGroupCreate, RepeatedMembershipAdd, SimOptions};

const GROUPS: &str = "/{org}/_apis/graph/groups";
const GROUP: &str = "/{org}/_apis/graph/groups/{descriptor}";
const QUERY: &str = "/{org}/_apis/graph/subjectquery";
const MEMBERSHIP: &str = "/{org}/_apis/graph/memberships/{subject}/{container}";

#[tokio::test]
async fn projects_and_scope_descriptors_cost_one_call_each_then_nothing() {
    let h = Harness::start().await;
    let client = h.pat_client().await;
    let project = client.project("storefront").await.unwrap();
    assert_eq!(project.name, "Storefront");
    assert_eq!(project.id, "3f2a1b0c-4d5e-4f60-8a7b-9c0d1e2f3a4b");
    let scope = client.project_scope_descriptor("Storefront").await.unwrap();
    assert!(scope.starts_with("scp."), "{scope}");
    for _ in 0..3 {
        assert_eq!(
            client.project_scope_descriptor("STOREFRONT").await.unwrap(),
            scope
        );
        assert_eq!(client.project(&project.id).await.unwrap(), project);
    }
    assert_eq!(h.count("GET", "/{org}/_apis/projects/{project}"), 1);
    assert_eq!(
        h.count("GET", "/{org}/_apis/graph/descriptors/{storage_key}"),
        1
    );
    let missing = client.project("NoSuchProject").await.unwrap_err();
    assert!(missing.is_not_found(), "{missing:?}");
}

#[tokio::test]
async fn listing_groups_follows_every_page() {
    let h = Harness::start().await;
    let client = h.pat_client().await;
    let all = client.list_groups(None).await.unwrap();
    let expected = h.sim.control().with_state(|s| {
        s.organization(ORG)
            .unwrap()
            .subjects
            .iter()
            .filter(|g| g.is_group() && !g.deleted)
            .count()
    });
    assert_eq!(all.len(), expected);
    // Page size 5 in the default seed: several pages were needed.
    let pages = h.count("GET", GROUPS);
    assert!(
        pages as usize >= expected.div_ceil(5),
        "{pages} pages for {expected} groups"
    );

    let scope = client.project_scope_descriptor("Payments").await.unwrap();
    let payments = client.list_groups(Some(&scope)).await.unwrap();
    assert!(payments.iter().any(|g| g.display_name == "Compliance"));
    assert!(payments.iter().all(|g| g
        .principal_name
        .as_deref()
        .unwrap_or("")
        .starts_with("[Payments]\\")));
}

#[tokio::test]
async fn find_group_is_case_insensitive_scoped_and_costs_one_query() {
    let h = Harness::start().await;
    let client = h.pat_client().await;
    let scope = client.project_scope_descriptor("Storefront").await.unwrap();
    let found = client
        .find_group(Some(&scope), "release APPROVERS")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        found.principal_name.as_deref(),
        Some("[Storefront]\\Release Approvers")
    );
    assert_eq!(h.count("POST", QUERY), 1);
    // A project group is not an organization group of the same name.
    assert!(client
        .find_group(None, "Release Approvers")
        .await
        .unwrap()
        .is_none());
    let org_group = client
        .find_group(None, "platform admins")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        org_group.principal_name.as_deref(),
        Some("[contoso]\\Platform Admins")
    );
    assert!(client
        .find_group(Some(&scope), "Nobody")
        .await
        .unwrap()
        .is_none());
    assert_eq!(h.count("POST", QUERY), 4);
    assert_eq!(h.count("GET", GROUPS), 0, "no listing needed");

    let fetched = client.get_group(&found.descriptor).await.unwrap();
    assert_eq!(fetched, found);
}

#[tokio::test]
async fn create_update_and_delete_a_group() {
    let h = Harness::start().await;
    let client = h.pat_client().await;
    let scope = client.project_scope_descriptor("Storefront").await.unwrap();
    let created = client
        .create_group(Some(&scope), "Deployers", Some("Deploy to production"))
        .await
        .unwrap();
    assert!(created.descriptor.starts_with("vssgp."));
    assert_eq!(created.display_name, "Deployers");
    assert_eq!(created.description.as_deref(), Some("Deploy to production"));
    assert_eq!(
        created.principal_name.as_deref(),
        Some("[Storefront]\\Deployers")
    );
    assert_eq!(h.count("POST", GROUPS), 1);

    let updated = client
        .update_group(&created.descriptor, Some("Deployers Prod"), Some("renamed"))
        .await
        .unwrap();
    assert_eq!(updated.display_name, "Deployers Prod");
    assert_eq!(updated.description.as_deref(), Some("renamed"));
    assert_eq!(h.count("PATCH", GROUP), 1);
    assert_eq!(
        h.subject("[Storefront]\\Deployers Prod")
            .description
            .as_deref(),
        Some("renamed")
    );

    client.delete_group(&created.descriptor).await.unwrap();
    // Deleting again is fine (already gone).
    client.delete_group(&created.descriptor).await.unwrap();
    match client.get_group(&created.descriptor).await {
        Ok(group) => assert!(group.is_deleted, "{group:?}"),
        Err(error) => assert!(error.is_not_found(), "{error:?}"),
    }
    assert!(client
        .find_group(Some(&scope), "Deployers Prod")
        .await
        .unwrap()
        .is_none());
}

async fn duplicate_create_adopts_the_existing_group(behaviour: DuplicateGroupCreate) {
    let h = Harness::with_options(SimOptions {
        behaviours: Some(Behaviours {
            duplicate_group_create: behaviour,
            ..Behaviours::default()
        }),
        ..SimOptions::default()
    })
    .await;
    let client = h.pat_client().await;
    let scope = client.project_scope_descriptor("Storefront").await.unwrap();
    let first = client
        .create_group(Some(&scope), "Operators", None)
        .await
        .unwrap();
    let second = client
        .create_group(Some(&scope), "OPERATORS", None)
        .await
        .unwrap();
    assert_eq!(first.descriptor, second.descriptor);
    assert_eq!(
        h.count("POST", GROUPS),
        2,
        "one POST each, never a blind retry"
    );
    let operators = h.sim.control().with_state(|s| {
        s.organization(ORG)
            .unwrap()
            .subjects
            .iter()
            .filter(|g| g.display_name.eq_ignore_ascii_case("operators") && !g.deleted)
            .count()
    });
    assert_eq!(operators, 1);
}

#[tokio::test]
async fn duplicate_create_answered_with_409_adopts_the_existing_group() {
    duplicate_create_adopts_the_existing_group(DuplicateGroupCreate::Conflict).await;
}

#[tokio::test]
async fn duplicate_create_answered_with_201_adopts_the_existing_group() {
    duplicate_create_adopts_the_existing_group(DuplicateGroupCreate::ReturnExisting).await;
}

#[tokio::test]
async fn entra_groups_are_materialized_by_object_id_or_mail() {
    let h = Harness::start().await;
    let client = h.pat_client().await;
    let object_id = h.directory_group("Release Managers");
    let by_id = client
        .materialize_entra_group(EntraGroupKey::ObjectId(object_id.clone()))
        .await
        .unwrap();
    assert!(by_id.descriptor.starts_with("aadgp."), "{by_id:?}");
    assert_eq!(by_id.origin_id.as_deref(), Some(object_id.as_str()));
    let by_mail = client
        .materialize_entra_group(EntraGroupKey::Mail("release-managers@contoso.com".into()))
        .await
        .unwrap();
    assert_eq!(by_mail.descriptor, by_id.descriptor);
    let unknown = client
        .materialize_entra_group(EntraGroupKey::ObjectId(uuid::Uuid::new_v4().to_string()))
        .await
        .unwrap_err();
    assert!(unknown.is_not_found(), "{unknown:?}");
    assert_eq!(unknown.type_key(), Some("IdentityNotFoundException"));
}

#[tokio::test]
async fn users_and_service_principals_are_resolved_once_then_cached() {
    let h = Harness::start().await;
    let client = h.pat_client().await;
    let by_upn = client
        .resolve_user("Alex.Wilber@contoso.com")
        .await
        .unwrap();
    assert!(by_upn.starts_with("aad."), "{by_upn:?}");
    for _ in 0..3 {
        assert_eq!(
            client
                .resolve_user("alex.wilber@contoso.com")
                .await
                .unwrap(),
            by_upn
        );
    }
    assert_eq!(h.count("POST", "/{org}/_apis/graph/users"), 1);

    let object_id = h.directory_user("alex.wilber@contoso.com");
    let by_oid = client.resolve_entra_user(&object_id).await.unwrap();
    assert_eq!(by_oid, by_upn);
    assert_eq!(h.count("POST", "/{org}/_apis/graph/users"), 2);

    let sp_id = h.directory_service_principal("backup-agent");
    let sp = client.resolve_service_principal(&sp_id).await.unwrap();
    assert!(sp.starts_with("aadsp."), "{sp:?}");
    client.resolve_service_principal(&sp_id).await.unwrap();
    assert_eq!(h.count("POST", "/{org}/_apis/graph/serviceprincipals"), 1);

    let nobody = client.resolve_user("nobody@contoso.com").await.unwrap_err();
    assert!(nobody.is_not_found(), "{nobody:?}");
    assert_eq!(nobody.type_key(), Some("IdentityNotFoundException"));
    // Failures are not cached: the next attempt asks again.
    let users_before = h.count("POST", "/{org}/_apis/graph/users");
    assert!(client.resolve_user("nobody@contoso.com").await.is_err());
    assert_eq!(
        h.count("POST", "/{org}/_apis/graph/users"),
        users_before + 1
    );
}

#[tokio::test]
async fn groups_resolve_by_principal_name_in_every_form() {
    let h = Harness::start().await;
    let client = h.pat_client().await;
    let project = client
        .resolve_group_by_principal_name("[storefront]\\release approvers")
        .await
        .unwrap();
    assert_eq!(
        project.principal_name.as_deref(),
        Some("[Storefront]\\Release Approvers")
    );
    let org = client
        .resolve_group_by_principal_name("[contoso]\\Platform Admins")
        .await
        .unwrap();
    assert_eq!(org.display_name, "Platform Admins");
    let entra = client
        .resolve_group_by_principal_name("[TEAM FOUNDATION]\\Platform Engineers")
        .await
        .unwrap();
    assert!(entra.descriptor.starts_with("aadgp."), "{entra:?}");
    // Cached: no further query.
    let queries = h.count("POST", QUERY);
    client
        .resolve_group_by_principal_name("[Storefront]\\Release Approvers")
        .await
        .unwrap();
    assert_eq!(h.count("POST", QUERY), queries);

    let missing = client
        .resolve_group_by_principal_name("[Storefront]\\Nope")
        .await
        .unwrap_err();
    assert!(missing.is_not_found(), "{missing:?}");
    let malformed = client
        .resolve_group_by_principal_name("Readers")
        .await
        .unwrap_err();
    assert!(
        matches!(malformed, AdoError::InvalidInput(_)),
        "{malformed:?}"
    );
}

#[tokio::test]
async fn subjects_are_looked_up_in_one_batch_and_storage_keys_are_cached() {
    let h = Harness::start().await;
    let client = h.pat_client().await;
    let admins = h.subject("[contoso]\\Platform Admins");
    let sanjay = h.subject("sanjay.shah@contoso.com");
    let descriptors = vec![
        admins.descriptor.clone(),
        sanjay.descriptor.clone(),
        "aad.bm90LWEtcmVhbC1vbmU".to_string(),
    ];
    let found = client.lookup_subjects(&descriptors).await.unwrap();
    assert_eq!(h.count("POST", "/{org}/_apis/graph/subjectlookup"), 1);
    assert_eq!(found.len(), 2, "{found:?}");
    assert_eq!(
        found[&sanjay.descriptor].principal_name.as_deref(),
        Some("sanjay.shah@contoso.com")
    );
    assert_eq!(
        found[&admins.descriptor].display_name.as_deref(),
        Some("Platform Admins")
    );

    let key = client.storage_key(&admins.descriptor).await.unwrap();
    assert_eq!(key, admins.storage_key.to_string());
    assert_eq!(client.storage_key(&admins.descriptor).await.unwrap(), key);
    assert_eq!(
        h.count("GET", "/{org}/_apis/graph/storagekeys/{descriptor}"),
        1
    );
}

async fn membership_round_trip(repeated: RepeatedMembershipAdd) {
    let h = Harness::with_options(SimOptions {
        behaviours: Some(Behaviours {
            repeated_membership_add: repeated,
            ..Behaviours::default()
        }),
        ..SimOptions::default()
    })
    .await;
    let client = h.pat_client().await;
    let approvers = h.subject("[Storefront]\\Release Approvers");
    let members = client.list_members(&approvers.descriptor).await.unwrap();
    let debra = h.subject("debra.berger@contoso.com");
    assert!(members.contains(&debra.descriptor), "{members:?}");
    assert_eq!(members.len(), 2);
    assert_eq!(
        h.count("GET", "/{org}/_apis/graph/memberships/{subject}"),
        1
    );

    let sanjay = client
        .resolve_user("sanjay.shah@contoso.com")
        .await
        .unwrap();
    assert!(!client
        .is_member(&sanjay, &approvers.descriptor)
        .await
        .unwrap());
    client
        .add_member(&sanjay, &approvers.descriptor)
        .await
        .unwrap();
    assert!(h.has_membership(&approvers.descriptor, &sanjay));
    client
        .add_member(&sanjay, &approvers.descriptor)
        .await
        .unwrap();
    assert!(client
        .is_member(&sanjay, &approvers.descriptor)
        .await
        .unwrap());
    assert_eq!(h.count("PUT", MEMBERSHIP), 2);

    client
        .remove_member(&sanjay, &approvers.descriptor)
        .await
        .unwrap();
    assert!(!h.has_membership(&approvers.descriptor, &sanjay));
    client
        .remove_member(&sanjay, &approvers.descriptor)
        .await
        .unwrap();
    assert!(!client
        .is_member(&sanjay, &approvers.descriptor)
        .await
        .unwrap());
    assert_eq!(h.count("DELETE", MEMBERSHIP), 2);
    assert_eq!(h.count("HEAD", MEMBERSHIP), 3);
}

#[tokio::test]
async fn memberships_are_listed_added_checked_and_removed_idempotently() {
    membership_round_trip(RepeatedMembershipAdd::Created).await;
}

#[tokio::test]
async fn repeated_add_answered_with_409_counts_as_done() {
    membership_round_trip(RepeatedMembershipAdd::Conflict).await;
}
