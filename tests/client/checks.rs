//! Check configurations against azdo-sim: each check type created with its settings and read
//! back, approvers as identity ids resolved from members, update, delete (twice), the list per
//! resource, and the service's refusal of bad settings as a precise error.

use crate::support::Harness;
use azdo_operator::ado::{
    AdoError, CheckKind, CheckSettings, DesiredCheck, ResourceKind, TemplateRef,
};

const PROJECT: &str = "Storefront";

fn every_kind(approver: &str) -> Vec<DesiredCheck> {
    let settings = [
        CheckSettings::Approval {
            approvers: vec![approver.to_string()],
            min_required: 1,
            requester_cannot_approve: true,
            in_sequence: false,
            instructions: "Check the change record".into(),
        },
        CheckSettings::BranchControl {
            allowed_branches: vec!["refs/heads/main".into(), "refs/heads/release/*".into()],
            require_branch_protection: true,
            allow_unknown_status: false,
            retry_interval: 10,
        },
        CheckSettings::BusinessHours {
            days: vec!["Monday".into(), "Tuesday".into()],
            time_zone: "W. Europe Standard Time".into(),
            start: "08:00".into(),
            end: "17:30".into(),
            retry_interval: 5,
        },
        CheckSettings::ExclusiveLock,
        CheckSettings::RequiredTemplate {
            templates: vec![TemplateRef {
                repository_type: "git".into(),
                repository_name: "Storefront/storefront".into(),
                repository_ref: "refs/heads/main".into(),
                template_path: "templates/deploy.yml".into(),
            }],
        },
    ];
    settings
        .into_iter()
        .map(|settings| DesiredCheck {
            settings,
            timeout: 1440,
        })
        .collect()
}

#[tokio::test]
async fn every_check_type_is_created_verified_updated_and_deleted() {
    let h = Harness::start().await;
    let c = h.pat_client().await;
    let user = c.resolve_user("sanjay.shah@contoso.com").await.unwrap();
    let approver = c.storage_key(&user).await.unwrap();
    let mut ids = Vec::new();
    for desired in every_kind(&approver) {
        let created = c
            .create_check(PROJECT, ResourceKind::Environment, "2", &desired)
            .await
            .unwrap_or_else(|e| panic!("{:?}: {e}", desired.settings.kind()));
        assert_eq!(created.kind(), Some(desired.settings.kind()));
        assert!(created.holds(&desired));
        ids.push(created.id);
    }
    let listed = c
        .check_configurations(PROJECT, ResourceKind::Environment, "2")
        .await
        .unwrap();
    let kinds: Vec<Option<CheckKind>> = listed.iter().map(|c| c.kind()).collect();
    assert_eq!(
        kinds,
        CheckKind::ALL.into_iter().map(Some).collect::<Vec<_>>(),
        "each kind recognized from the list (settings expanded)"
    );
    assert!(c
        .check_configurations(PROJECT, ResourceKind::Environment, "1")
        .await
        .unwrap()
        .is_empty());

    // Update: later end time, longer timeout.
    let mut hours = every_kind(&approver).remove(2);
    if let CheckSettings::BusinessHours { end, .. } = &mut hours.settings {
        *end = "18:00".into();
    }
    hours.timeout = 2880;
    let updated = c
        .update_check(PROJECT, ids[2], ResourceKind::Environment, "2", &hours)
        .await
        .unwrap();
    assert!(updated.holds(&hours));
    assert_eq!(updated.id, ids[2]);
    assert_eq!(
        h.count(
            "GET",
            "/{org}/{project}/_apis/pipelines/checks/configurations/{id}"
        ),
        0,
        "the answers of the creates and the update show the settings: no read back"
    );

    c.delete_check(PROJECT, ids[3]).await.unwrap();
    c.delete_check(PROJECT, ids[3])
        .await
        .expect("deleting a check already gone is no error");
    let left = c
        .check_configurations(PROJECT, ResourceKind::Environment, "2")
        .await
        .unwrap();
    assert_eq!(left.len(), 4);
    assert!(left.iter().all(|c| c.id != ids[3]));
}

#[tokio::test]
async fn bad_settings_are_refused_as_invalid_input_and_add_nothing() {
    let h = Harness::start().await;
    let c = h.pat_client().await;
    let unknown = DesiredCheck {
        settings: CheckSettings::Approval {
            approvers: vec!["00000000-0000-0000-0000-0000000000aa".into()],
            min_required: 0,
            requester_cannot_approve: false,
            in_sequence: false,
            instructions: String::new(),
        },
        timeout: 60,
    };
    let backwards = DesiredCheck {
        settings: CheckSettings::BusinessHours {
            days: vec!["Monday".into()],
            time_zone: "UTC".into(),
            start: "17:00".into(),
            end: "08:00".into(),
            retry_interval: 5,
        },
        timeout: 60,
    };
    for desired in [unknown, backwards] {
        let err = c
            .create_check(PROJECT, ResourceKind::Queue, "31", &desired)
            .await
            .unwrap_err();
        assert!(matches!(err, AdoError::InvalidInput(_)), "{err}");
    }
    let missing = c
        .update_check(
            PROJECT,
            999_999,
            ResourceKind::Queue,
            "31",
            &DesiredCheck {
                settings: CheckSettings::ExclusiveLock,
                timeout: 60,
            },
        )
        .await
        .unwrap_err();
    assert!(missing.is_not_found(), "{missing}");
    assert!(c
        .check_configurations(PROJECT, ResourceKind::Queue, "31")
        .await
        .unwrap()
        .is_empty());
}
