//! Group entitlements (group rules), their members, and the operations they are applied by.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Extension;
use chrono::{DateTime, Utc};
use serde_json::{json, Value};
use uuid::Uuid;

use super::patch::{self, PatchOperation};
use super::render;
use super::{authorize, settled};
use crate::http::app::SharedApp;
use crate::http::auth::{Caller, Need};
use crate::http::error::{ApiError, ApiResult};
use crate::http::params::Params;
use crate::http::respond::{collection, json as respond_json, ok, parse_body};
use crate::model::entitlements::{
    codes, EntitlementError, GroupRule, Operation, OperationStatus, RuleStatus,
};
use crate::model::subjects::{Membership, Origin, SubjectKind};
use crate::model::{Directory, Organization};

fn failure(key: u32, value: String) -> EntitlementError {
    EntitlementError { key, value }
}

fn group_not_found(id: &str) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "GroupEntitlementNotFoundException",
        format!("VS403275: No group entitlement exists for the group '{id}'."),
    )
}

/// The `{groupId}` of a route: a live group with a rule.
fn rule_group(org: &Organization, id: &str) -> ApiResult<String> {
    Uuid::parse_str(id)
        .ok()
        .and_then(|id| org.subject_by_identity_id(id))
        .filter(|s| s.is_group())
        .map(|s| s.descriptor.clone())
        .filter(|d| org.entitlements.rule(d).is_some())
        .ok_or_else(|| group_not_found(id))
}

/// The group a rule is added for: an Entra group (`origin: aad`, `originId`), materialized when
/// needed, or an Azure DevOps group (by `descriptor`, or `originId`).
fn group_of(
    org: &mut Organization,
    tenant: Uuid,
    directory: &Directory,
    body: &Value,
) -> Result<String, EntitlementError> {
    let g = body.get("group").cloned().unwrap_or(Value::Null);
    let text = |k: &str| {
        g.get(k)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    let (origin, origin_id, descriptor) = (text("origin"), text("originId"), text("descriptor"));
    let missing = || {
        failure(
            codes::NOT_FOUND,
            format!(
                "VS403281: The group '{}' could not be found.",
                if origin_id.is_empty() {
                    &descriptor
                } else {
                    &origin_id
                }
            ),
        )
    };
    if !descriptor.is_empty() {
        return org
            .subject(&descriptor)
            .filter(|s| s.is_group() && !s.deleted)
            .map(|s| s.descriptor.clone())
            .ok_or_else(missing);
    }
    if origin.eq_ignore_ascii_case("aad") {
        let entra = directory
            .groups
            .iter()
            .find(|d| d.object_id.to_string().eq_ignore_ascii_case(&origin_id))
            .ok_or_else(missing)?;
        return Ok(org.materialize_entra_group(tenant, entra).0);
    }
    org.subjects
        .with_origin_id(&origin_id)
        .find(|s| s.kind == SubjectKind::Group && !s.deleted && s.origin == Origin::Vsts)
        .map(|s| s.descriptor.clone())
        .ok_or_else(missing)
}

/// `?ruleOption=1` (`testApplyGroupRule`): check only.
fn test_only(params: &Params) -> bool {
    params
        .get("ruleOption")
        .is_some_and(|v| v == "1" || v.eq_ignore_ascii_case("testApplyGroupRule"))
}

/// Queues the rule's application; returns the operation.
fn queue(app: &SharedApp, org: &mut Organization, group: &str, now: DateTime<Utc>) -> Operation {
    let delay = chrono::Duration::milliseconds(app.behaviours().group_rule_apply_ms as i64);
    let operation = Operation {
        id: Uuid::new_v4(),
        group: group.to_string(),
        created: now,
        completes_at: now + delay,
        status: OperationStatus::Queued,
        errors: Vec::new(),
    };
    if let Some(rule) = org.entitlements.rule_mut(group) {
        rule.status = RuleStatus::ApplyPending;
    }
    org.entitlements.push_operation(operation.clone());
    operation
}

/// `GroupEntitlementOperationReference`: the operation (or, without one, a completed
/// reference) and one result.
fn reference(
    app: &SharedApp,
    org: &Organization,
    operation: Option<&Operation>,
    group: Option<&str>,
    result: Result<(), EntitlementError>,
) -> Value {
    let group_subject = group.and_then(|g| org.subject(g));
    let rule = group.and_then(|g| org.entitlements.rule(g));
    let success = result.is_ok();
    let errors = match &result {
        Ok(()) => Vec::new(),
        Err(e) => vec![e.clone()],
    };
    let (id, status, url) = match operation {
        Some(op) => (
            op.id,
            op.status.wire_name(),
            Value::String(render::operation_url(&app.urls.vsaex, org, op)),
        ),
        None => (
            Uuid::nil(),
            if success { "succeeded" } else { "failed" },
            Value::Null,
        ),
    };
    json!({
        "id": id,
        "pluginId": null,
        "status": status,
        "url": url,
        "completed": operation.is_none(),
        "haveResultsSucceeded": success,
        "results": [{
            "isSuccess": success,
            "errors": render::errors(&errors),
            "groupId": group_subject.map(|g| g.storage_key),
            "result": rule.map(|r| render::group_entitlement(&app.urls.vssps, org, r)),
        }],
    })
}

pub async fn list(
    State(app): State<SharedApp>,
    Extension(caller): Extension<Caller>,
    Path(org_name): Path<String>,
) -> ApiResult {
    let mut state = app.state();
    let org = settled(&app, &mut state, &org_name, Utc::now())?;
    authorize(&caller, org, Need::Read)?;
    let values = org
        .entitlements
        .rules
        .iter()
        .map(|r| render::group_entitlement(&app.urls.vssps, org, r))
        .collect();
    Ok(ok(collection(values)))
}

pub async fn get_one(
    State(app): State<SharedApp>,
    Extension(caller): Extension<Caller>,
    Path((org_name, id)): Path<(String, String)>,
) -> ApiResult {
    let mut state = app.state();
    let org = settled(&app, &mut state, &org_name, Utc::now())?;
    authorize(&caller, org, Need::Read)?;
    let group = rule_group(org, &id)?;
    let rule = org.entitlements.rule(&group).expect("checked");
    Ok(ok(render::group_entitlement(&app.urls.vssps, org, rule)))
}

pub async fn add(
    State(app): State<SharedApp>,
    Extension(caller): Extension<Caller>,
    Path(org_name): Path<String>,
    params: Params,
    body: Bytes,
) -> ApiResult {
    let body: Value = parse_body(&body, "groupEntitlement")?;
    let now = Utc::now();
    let mut state = app.state();
    let tenant = state.tenant_id;
    let directory = std::sync::Arc::clone(&state.directory);
    let org = settled(&app, &mut state, &org_name, now)?;
    authorize(&caller, org, Need::Write)?;
    let checked = (|| {
        let licence = patch::licence(
            body.get("licenseRule")
                .or_else(|| body.get("accessLevel"))
                .unwrap_or(&Value::Null),
        )?;
        let projects = patch::project_entitlements(org, body.get("projectEntitlements"))?;
        let group = group_of(org, tenant, &directory, &body)?;
        if org.entitlements.rule(&group).is_some() {
            return Err(failure(
                codes::ALREADY_EXISTS,
                "VS403289: The group already has a group rule; update it instead.".into(),
            ));
        }
        Ok((group, licence, projects))
    })();
    let (group, licence, projects) = match checked {
        Ok(ok) => ok,
        Err(e) => {
            let body = reference(&app, org, None, None, Err(e));
            return Ok(respond_json(StatusCode::CREATED, body));
        }
    };
    if test_only(&params) {
        let body = reference(&app, org, None, Some(&group), Ok(()));
        return Ok(respond_json(StatusCode::CREATED, body));
    }
    org.entitlements.rules.push(GroupRule {
        group: group.clone(),
        licence,
        projects,
        status: RuleStatus::ApplyPending,
        status_message: String::new(),
        last_executed: None,
        licensed: Vec::new(),
    });
    let operation = queue(&app, org, &group, now);
    let body = reference(&app, org, Some(&operation), Some(&group), Ok(()));
    Ok(respond_json(StatusCode::CREATED, body))
}

pub async fn update(
    State(app): State<SharedApp>,
    Extension(caller): Extension<Caller>,
    Path((org_name, id)): Path<(String, String)>,
    params: Params,
    body: Bytes,
) -> ApiResult {
    let operations: Vec<PatchOperation> = parse_body(&body, "document")?;
    let now = Utc::now();
    let mut state = app.state();
    let org = settled(&app, &mut state, &org_name, now)?;
    authorize(&caller, org, Need::Write)?;
    let group = rule_group(org, &id)?;
    let changes = match patch::changes(org, &operations) {
        Ok(changes) => changes,
        Err(e) => return Ok(ok(reference(&app, org, None, Some(&group), Err(e)))),
    };
    if test_only(&params) {
        return Ok(ok(reference(&app, org, None, Some(&group), Ok(()))));
    }
    let rule = org.entitlements.rule_mut(&group).expect("checked");
    let (removed, _) = patch::apply(&changes, &mut rule.licence, &mut rule.projects);
    // Entitlements removed from the rule take the group out of those project groups; added
    // ones join at application.
    org.leave_project_groups(&group, &removed);
    let operation = queue(&app, org, &group, now);
    Ok(ok(reference(
        &app,
        org,
        Some(&operation),
        Some(&group),
        Ok(()),
    )))
}

pub async fn delete(
    State(app): State<SharedApp>,
    Extension(caller): Extension<Caller>,
    Path((org_name, id)): Path<(String, String)>,
    params: Params,
) -> ApiResult {
    let mut state = app.state();
    let org = settled(&app, &mut state, &org_name, Utc::now())?;
    authorize(&caller, org, Need::Write)?;
    let group = rule_group(org, &id)?;
    if test_only(&params) {
        return Ok(ok(reference(&app, org, None, Some(&group), Ok(()))));
    }
    let groupid = org.subject(&group).map(|g| g.storage_key);
    org.entitlements.rules.retain(|r| r.group != group);
    if params
        .get("removeGroupMembership")
        .is_some_and(|v| v.eq_ignore_ascii_case("true"))
    {
        org.memberships.retain(|m| m.member != group);
    }
    Ok(ok(json!({
        "id": Uuid::nil(),
        "pluginId": null,
        "status": "succeeded",
        "url": null,
        "completed": true,
        "haveResultsSucceeded": true,
        "results": [{ "isSuccess": true, "errors": [], "groupId": groupid, "result": null }],
    })))
}

/// `GET groupentitlements/{groupId}/members`: the members the rule licensed (one page).
pub async fn members(
    State(app): State<SharedApp>,
    Extension(caller): Extension<Caller>,
    Path((org_name, id)): Path<(String, String)>,
) -> ApiResult {
    let mut state = app.state();
    let org = settled(&app, &mut state, &org_name, Utc::now())?;
    authorize(&caller, org, Need::Read)?;
    let group = rule_group(org, &id)?;
    let rule = org.entitlements.rule(&group).expect("checked");
    let members: Vec<Value> = rule
        .licensed
        .iter()
        .filter_map(|d| org.subject(d))
        .filter_map(|s| render::member_entitlement(&app.urls.vssps, org, s))
        .collect();
    Ok(ok(json!({
        "members": members,
        "continuationToken": null,
    })))
}

fn member_change(
    app: &SharedApp,
    caller: &Caller,
    org_name: &str,
    id: &str,
    member_id: &str,
    add: bool,
) -> ApiResult<Response> {
    let now = Utc::now();
    let mut state = app.state();
    let org = settled(app, &mut state, org_name, now)?;
    authorize(caller, org, Need::Write)?;
    let group = rule_group(org, id)?;
    let member = Uuid::parse_str(member_id)
        .ok()
        .and_then(|m| org.subject_by_identity_id(m))
        .map(|s| s.descriptor.clone())
        .ok_or_else(|| ApiError::identity_not_found(member_id))?;
    if add {
        if !org.has_membership(&group, &member) {
            org.memberships.insert(Membership {
                container: group.clone(),
                member,
                visible_at: now,
            });
        }
    } else {
        org.memberships
            .retain(|m| !(m.container == group && m.member == member));
    }
    // The rule follows its members: re-applied like after an update.
    queue(app, org, &group, now);
    Ok(StatusCode::OK.into_response())
}

pub async fn add_member(
    State(app): State<SharedApp>,
    Extension(caller): Extension<Caller>,
    Path((org_name, id, member_id)): Path<(String, String, String)>,
) -> ApiResult<Response> {
    member_change(&app, &caller, &org_name, &id, &member_id, true)
}

pub async fn remove_member(
    State(app): State<SharedApp>,
    Extension(caller): Extension<Caller>,
    Path((org_name, id, member_id)): Path<(String, String, String)>,
) -> ApiResult<Response> {
    member_change(&app, &caller, &org_name, &id, &member_id, false)
}

/// `GET _apis/operations/{operationId}`.
pub async fn operation(
    State(app): State<SharedApp>,
    Path((org_name, id)): Path<(String, String)>,
) -> ApiResult {
    let mut state = app.state();
    let org = settled(&app, &mut state, &org_name, Utc::now())?;
    let operation = Uuid::parse_str(&id)
        .ok()
        .and_then(|id| org.entitlements.operations.iter().find(|o| o.id == id))
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::NOT_FOUND,
                "OperationNotFoundException",
                format!("The operation '{id}' could not be found."),
            )
        })?;
    Ok(ok(render::operation(&app.urls.vsaex, org, operation)))
}
