//! Deleted groups without `isDeleted`: the published GraphGroup schema does not define it, so
//! the client asks `graph/membershipstates` when it is absent.

use crate::support::Harness;
use azdo_sim::{Behaviours, SimOptions};

const GROUP: &str = "/{org}/_apis/graph/groups/{descriptor}";
const STATES: &str = "/{org}/_apis/graph/membershipstates/{subject}";

async fn deleted_group_is_detected(omit_is_deleted: bool) -> (u64, u64) {
    let h = Harness::with_options(SimOptions {
        behaviours: Some(Behaviours {
            omit_is_deleted,
            ..Behaviours::default()
        }),
        ..SimOptions::default()
    })
    .await;
    let client = h.pat_client().await;
    let scope = client.project_scope_descriptor("Payments").await.unwrap();
    let created = client
        .create_group(Some(&scope), "Short Lived", None)
        .await
        .unwrap();
    let live = client.get_group(&created.descriptor).await.unwrap();
    assert!(!live.is_deleted, "{live:?}");
    client.delete_group(&created.descriptor).await.unwrap();
    let gone = client.get_group(&created.descriptor).await.unwrap();
    assert!(
        gone.is_deleted,
        "a deleted group must read as deleted: {gone:?}"
    );
    (h.count("GET", GROUP), h.count("GET", STATES))
}

#[tokio::test]
async fn a_deleted_group_without_is_deleted_is_detected_through_membership_states() {
    let (gets, states) = deleted_group_is_detected(true).await;
    assert_eq!((gets, states), (2, 2), "one liveness check per read");
}

#[tokio::test]
async fn is_deleted_when_present_costs_no_extra_call() {
    let (gets, states) = deleted_group_is_detected(false).await;
    assert_eq!((gets, states), (2, 0));
}
