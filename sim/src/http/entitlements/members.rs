//! User and service principal entitlements, and the user summary (licence counts).

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Extension;
use serde_json::{json, Value};
use uuid::Uuid;

use super::patch::{self, PatchOperation};
use super::render;
use super::{authorize, settled};
use crate::http::app::SharedApp;
use crate::http::auth::{Caller, Need};
use crate::http::error::{ApiError, ApiResult};
use crate::http::params::Params;
use crate::http::respond::{ok, parse_body};
use crate::model::entitlements::{available, codes, EntitlementError, Licence, MemberEntitlement};
use crate::model::subjects::{Subject, SubjectKind};
use crate::model::{Directory, Organization};

/// Users or service principals: the two share everything but names.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    User,
    ServicePrincipal,
}

impl Kind {
    fn subject_kind(self) -> SubjectKind {
        match self {
            Kind::User => SubjectKind::User,
            Kind::ServicePrincipal => SubjectKind::ServicePrincipal,
        }
    }

    /// The body's principal field and the entitlement field of the answers.
    fn field(self) -> &'static str {
        match self {
            Kind::User => "user",
            Kind::ServicePrincipal => "servicePrincipal",
        }
    }

    fn entitlement_field(self) -> &'static str {
        match self {
            Kind::User => "userEntitlement",
            Kind::ServicePrincipal => "servicePrincipalEntitlement",
        }
    }

    fn id_field(self) -> &'static str {
        match self {
            Kind::User => "userId",
            Kind::ServicePrincipal => "servicePrincipalId",
        }
    }
}

fn failure(key: u32, value: String) -> EntitlementError {
    EntitlementError { key, value }
}

/// The `{userId}` / `{servicePrincipalId}` of a route: a live subject of that kind.
fn subject_by_id<'a>(org: &'a Organization, id: &str, kind: Kind) -> ApiResult<&'a Subject> {
    Uuid::parse_str(id)
        .ok()
        .and_then(|id| org.subject_by_identity_id(id))
        .filter(|s| s.kind == kind.subject_kind())
        .ok_or_else(|| not_found(id))
}

fn not_found(id: &str) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "MemberNotFoundException",
        format!("VS403274: The member '{id}' could not be found in the organization."),
    )
}

/// The principal an add names: in the organization already, or from the directory (a user by
/// `principalName`, `originId` or `mailAddress`; a service principal by its object id as
/// `originId`, never its application id).
fn principal(
    org: &mut Organization,
    tenant: Uuid,
    directory: &Directory,
    kind: Kind,
    body: &Value,
) -> Result<String, EntitlementError> {
    let p = body.get(kind.field()).cloned().unwrap_or(Value::Null);
    let text = |k: &str| p.get(k).and_then(Value::as_str).map(str::to_string);
    let keys: Vec<String> = ["principalName", "originId", "mailAddress", "descriptor"]
        .iter()
        .filter_map(|k| text(k))
        .collect();
    let missing = || {
        failure(
            codes::NOT_FOUND,
            format!(
                "VS403280: The {} '{}' could not be found in the directory.",
                kind.field(),
                keys.first().map(String::as_str).unwrap_or_default()
            ),
        )
    };
    let same = |a: &str, b: &str| a.eq_ignore_ascii_case(b);
    match kind {
        Kind::User => {
            let user = directory.user_any(&keys).ok_or_else(missing)?;
            Ok(org.materialize_user(tenant, user).0)
        }
        Kind::ServicePrincipal => {
            let sp = directory
                .service_principals
                .iter()
                .find(|sp| keys.iter().any(|k| same(k, &sp.object_id.to_string())))
                .ok_or_else(missing)?;
            Ok(org.materialize_service_principal(tenant, sp).0)
        }
    }
}

/// Whether `descriptor` may hold `licence` (it holds it already, or one is available).
fn licence_available(
    app: &SharedApp,
    org: &Organization,
    descriptor: &str,
    licence: Licence,
) -> Result<(), EntitlementError> {
    let holds = org.entitlements.effective(descriptor).map(|(l, _)| l) == Some(licence);
    let limits = app.behaviours().available_licences;
    match available(org, &limits, licence, descriptor) {
        Some(0) if !holds => Err(failure(
            codes::NO_LICENCE,
            format!(
                "VS403283: Could not assign access level {}: no licences of that level are available in the organization.",
                licence.display_name()
            ),
        )),
        _ => Ok(()),
    }
}

fn post_answer(kind: Kind, result: Result<Value, (Option<Uuid>, EntitlementError)>) -> Response {
    match result {
        Ok(entitlement) => {
            let id = entitlement["id"].clone();
            ok(json!({
                "isSuccess": true,
                kind.entitlement_field(): entitlement,
                "operationResult": {
                    "isSuccess": true, "errors": [], kind.id_field(): id, "result": entitlement,
                },
            }))
        }
        Err((id, e)) => ok(json!({
            "isSuccess": false,
            kind.entitlement_field(): null,
            "operationResult": {
                "isSuccess": false,
                "errors": render::errors(&[e]),
                kind.id_field(): id,
                "result": null,
            },
        })),
    }
}

fn add(app: &SharedApp, caller: &Caller, org_name: &str, kind: Kind, body: &[u8]) -> ApiResult {
    let body: Value = parse_body(body, kind.field())?;
    let now = chrono::Utc::now();
    let mut state = app.state();
    let tenant = state.tenant_id;
    let directory = std::sync::Arc::clone(&state.directory);
    let org = settled(app, &mut state, org_name, now)?;
    authorize(caller, org, Need::Write)?;
    let result = (|| {
        let licence = patch::licence(body.get("accessLevel").unwrap_or(&Value::Null))
            .map_err(|e| (None, e))?;
        let projects = patch::project_entitlements(org, body.get("projectEntitlements"))
            .map_err(|e| (None, e))?;
        let descriptor = principal(org, tenant, &directory, kind, &body).map_err(|e| (None, e))?;
        let id = org.subject(&descriptor).map(|s| s.storage_key);
        if org.entitlements.member(&descriptor).is_some() {
            return Err((
                id,
                failure(
                    codes::ALREADY_EXISTS,
                    format!("VS403288: The {} already has an entitlement in the organization; update it instead.", kind.field()),
                ),
            ));
        }
        licence_available(app, org, &descriptor, licence).map_err(|e| (id, e))?;
        org.entitlements.members.push(MemberEntitlement {
            descriptor: descriptor.clone(),
            licence,
            projects: projects.clone(),
            date_created: now,
        });
        org.join_project_groups(&descriptor, &projects, now);
        let subject = org.subject(&descriptor).cloned().expect("materialized");
        Ok(render::member_entitlement(&app.urls.vssps, org, &subject).unwrap_or(Value::Null))
    })();
    Ok(post_answer(kind, result))
}

fn get(app: &SharedApp, caller: &Caller, org_name: &str, id: &str, kind: Kind) -> ApiResult {
    let mut state = app.state();
    let org = settled(app, &mut state, org_name, chrono::Utc::now())?;
    authorize(caller, org, Need::Read)?;
    let subject = subject_by_id(org, id, kind)?;
    let body =
        render::member_entitlement(&app.urls.vssps, org, subject).ok_or_else(|| not_found(id))?;
    Ok(ok(body))
}

fn update(
    app: &SharedApp,
    caller: &Caller,
    org_name: &str,
    id: &str,
    kind: Kind,
    body: &[u8],
) -> ApiResult {
    let operations: Vec<PatchOperation> = parse_body(body, "document")?;
    let now = chrono::Utc::now();
    let mut state = app.state();
    let org = settled(app, &mut state, org_name, now)?;
    authorize(caller, org, Need::Write)?;
    let subject = subject_by_id(org, id, kind)?.clone();
    let uuid = subject.storage_key;
    let result = (|| {
        let changes = patch::changes(org, &operations)?;
        let current = org.entitlements.member(&subject.descriptor).cloned();
        let mut level = current.as_ref().map_or(Licence::None, |m| m.licence);
        let mut projects = current
            .as_ref()
            .map(|m| m.projects.clone())
            .unwrap_or_default();
        let (removed, added) = patch::apply(&changes, &mut level, &mut projects);
        licence_available(app, org, &subject.descriptor, level)?;
        org.leave_project_groups(&subject.descriptor, &removed);
        org.join_project_groups(&subject.descriptor, &added, now);
        match org.entitlements.member_mut(&subject.descriptor) {
            Some(m) => {
                m.licence = level;
                m.projects = projects;
            }
            None => org.entitlements.members.push(MemberEntitlement {
                descriptor: subject.descriptor.clone(),
                licence: level,
                projects,
                date_created: now,
            }),
        }
        Ok(render::member_entitlement(&app.urls.vssps, org, &subject).unwrap_or(Value::Null))
    })();
    Ok(ok(match result {
        Ok(entitlement) => json!({
            "isSuccess": true,
            kind.entitlement_field(): entitlement,
            "operationResults": [{
                "isSuccess": true, "errors": [], kind.id_field(): uuid, "result": entitlement,
            }],
        }),
        Err(e) => json!({
            "isSuccess": false,
            kind.entitlement_field(): null,
            "operationResults": [{
                "isSuccess": false, "errors": render::errors(&[e]), kind.id_field(): uuid, "result": null,
            }],
        }),
    }))
}

/// Removes the member from the organization: its entitlement, its memberships, the subject.
fn delete(
    app: &SharedApp,
    caller: &Caller,
    org_name: &str,
    id: &str,
    kind: Kind,
) -> ApiResult<Response> {
    let mut state = app.state();
    let org = settled(app, &mut state, org_name, chrono::Utc::now())?;
    authorize(caller, org, Need::Write)?;
    let descriptor = subject_by_id(org, id, kind)?.descriptor.clone();
    org.entitlements
        .members
        .retain(|m| m.descriptor != descriptor);
    for rule in &mut org.entitlements.rules {
        rule.licensed.retain(|d| *d != descriptor);
    }
    org.memberships.retain(|m| m.member != descriptor);
    if let Some(subject) = org.subject_mut(&descriptor) {
        subject.deleted = true;
    }
    Ok(StatusCode::OK.into_response())
}

pub async fn add_user(
    State(app): State<SharedApp>,
    Extension(caller): Extension<Caller>,
    Path(org): Path<String>,
    body: Bytes,
) -> ApiResult {
    add(&app, &caller, &org, Kind::User, &body)
}

pub async fn add_service_principal(
    State(app): State<SharedApp>,
    Extension(caller): Extension<Caller>,
    Path(org): Path<String>,
    body: Bytes,
) -> ApiResult {
    add(&app, &caller, &org, Kind::ServicePrincipal, &body)
}

pub async fn get_user(
    State(app): State<SharedApp>,
    Extension(caller): Extension<Caller>,
    Path((org, id)): Path<(String, String)>,
) -> ApiResult {
    get(&app, &caller, &org, &id, Kind::User)
}

pub async fn get_service_principal(
    State(app): State<SharedApp>,
    Extension(caller): Extension<Caller>,
    Path((org, id)): Path<(String, String)>,
) -> ApiResult {
    get(&app, &caller, &org, &id, Kind::ServicePrincipal)
}

pub async fn update_user(
    State(app): State<SharedApp>,
    Extension(caller): Extension<Caller>,
    Path((org, id)): Path<(String, String)>,
    body: Bytes,
) -> ApiResult {
    update(&app, &caller, &org, &id, Kind::User, &body)
}

pub async fn update_service_principal(
    State(app): State<SharedApp>,
    Extension(caller): Extension<Caller>,
    Path((org, id)): Path<(String, String)>,
    body: Bytes,
) -> ApiResult {
    update(&app, &caller, &org, &id, Kind::ServicePrincipal, &body)
}

pub async fn delete_user(
    State(app): State<SharedApp>,
    Extension(caller): Extension<Caller>,
    Path((org, id)): Path<(String, String)>,
) -> ApiResult<Response> {
    delete(&app, &caller, &org, &id, Kind::User)
}

pub async fn delete_service_principal(
    State(app): State<SharedApp>,
    Extension(caller): Extension<Caller>,
    Path((org, id)): Path<(String, String)>,
) -> ApiResult<Response> {
    delete(&app, &caller, &org, &id, Kind::ServicePrincipal)
}

/// `GET userentitlements`: users with an entitlement, `$filter=name eq '{text}'` keeping those
/// whose principal name or display name contains the text (one page).
pub async fn search_users(
    State(app): State<SharedApp>,
    Extension(caller): Extension<Caller>,
    Path(org_name): Path<String>,
    params: Params,
) -> ApiResult {
    let mut state = app.state();
    let org = settled(&app, &mut state, &org_name, chrono::Utc::now())?;
    authorize(&caller, org, Need::Read)?;
    let name = params
        .get("$filter")
        .and_then(|f| f.split_once("name eq '"))
        .map(|(_, rest)| rest.trim_end_matches('\'').to_ascii_lowercase());
    let items: Vec<Value> = org
        .subjects
        .iter()
        .filter(|s| s.kind == SubjectKind::User && !s.deleted)
        .filter(|s| {
            name.as_ref().is_none_or(|n| {
                s.principal_name.to_ascii_lowercase().contains(n)
                    || s.display_name.to_ascii_lowercase().contains(n)
            })
        })
        .filter_map(|s| render::member_entitlement(&app.urls.vssps, org, s))
        .collect();
    Ok(ok(json!({
        "items": items,
        "totalCount": items.len(),
        "continuationToken": null,
    })))
}

/// `GET userentitlementsummary`: per level, how many are assigned and available.
pub async fn summary(
    State(app): State<SharedApp>,
    Extension(caller): Extension<Caller>,
    Path(org_name): Path<String>,
) -> ApiResult {
    let mut state = app.state();
    let org = settled(&app, &mut state, &org_name, chrono::Utc::now())?;
    authorize(&caller, org, Need::Read)?;
    let limits = app.behaviours().available_licences;
    let licences: Vec<Value> = Licence::ALL
        .into_iter()
        .filter(|l| *l != Licence::None)
        .map(|l| {
            let assigned = org.entitlements.assigned(l, "");
            let free = available(org, &limits, l, "");
            json!({
                "accountLicenseType": l.wire_name(),
                "licenseName": format!("Account-{}", l.display_name()),
                "source": "account",
                "msdnLicenseType": "none",
                "assigned": assigned,
                "available": free,
                "total": free.map(|f| f + assigned),
                "disabled": 0,
                "includedQuantity": 0,
                "isPurchasable": l != Licence::Stakeholder,
            })
        })
        .collect();
    Ok(ok(json!({
        "licenses": licences,
        "availableAccessLevels": Licence::ALL.into_iter().filter(|l| *l != Licence::None).map(|l| render::access_level(l, false)).collect::<Vec<_>>(),
        "defaultAccessLevel": render::access_level(Licence::Stakeholder, false),
        "projectRefs": org.projects.iter().map(|p| json!({"id": p.id, "name": p.name})).collect::<Vec<_>>(),
        "groupOptions": [],
    })))
}
