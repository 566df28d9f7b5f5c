//! Errors that mean "stop" (a precise reason, no retry storm) and errors that mean "retry".

use crate::support::{fast_limits, Harness, OUTSIDER_CLIENT_ID, OUTSIDER_SECRET};
use async_trait::async_trait;
use azdo_operator::ado::{AdoError, EntraGroupKey};
use azdo_operator::auth::{AuthError, TokenSource};
use azdo_operator::reason::Reason;
use azdo_sim::{Behaviours, Control, Faults, InjectedError, SimOptions, UnknownIdentity};
use std::sync::Mutex;
use std::time::Duration;

const GROUPS: &str = "/{org}/_apis/graph/groups";
const SERVICE_PRINCIPALS: &str = "/{org}/_apis/graph/serviceprincipals";

/// Materializing an Entra group or service principal the identity may not read: 503 with a
/// JSON body, tried twice, then `EntraLookupFailed` saying what to fix.
#[tokio::test]
async fn unreadable_entra_subjects_stop_after_two_tries() {
    let h = Harness::start().await;
    h.sim.control().with_state(|state| {
        for identity in &mut state.identities {
            identity.directory_read = false;
        }
    });
    let client = h.pat_client().await;
    let group = h.directory_group("QA Team");
    let error = client
        .materialize_entra_group(EntraGroupKey::ObjectId(group))
        .await
        .unwrap_err();
    assert!(matches!(error, AdoError::EntraLookup(_)), "{error:?}");
    assert_eq!(error.status(), Some(503));
    assert_eq!(error.reason(), Reason::EntraLookupFailed);
    assert!(!error.is_transient());
    assert!(error.to_string().contains("Directory Readers"), "{error}");
    assert_eq!(h.count("POST", GROUPS), 2);

    let sp = h
        .sim
        .control()
        .with_state(|s| s.directory.service_principals[0].object_id.to_string());
    let error = client.resolve_service_principal(&sp).await.unwrap_err();
    assert_eq!(error.reason(), Reason::EntraLookupFailed);
    assert_eq!(h.count("POST", SERVICE_PRINCIPALS), 2);
}

/// A service principal never added to the organization: 401 `TF401444`. Refreshing the token
/// would not help, so it is not refreshed: one token, one request.
#[tokio::test]
async fn a_service_principal_outside_the_organization_is_told_so_at_once() {
    let h = Harness::with_options(SimOptions {
        behaviours: Some(Behaviours {
            unknown_identity: UnknownIdentity::Tf401444,
            ..Behaviours::default()
        }),
        ..SimOptions::default()
    })
    .await;
    let client = h.client(
        h.secret(OUTSIDER_CLIENT_ID, OUTSIDER_SECRET).await,
        fast_limits(),
    );
    let error = client.check_access().await.unwrap_err();
    assert!(error.to_string().contains("TF401444"), "{error}");
    assert_eq!(error.reason(), Reason::IdentityNotInOrganization);
    assert_eq!(h.token_requests(), 1, "not refreshed");
    assert_eq!(h.count("GET", "/{org}/_apis/projects"), 1);
}

/// A token source whose token can be made to expire: it hands out `current` and, once
/// invalidated, a fresh token from the simulator.
struct Expiring {
    control: Control,
    current: Mutex<String>,
    invalidations: Mutex<u32>,
}

#[async_trait]
impl TokenSource for Expiring {
    async fn authorization_header(&self) -> Result<String, AuthError> {
        Ok(format!("Bearer {}", self.current.lock().unwrap()))
    }
    fn invalidate(&self) {
        *self.invalidations.lock().unwrap() += 1;
        *self.current.lock().unwrap() = self.control.issue_token("azdo-operator").unwrap();
    }
    fn kind(&self) -> &'static str {
        "test-expiring"
    }
}

/// An expired token: the read gets the 203 sign-in page, the write a 401 `TF400813`; each is
/// refreshed once and succeeds.
#[tokio::test]
async fn an_expired_token_is_refreshed_on_the_sign_in_page_and_on_tf400813() {
    let h = Harness::with_options(SimOptions {
        access_token_lifetime: Duration::from_secs(2),
        ..SimOptions::default()
    })
    .await;
    let control = h.sim.control();
    let stale = control.issue_token("azdo-operator").unwrap();
    tokio::time::sleep(Duration::from_millis(3100)).await;
    let source = std::sync::Arc::new(Expiring {
        control: control.clone(),
        current: Mutex::new(stale.clone()),
        invalidations: Mutex::new(0),
    });
    let client = h.client(source.clone(), fast_limits());
    let admins = h.subject("[contoso]\\Platform Admins");
    client.get_group(&admins.descriptor).await.unwrap();
    *source.current.lock().unwrap() = stale;
    let sanjay = h.subject("sanjay.shah@contoso.com");
    client
        .add_member(&sanjay.descriptor, &admins.descriptor)
        .await
        .unwrap();
    assert_eq!(*source.invalidations.lock().unwrap(), 2);
    let statuses: Vec<(String, u16)> = control
        .requests()
        .requests
        .iter()
        .map(|r| (r.method.clone(), r.status))
        .collect();
    assert!(statuses.contains(&("GET".into(), 203)), "{statuses:?}");
    assert!(statuses.contains(&("PUT".into(), 401)), "{statuses:?}");
    assert!(h.has_membership(&admins.descriptor, &sanjay.descriptor));
}

fn injected(method: &str, path: &str, status: u16, type_key: &str, message: &str) -> InjectedError {
    InjectedError {
        method: method.into(),
        path_contains: path.into(),
        status,
        type_key: type_key.into(),
        message: message.into(),
        times: 2,
    }
}

/// `TF401349` (an unexpected error, "try again") and `VS800075` (a project being created) are
/// retried, whatever their status.
#[tokio::test]
async fn documented_passing_errors_are_retried() {
    let h = Harness::start().await;
    h.sim.control().set_faults(Faults {
        inject_errors: vec![
            injected(
                "GET",
                "/_apis/projects/Payments",
                404,
                "ProjectDoesNotExistException",
                "VS800075: The project with id 'vstfs:///Classification/TeamProject/x' does not exist, or you do not have permission to access it.",
            ),
            injected(
                "POST",
                "/_apis/graph/subjectquery",
                400,
                "UnexpectedException",
                "TF401349: An unexpected error has occurred, please verify your request and try again.",
            ),
        ],
        ..Faults::default()
    });
    let client = h.pat_client().await;
    assert_eq!(client.project("Payments").await.unwrap().name, "Payments");
    assert_eq!(h.count("GET", "/{org}/_apis/projects/{project}"), 3);
    let found = client.find_group(None, "Platform Admins").await.unwrap();
    assert!(found.is_some());
    assert_eq!(h.count("POST", "/{org}/_apis/graph/subjectquery"), 3);
}

/// A 404 right after a create (replication) is retried for the new descriptor; the same 404
/// for an older one is an answer.
#[tokio::test]
async fn a_404_right_after_a_create_is_retried() {
    let h = Harness::start().await;
    let client = h.pat_client().await;
    let created = client
        .create_group(None, "Fresh Group", None)
        .await
        .unwrap();
    let not_yet = |path: &str| {
        injected(
            "PUT",
            path,
            404,
            "GraphSubjectNotFoundException",
            "VS403325: The subject was not found.",
        )
    };
    h.sim.control().set_faults(Faults {
        inject_errors: vec![not_yet(&created.descriptor)],
        ..Faults::default()
    });
    let sanjay = h.subject("sanjay.shah@contoso.com");
    client
        .add_member(&sanjay.descriptor, &created.descriptor)
        .await
        .unwrap();
    assert!(h.has_membership(&created.descriptor, &sanjay.descriptor));
    let adds = "/{org}/_apis/graph/memberships/{subject}/{container}";
    assert_eq!(h.count("PUT", adds), 3);
    // An old group's 404 is not retried.
    let admins = h.subject("[contoso]\\Platform Admins");
    h.sim.control().set_faults(Faults {
        inject_errors: vec![not_yet(&admins.descriptor)],
        ..Faults::default()
    });
    let error = client
        .add_member(&sanjay.descriptor, &admins.descriptor)
        .await
        .unwrap_err();
    assert!(error.is_not_found(), "{error:?}");
    assert_eq!(h.count("PUT", adds), 4);
}
