//! Graph memberships: PUT, HEAD, GET, DELETE, lists up and down, the repeated-PUT switch and
//! eventual consistency.

use std::time::Duration;

use azdo_sim::{Behaviours, Faults, RepeatedMembershipAdd, SimOptions};
use reqwest::Method;

use crate::support::*;

async fn user_descriptor(h: &Harness, upn: &str) -> String {
    let body = json(
        h.graph_request(Method::POST, "users", OPERATOR)
            .json(&serde_json::json!({"principalName": upn}))
            .send()
            .await
            .unwrap(),
        201,
    )
    .await;
    body["descriptor"].as_str().unwrap().to_string()
}

async fn head(h: &Harness, member: &str, container: &str) -> reqwest::Response {
    h.graph_request(
        Method::HEAD,
        &format!("memberships/{member}/{container}"),
        OPERATOR,
    )
    .send()
    .await
    .unwrap()
}

#[tokio::test]
async fn add_check_list_and_remove() {
    let h = Harness::start().await;
    let member = user_descriptor(&h, "lee.gu@contoso.com").await;
    let container = h.group_descriptor("[Storefront]\\Release Approvers").await;

    let missing = head(&h, &member, &container).await;
    assert_eq!(missing.status(), 404);
    assert!(
        missing.bytes().await.unwrap().is_empty(),
        "HEAD 404 is bare"
    );

    let added = h
        .graph_request(
            Method::PUT,
            &format!("memberships/{member}/{container}"),
            OPERATOR,
        )
        .send()
        .await
        .unwrap();
    let body = json(added, 201).await;
    assert_eq!(body["memberDescriptor"], member.as_str());
    assert_eq!(body["containerDescriptor"], container.as_str());
    assert_eq!(head(&h, &member, &container).await.status(), 200);

    // Case-insensitive route, as the fact sheet spells it.
    let down = json(
        h.client
            .get(format!(
                "{}/{ORG}/_apis/graph/Memberships/{container}",
                h.sim.vssps_url()
            ))
            .bearer_auth(h.token(OPERATOR))
            .query(&[
                ("api-version", PREVIEW),
                ("direction", "down"),
                ("depth", "1"),
            ])
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    let members: Vec<_> = down["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["memberDescriptor"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(down["count"], members.len());
    assert_eq!(members.len(), 3, "debra, nestor and lee");
    assert!(members.contains(&member));

    let up = json(
        h.graph_request(Method::GET, &format!("memberships/{member}"), OPERATOR)
            .query(&[("direction", "up")])
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    assert!(up["value"]
        .as_array()
        .unwrap()
        .iter()
        .any(|m| m["containerDescriptor"] == container.as_str()));

    let removed = h
        .graph_request(
            Method::DELETE,
            &format!("memberships/{member}/{container}"),
            OPERATOR,
        )
        .send()
        .await
        .unwrap();
    assert_eq!(removed.status(), 200);
    assert_eq!(head(&h, &member, &container).await.status(), 404);
    let again = h
        .graph_request(
            Method::DELETE,
            &format!("memberships/{member}/{container}"),
            OPERATOR,
        )
        .send()
        .await
        .unwrap();
    vss_error(again, 404, "GraphMembershipNotFoundException").await;
    let get = h
        .graph_request(
            Method::GET,
            &format!("memberships/{member}/{container}"),
            OPERATOR,
        )
        .send()
        .await
        .unwrap();
    vss_error(get, 404, "GraphMembershipNotFoundException").await;
}

#[tokio::test]
async fn repeated_put_is_201_by_default() {
    let h = Harness::start().await;
    let member = h.group_descriptor("[Storefront]\\Frontend").await;
    let container = h.group_descriptor("[Storefront]\\Contributors").await;
    for _ in 0..2 {
        let response = h
            .graph_request(
                Method::PUT,
                &format!("memberships/{member}/{container}"),
                OPERATOR,
            )
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 201);
    }
}

#[tokio::test]
async fn repeated_put_can_conflict() {
    let h = Harness::with(SimOptions {
        behaviours: Some(Behaviours {
            repeated_membership_add: RepeatedMembershipAdd::Conflict,
            ..Behaviours::default()
        }),
        ..SimOptions::default()
    })
    .await;
    let member = h.group_descriptor("[Storefront]\\Frontend").await;
    let container = h.group_descriptor("[Storefront]\\Contributors").await;
    let first = h
        .graph_request(
            Method::PUT,
            &format!("memberships/{member}/{container}"),
            OPERATOR,
        )
        .send()
        .await
        .unwrap();
    assert_eq!(first.status(), 201);
    let second = h
        .graph_request(
            Method::PUT,
            &format!("memberships/{member}/{container}"),
            OPERATOR,
        )
        .send()
        .await
        .unwrap();
    let body = vss_error(second, 409, "AddMemberIdentityAlreadyMemberException").await;
    assert!(body["message"].as_str().unwrap().starts_with("TF50235"));
}

#[tokio::test]
async fn new_memberships_are_invisible_during_the_consistency_lag() {
    let h = Harness::with(SimOptions {
        faults: Faults {
            consistency_lag_ms: 700,
            ..Faults::default()
        },
        ..SimOptions::default()
    })
    .await;
    let member = user_descriptor(&h, "raul.razo@contoso.com").await;
    let container = h.group_descriptor("[Payments]\\Readers").await;
    let added = h
        .graph_request(
            Method::PUT,
            &format!("memberships/{member}/{container}"),
            OPERATOR,
        )
        .send()
        .await
        .unwrap();
    assert_eq!(added.status(), 201);
    assert_eq!(
        head(&h, &member, &container).await.status(),
        404,
        "not visible yet"
    );
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(head(&h, &member, &container).await.status(), 200);
}

#[tokio::test]
async fn unknown_subjects_are_404() {
    let h = Harness::start().await;
    let container = h.group_descriptor("[Storefront]\\Contributors").await;
    let response = h
        .graph_request(
            Method::PUT,
            &format!("memberships/aad.bm9ib2R5/{container}"),
            OPERATOR,
        )
        .send()
        .await
        .unwrap();
    vss_error(response, 404, "GraphSubjectNotFoundException").await;
}

/// Per the published spec: `direction` defaults to up; up lists the groups the subject is a
/// direct member of (never the groups above those: the only supported depth is 1), each with
/// both descriptors, in a `{count, value}` collection.
#[tokio::test]
async fn up_lists_direct_containers_only_and_is_the_default_direction() {
    let h = Harness::start().await;
    let adele = user_descriptor(&h, "adele.vance@contoso.com").await;
    let platform_admins = h.group_descriptor("[contoso]\\Platform Admins").await;
    let project_admins = h
        .group_descriptor("[Platform]\\Project Administrators")
        .await;
    let list = |subject: String, query: Vec<(&'static str, &'static str)>| {
        let h = &h;
        async move {
            let body = json(
                h.graph_request(Method::GET, &format!("memberships/{subject}"), OPERATOR)
                    .query(&query)
                    .send()
                    .await
                    .unwrap(),
                200,
            )
            .await;
            let values = body["value"].as_array().unwrap().clone();
            assert_eq!(body["count"], values.len());
            for m in &values {
                assert!(m["memberDescriptor"].is_string() && m["containerDescriptor"].is_string());
            }
            values
        }
    };
    let containers = |values: &[serde_json::Value]| -> Vec<String> {
        values
            .iter()
            .map(|m| m["containerDescriptor"].as_str().unwrap().to_string())
            .collect()
    };

    let up = list(adele.clone(), vec![("direction", "up")]).await;
    assert!(up.iter().all(|m| m["memberDescriptor"] == adele.as_str()));
    assert!(containers(&up).contains(&platform_admins));
    assert!(
        !containers(&up).contains(&project_admins),
        "a group above a direct container is not listed"
    );
    let default = list(adele.clone(), vec![]).await;
    assert_eq!(containers(&default), containers(&up), "up is the default");
    let depth_one = list(adele.clone(), vec![("direction", "Up"), ("depth", "1")]).await;
    assert_eq!(containers(&depth_one), containers(&up));

    // A group's containers: the seeded organization group sits in a project's administrators.
    let group_up = list(platform_admins.clone(), vec![("direction", "up")]).await;
    assert!(
        containers(&group_up).contains(&project_admins),
        "{group_up:?}"
    );

    let deeper = h
        .graph_request(Method::GET, &format!("memberships/{adele}"), OPERATOR)
        .query(&[("direction", "up"), ("depth", "2")])
        .send()
        .await
        .unwrap();
    assert_eq!(deeper.status(), 400);
}
