//! The organization's protection snapshot: protected groups and everything nested in them,
//! read top-down once and shared; a member added to a protected group drops it.

use crate::support::Harness;
use azdo_operator::ado::{AdoClient, Protected, ProtectionPolicy};

const LIST: &str = "/{org}/_apis/graph/groups";
const DOWN: &str = "/{org}/_apis/graph/memberships/{subject}";

fn is_admin_group(name: &str) -> bool {
    let bare = name.rsplit('\\').next().unwrap_or(name);
    bare.eq_ignore_ascii_case("Project Collection Administrators")
        || bare.eq_ignore_ascii_case("Project Administrators")
}

async fn snapshot(client: &AdoClient) -> std::sync::Arc<azdo_operator::ado::ProtectedSet> {
    let policy = ProtectionPolicy {
        key: "admins",
        listed: &is_admin_group,
        source: &is_admin_group,
    };
    client.protected_set(&policy).await.unwrap()
}

#[tokio::test]
async fn nested_groups_are_found_top_down_and_the_snapshot_is_shared() {
    let h = Harness::start().await;
    let client = h.pat_client().await;
    let mut made = Vec::new();
    for name in ["Snap Leaf", "Snap Middle", "Snap Free", "Snap Other"] {
        made.push(
            client
                .create_group(None, name, None)
                .await
                .unwrap()
                .descriptor,
        );
    }
    let pca = h.subject("[contoso]\\Project Collection Administrators");
    client.add_member(&made[0], &made[1]).await.unwrap();
    client.add_member(&made[1], &pca.descriptor).await.unwrap();
    h.sim.control().clear_requests();

    let (first, second) = tokio::join!(snapshot(&client), snapshot(&client));
    assert!(
        std::sync::Arc::ptr_eq(&first, &second),
        "one fetch for both"
    );
    let set = first;
    assert!(!set.truncated);
    assert_eq!(
        set.judge(&made[0]),
        Some(Some(&Protected::Nested {
            protected: "[contoso]\\Project Collection Administrators".into(),
            through: vec!["[contoso]\\Snap Middle".into()],
        }))
    );
    assert!(matches!(
        set.judge(&made[1]),
        Some(Some(Protected::Nested { through, .. })) if through.is_empty()
    ));
    assert!(matches!(
        set.judge(&pca.descriptor),
        Some(Some(Protected::Listed { .. }))
    ));
    assert_eq!(
        set.judge(&made[2]),
        Some(None),
        "a free group is known and not protected"
    );
    assert_eq!(
        set.judge("vssgp.unknown"),
        None,
        "an unknown group is not judged"
    );
    // The seeded organization group nested in a project's Project Administrators.
    let platform = h.subject("[contoso]\\Platform Admins");
    assert!(matches!(
        set.judge(&platform.descriptor),
        Some(Some(Protected::Nested { protected, .. })) if protected == "[Platform]\\Project Administrators"
    ));
    let (lists, downs) = (h.count("GET", LIST), h.count("GET", DOWN));
    assert!(lists >= 1, "the organization's groups were listed");
    // One `down` read per protected source and per group nested in one, nothing per subject.
    let sources = set
        .protected
        .values()
        .filter(|p| matches!(p, Protected::Listed { .. }))
        .count();
    let nested = set.protected.len() - sources;
    assert_eq!(downs as usize, sources + nested, "{set:?}");

    // Served from the cache: nothing is sent.
    snapshot(&client).await;
    assert_eq!(h.count("GET", LIST), lists);
    assert_eq!(h.count("GET", DOWN), downs);

    // A group created since is unknown to the snapshot; a newer one knows it.
    let late = client
        .create_group(None, "Snap Late", None)
        .await
        .unwrap()
        .descriptor;
    assert_eq!(snapshot(&client).await.judge(&late), None);
    let policy = ProtectionPolicy {
        key: "admins",
        listed: &is_admin_group,
        source: &is_admin_group,
    };
    let newer = client
        .protected_set_younger_than(&policy, std::time::Duration::ZERO)
        .await
        .unwrap();
    assert_eq!(newer.judge(&late), Some(None));
    let set = newer;

    // A member added to an unprotected group keeps the snapshot; one added to a protected group
    // drops it, and the next snapshot sees it.
    client.add_member(&made[2], &made[3]).await.unwrap();
    let kept = snapshot(&client).await;
    assert!(std::sync::Arc::ptr_eq(&kept, &set));
    let auditors = h.subject("[contoso]\\Auditors");
    client
        .add_member(&auditors.descriptor, &made[1])
        .await
        .unwrap();
    let fresh = snapshot(&client).await;
    assert!(!std::sync::Arc::ptr_eq(&fresh, &set));
    assert!(matches!(
        fresh.judge(&auditors.descriptor),
        Some(Some(Protected::Nested { through, .. })) if through == &["[contoso]\\Snap Middle".to_string()]
    ));
}
