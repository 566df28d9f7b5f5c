//! The Member Entitlement Management client against azdo-sim's vsaex host: user and service
//! principal entitlements, group rules with their asynchronous operation, and `isSuccess:
//! false` answers as errors with their code and message, never a success.

use std::time::Duration;

use azdo_operator::ado::{
    AdoClient, AdoError, EntitlementChange, MemberKind, NewPrincipal, ProjectGrant, RuleGroup,
    NO_LICENCE_CODE,
};
use azdo_operator::reason::Reason;
use azdo_sim::{Behaviours, SimOptions};

use crate::support::Harness;

const STOREFRONT: &str = "3f2a1b0c-4d5e-4f60-8a7b-9c0d1e2f3a4b";
const PAYMENTS: &str = "5c4d3e2f-1a0b-4c9d-8e7f-6a5b4c3d2e1f";

fn grant(project: &str, group_type: &str) -> ProjectGrant {
    ProjectGrant {
        project_id: project.into(),
        group_type: group_type.into(),
        display_name: None,
    }
}

async fn harness(licences: &[(&str, u32)], apply_ms: u64) -> Harness {
    Harness::with_options(SimOptions {
        behaviours: Some(Behaviours {
            available_licences: licences.iter().map(|(k, v)| (k.to_string(), *v)).collect(),
            group_rule_apply_ms: apply_ms,
            ..Behaviours::default()
        }),
        ..SimOptions::default()
    })
    .await
}

async fn until_finished(c: &AdoClient, id: &str) -> String {
    for _ in 0..100 {
        let op = c.entitlement_operation(id).await.unwrap();
        if op.finished() {
            return op.status;
        }
        tokio::time::sleep(Duration::from_millis(30)).await;
    }
    panic!("operation {id} never finished");
}

/// Every entitlement operation once (the contract test calls this too).
pub async fn drive_every_operation(h: &Harness, c: &AdoClient) {
    let user = c
        .add_member_entitlement(
            &NewPrincipal::UserPrincipalName("johanna.lorenz@contoso.com".into()),
            "stakeholder",
            &[grant(PAYMENTS, "projectReader")],
        )
        .await
        .unwrap();
    c.member_entitlement(MemberKind::User, &user.id)
        .await
        .unwrap()
        .unwrap();
    let change = EntitlementChange {
        level: Some("express".into()),
        ..EntitlementChange::default()
    };
    c.update_member_entitlement(MemberKind::User, &user.id, &change)
        .await
        .unwrap();
    c.delete_member_entitlement(MemberKind::User, &user.id)
        .await
        .unwrap();
    let sp_object = h
        .sim
        .control()
        .with_state(|s| s.directory.service_principals[1].object_id.to_string());
    let sp = c
        .add_member_entitlement(
            &NewPrincipal::ServicePrincipalObjectId(sp_object),
            "express",
            &[],
        )
        .await
        .unwrap();
    c.member_entitlement(MemberKind::ServicePrincipal, &sp.id)
        .await
        .unwrap()
        .unwrap();
    c.update_member_entitlement(MemberKind::ServicePrincipal, &sp.id, &change)
        .await
        .unwrap();
    c.delete_member_entitlement(MemberKind::ServicePrincipal, &sp.id)
        .await
        .unwrap();
    let group = RuleGroup::Entra(h.directory_group("Security Reviewers"));
    let write = c
        .add_group_entitlement(&group, "stakeholder", &[grant(PAYMENTS, "projectReader")])
        .await
        .unwrap();
    let operation = write.operation.expect("an operation to poll");
    until_finished(c, &operation).await;
    let group_id = {
        let oid = h.directory_group("Security Reviewers");
        h.sim.control().with_state(|s| {
            s.organization("contoso")
                .unwrap()
                .subject_by_origin_id(&oid)
                .unwrap()
                .storage_key
                .to_string()
        })
    };
    c.group_entitlement(&group_id).await.unwrap().unwrap();
    c.update_group_entitlement(&group_id, &change)
        .await
        .unwrap();
    c.delete_group_entitlement(&group_id).await.unwrap();
}

#[tokio::test]
async fn user_entitlements_round_trip() {
    let h = harness(&[], 0).await;
    let c = h.pat_client().await;
    let added = c
        .add_member_entitlement(
            &NewPrincipal::UserPrincipalName("lee.gu@contoso.com".into()),
            "stakeholder",
            &[grant(STOREFRONT, "projectReader")],
        )
        .await
        .unwrap();
    assert_eq!(added.access_level.account_license_type, "stakeholder");
    let read = c
        .member_entitlement(MemberKind::User, &added.id)
        .await
        .unwrap()
        .expect("an entitlement");
    assert_eq!(read.project_entitlements[0].project_ref.id, STOREFRONT);
    assert_eq!(
        read.project_entitlements[0].group.group_type,
        "projectReader"
    );
    let updated = c
        .update_member_entitlement(
            MemberKind::User,
            &added.id,
            &EntitlementChange {
                level: Some("advanced".into()),
                add: vec![grant(PAYMENTS, "projectContributor")],
                remove: vec![STOREFRONT.into()],
            },
        )
        .await
        .unwrap();
    assert_eq!(updated.access_level.account_license_type, "advanced");
    assert_eq!(updated.project_entitlements.len(), 1);
    assert_eq!(updated.project_entitlements[0].project_ref.id, PAYMENTS);
    c.delete_member_entitlement(MemberKind::User, &added.id)
        .await
        .unwrap();
    assert_eq!(
        c.member_entitlement(MemberKind::User, &added.id)
            .await
            .unwrap(),
        None
    );
    // Deleting again is no error.
    c.delete_member_entitlement(MemberKind::User, &added.id)
        .await
        .unwrap();
}

#[tokio::test]
async fn is_success_false_is_an_error_with_code_and_message() {
    let h = harness(&[("express", 0)], 0).await;
    let c = h.pat_client().await;
    let err = c
        .add_member_entitlement(
            &NewPrincipal::UserPrincipalName("lee.gu@contoso.com".into()),
            "express",
            &[],
        )
        .await
        .unwrap_err();
    match &err {
        AdoError::Refused { code, detail } => {
            assert_eq!(*code, NO_LICENCE_CODE);
            assert!(detail.message.contains("VS403283"), "{}", detail.message);
            assert_eq!(detail.status, Some(200));
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    assert_eq!(err.reason(), Reason::LicenceUnavailable);
    assert!(!err.is_transient());

    // The application id of a service principal is not its object id: refused, code 5000.
    let app_id = h
        .sim
        .control()
        .with_state(|s| s.directory.service_principals[0].app_id.to_string());
    let err = c
        .add_member_entitlement(
            &NewPrincipal::ServicePrincipalObjectId(app_id),
            "stakeholder",
            &[],
        )
        .await
        .unwrap_err();
    assert!(
        matches!(err, AdoError::Refused { code: 5000, .. }),
        "{err:?}"
    );
    assert_eq!(err.reason(), Reason::EntitlementRefused);

    // A PATCH refused in its operation results is an error too.
    let ok = c
        .add_member_entitlement(
            &NewPrincipal::UserPrincipalName("lee.gu@contoso.com".into()),
            "stakeholder",
            &[],
        )
        .await
        .unwrap();
    let err = c
        .update_member_entitlement(
            MemberKind::User,
            &ok.id,
            &EntitlementChange {
                level: Some("express".into()),
                ..EntitlementChange::default()
            },
        )
        .await
        .unwrap_err();
    assert!(
        matches!(err, AdoError::Refused { code: 5032, .. }),
        "{err:?}"
    );
    let again = c
        .member_entitlement(MemberKind::User, &ok.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(again.access_level.account_license_type, "stakeholder");
}

#[tokio::test]
async fn group_rules_are_polled_through_their_operation() {
    let h = harness(&[("advanced", 1)], 300).await;
    let c = h.pat_client().await;
    let write = c
        .add_group_entitlement(
            &RuleGroup::Entra(h.directory_group("Release Managers")),
            "advanced",
            &[grant(STOREFRONT, "projectContributor")],
        )
        .await
        .unwrap();
    let id = write.operation.expect("queued");
    let first = c.entitlement_operation(&id).await.unwrap();
    assert!(!first.finished(), "{first:?}");
    assert_eq!(until_finished(&c, &id).await, "failed");
    let failed = c.entitlement_operation(&id).await.unwrap();
    assert!(failed
        .result_message
        .as_deref()
        .is_some_and(|m| m.contains("1 of 2")));
    let group_id = {
        let oid = h.directory_group("Release Managers");
        h.sim.control().with_state(|s| {
            s.organization("contoso")
                .unwrap()
                .subject_by_origin_id(&oid)
                .unwrap()
                .storage_key
                .to_string()
        })
    };
    let rule = c.group_entitlement(&group_id).await.unwrap().unwrap();
    assert_eq!(rule.status.as_deref(), Some("unableToApply"));
    assert_eq!(rule.license_rule.account_license_type, "advanced");
    assert!(rule
        .license_rule
        .status_message
        .as_deref()
        .is_some_and(|m| m.contains("VS403283")));
    // A second rule on the group is refused inside a 201.
    let err = c
        .add_group_entitlement(
            &RuleGroup::Entra(h.directory_group("Release Managers")),
            "stakeholder",
            &[],
        )
        .await
        .unwrap_err();
    assert!(
        matches!(err, AdoError::Refused { code: 5102, .. }),
        "{err:?}"
    );
    c.delete_group_entitlement(&group_id).await.unwrap();
    assert_eq!(c.group_entitlement(&group_id).await.unwrap(), None);
}

#[tokio::test]
async fn an_organization_without_an_entitlement_url_says_so() {
    let h = harness(&[], 0).await;
    let endpoint = azdo_operator::ado::OrganizationEndpoint::new(
        "contoso",
        &format!("{}/contoso", h.sim.dev_url()),
        &format!("{}/contoso", h.sim.vssps_url()),
    )
    .unwrap();
    let c = AdoClient::new(
        endpoint,
        h.http.clone(),
        h.pat(crate::support::OPERATOR_PAT).await,
        crate::support::fast_limits(),
        h.metrics.clone(),
    );
    let err = c
        .member_entitlement(MemberKind::User, "x")
        .await
        .unwrap_err();
    assert_eq!(err.reason(), Reason::InvalidConfiguration);
    assert!(err.to_string().contains("entitlementUrl"), "{err}");
}
