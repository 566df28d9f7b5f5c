//! The transitive containers of a subject (`Memberships?direction=up`, walked breadth-first):
//! nesting found at any depth, cycles walked once, bounded, cached and single-flight.

use crate::support::{Harness, ORG};
use azdo_operator::ado::{AdoClient, MAX_DEPTH};

const UP: &str = "/{org}/_apis/graph/memberships/{subject}";
const GROUP: &str = "/{org}/_apis/graph/groups/{descriptor}";

/// Create organization groups named `names`, each a member of the next; their descriptors.
async fn nested(client: &AdoClient, names: &[&str]) -> Vec<String> {
    let mut descriptors = Vec::new();
    for name in names {
        let group = client.create_group(None, name, None).await.unwrap();
        descriptors.push(group.descriptor);
    }
    for pair in descriptors.windows(2) {
        client.add_member(&pair[0], &pair[1]).await.unwrap();
    }
    descriptors
}

/// A membership written straight into the simulator's state (as Azure DevOps may hold it).
fn inject_membership(h: &Harness, member: &str, container: &str) {
    h.sim.control().with_state(|state| {
        state
            .organization_mut(ORG)
            .expect("organization")
            .memberships
            .insert(azdo_sim::model::subjects::Membership {
                container: container.to_string(),
                member: member.to_string(),
                visible_at: chrono::Utc::now() - chrono::Duration::seconds(1),
            });
    });
}

#[tokio::test]
async fn three_levels_of_nesting_are_found_with_names_and_chain() {
    let h = Harness::start().await;
    let client = h.pat_client().await;
    let groups = nested(&client, &["Team Leaf", "Team Middle", "Team Top"]).await;
    let pca = h.subject("[contoso]\\Project Collection Administrators");
    client
        .add_member(&groups[2], &pca.descriptor)
        .await
        .unwrap();
    h.sim.control().clear_requests();

    let ancestry = client.ancestry(&groups[0]).await.unwrap();
    assert!(!ancestry.truncated);
    let found: Vec<_> = ancestry
        .containers
        .iter()
        .map(|a| (a.principal_name.as_deref().unwrap_or("?"), a.depth))
        .collect();
    assert_eq!(
        found,
        [
            ("[contoso]\\Team Middle", 1),
            ("[contoso]\\Team Top", 2),
            ("[contoso]\\Project Collection Administrators", 3),
        ]
    );
    let chain: Vec<_> = ancestry
        .chain(&pca.descriptor)
        .iter()
        .map(|a| a.descriptor.clone())
        .collect();
    assert_eq!(
        chain,
        [groups[1].clone(), groups[2].clone(), pca.descriptor]
    );
    // One `up` read per group reached (the leaf, 3 above it), one GET per container.
    assert_eq!(h.count("GET", UP), 4);
    assert_eq!(h.count("GET", GROUP), 3);

    // The seeded organization group nested in a project's Project Administrators.
    let platform = h.subject("[contoso]\\Platform Admins");
    let above = client.ancestry(&platform.descriptor).await.unwrap();
    assert!(above
        .containers
        .iter()
        .any(|a| a.principal_name.as_deref() == Some("[Platform]\\Project Administrators")));
}

#[tokio::test]
async fn a_membership_cycle_is_walked_once() {
    let h = Harness::start().await;
    let client = h.pat_client().await;
    let groups = nested(&client, &["Ring A", "Ring B", "Ring C"]).await;
    // C is a member of A: A ⊂ B ⊂ C ⊂ A.
    inject_membership(&h, &groups[2], &groups[0]);
    h.sim.control().clear_requests();

    let ancestry = client.ancestry(&groups[0]).await.unwrap();
    let found: Vec<_> = ancestry
        .containers
        .iter()
        .map(|a| a.descriptor.clone())
        .collect();
    assert_eq!(found, [groups[1].clone(), groups[2].clone()]);
    assert!(!ancestry.truncated);
    assert_eq!(h.count("GET", UP), 3, "each group of the ring read once");
}

#[tokio::test]
async fn a_second_walk_is_served_from_the_cache_and_an_add_is_seen() {
    let h = Harness::start().await;
    let client = h.pat_client().await;
    let groups = nested(&client, &["Cache Leaf", "Cache Top"]).await;
    h.sim.control().clear_requests();

    // Two concurrent walks send the requests of one.
    let (first, second) = tokio::join!(client.ancestry(&groups[0]), client.ancestry(&groups[0]));
    let (first, second) = (first.unwrap(), second.unwrap());
    assert_eq!(first, second);
    assert_eq!(first.containers.len(), 1);
    let (ups, gets) = (h.count("GET", UP), h.count("GET", GROUP));
    assert_eq!((ups, gets), (2, 1));

    let again = client.ancestry(&groups[0]).await.unwrap();
    assert_eq!(again, first);
    assert_eq!(h.count("GET", UP), ups, "served from the cache");
    assert_eq!(h.count("GET", GROUP), gets, "served from the cache");

    // A membership the client adds is seen at once (the containers are read again).
    let auditors = h.subject("[contoso]\\Auditors");
    client
        .add_member(&groups[1], &auditors.descriptor)
        .await
        .unwrap();
    let after = client.ancestry(&groups[0]).await.unwrap();
    assert!(after.get(&auditors.descriptor).is_some(), "{after:?}");
    assert_eq!(after.get(&auditors.descriptor).unwrap().depth, 2);
}

#[tokio::test]
async fn the_walk_is_bounded_in_depth() {
    let h = Harness::start().await;
    let client = h.pat_client().await;
    let names: Vec<String> = (0..MAX_DEPTH + 2).map(|i| format!("Deep {i}")).collect();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let groups = nested(&client, &names).await;

    let ancestry = client.ancestry(&groups[0]).await.unwrap();
    assert!(ancestry.truncated);
    assert_eq!(ancestry.containers.len(), MAX_DEPTH);
    assert_eq!(ancestry.containers.last().unwrap().depth, MAX_DEPTH);

    // Not truncated one level below the bound.
    let within = client.ancestry(&groups[2]).await.unwrap();
    assert!(!within.truncated);
    assert_eq!(within.containers.len(), MAX_DEPTH - 1);
}

#[tokio::test]
async fn a_subject_that_does_not_exist_has_no_containers() {
    let h = Harness::start().await;
    let client = h.pat_client().await;
    let group = client.create_group(None, "Gone Soon", None).await.unwrap();
    client.delete_group(&group.descriptor).await.unwrap();
    let ancestry = client.ancestry(&group.descriptor).await.unwrap();
    assert!(ancestry.containers.is_empty());
    assert_eq!(
        client
            .group_principal_name(&group.descriptor)
            .await
            .unwrap(),
        None
    );
}
