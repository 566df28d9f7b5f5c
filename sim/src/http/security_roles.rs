//! Security roles (`{org}/_apis/securityroles`, 7.1-preview.1): role definitions per scope and
//! role assignments per resource, as the published spec describes them.
//!
//! - `GET  scopes/{scopeId}/roledefinitions`: the scope's roles.
//! - `GET  scopes/{scopeId}/roleassignments/resources/{resourceId}`: explicit assignments
//!   (`access: assigned`) and, while the resource inherits, its parent's (`inherited`).
//! - `PUT` the same with `[{roleName, userId}]`: set roles (one per identity, replacing).
//! - `PATCH` the same with `[identityId]`: remove; with `?inheritPermissions=`: inheritance.
//! - `PUT|DELETE …/{resourceId}/{identityId}`: one identity.
//!
//! Unknown scopes and resources answer 404, or (behaviour `unknownRoleTarget: silentlyIgnored`)
//! 200 with nothing read or changed; unknown roles 400; unknown identities 404.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Extension;
use serde::Deserialize;
use serde_json::{json, Value};
use uuid::Uuid;

use super::app::SharedApp;
use super::auth::{Caller, Need};
use super::discovery::{catalog, ApiRoutes};
use super::error::{ApiError, ApiResult};
use super::params::Params;
use super::respond::{collection, ok, parse_body};
use crate::model::roles::{Assignment, RoleScope};
use crate::model::subjects::GroupScope;
use crate::model::{Organization, State as World};
use crate::options::UnknownRoleTarget;

pub fn routes() -> ApiRoutes {
    ApiRoutes::new()
        .serve(&catalog::LIST_ROLE_DEFINITIONS, definitions)
        .serve(&catalog::LIST_ROLE_ASSIGNMENTS, list)
        .serve(&catalog::SET_ROLE_ASSIGNMENTS, set_many)
        .serve(&catalog::REMOVE_ROLE_ASSIGNMENTS, patch)
        .serve(&catalog::SET_ROLE_ASSIGNMENT, set_one)
        .serve(&catalog::REMOVE_ROLE_ASSIGNMENT, remove_one)
}

/// 200 without a body (what the removal and inheritance calls answer).
fn done() -> Response {
    StatusCode::OK.into_response()
}

fn scope_not_found(scope_id: &str) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "SecurityRoleScopeNotFoundException",
        format!("The security role scope '{scope_id}' could not be found."),
    )
}

fn resource_not_found(scope: RoleScope, resource_id: &str) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "ResourceNotFoundException",
        format!(
            "The resource '{resource_id}' of scope '{}' could not be found.",
            scope.scope_id()
        ),
    )
}

fn role_not_found(scope: RoleScope, role: &str) -> ApiError {
    ApiError::new(
        StatusCode::BAD_REQUEST,
        "InvalidRoleException",
        format!(
            "The role '{role}' is not defined in scope '{}'.",
            scope.scope_id()
        ),
    )
}

/// What a call targets, once checked: or `None` when an unknown target is silently ignored.
struct Target {
    scope: RoleScope,
    resource_id: String,
}

fn organization<'a>(state: &'a World, name: &str) -> ApiResult<&'a Organization> {
    state
        .organization(name)
        .ok_or_else(|| ApiError::organization_not_found(name))
}

/// Access: project resources need the project; agent pools the organization.
fn authorize(
    caller: &Caller,
    org: &Organization,
    target: &Target,
    need: Need,
) -> Result<(), ApiError> {
    let project_id = target
        .resource_id
        .split(['_', '$'])
        .next()
        .and_then(|p| Uuid::parse_str(p).ok());
    match (target.scope, project_id) {
        (RoleScope::AgentPool, _) | (_, None) => {
            caller.require_scope(org, GroupScope::Organization, need)
        }
        (_, Some(id)) => {
            let name = org.project_name(id).unwrap_or_default();
            let permission = match need {
                Need::Read => "View",
                Need::Write => "Administer",
            };
            caller.require_project(name, need, permission)
        }
    }
}

/// Resolve scope and resource: `Ok(None)` when unknown and the behaviour is to ignore it.
fn target(
    app: &SharedApp,
    org: &Organization,
    scope_id: &str,
    resource_id: &str,
) -> ApiResult<Option<Target>> {
    let silent = app.behaviours().unknown_role_target == UnknownRoleTarget::SilentlyIgnored;
    let Some(scope) = RoleScope::parse(scope_id) else {
        return if silent {
            Ok(None)
        } else {
            Err(scope_not_found(scope_id))
        };
    };
    match scope.resolve(org, resource_id) {
        Some(resource_id) => Ok(Some(Target { scope, resource_id })),
        None if silent => Ok(None),
        None => Err(resource_not_found(scope, resource_id)),
    }
}

fn render_role(scope: RoleScope, name: &str) -> Value {
    let role = scope.role(name);
    json!({
        "displayName": role.map_or(name, |r| r.name),
        "name": role.map_or(name, |r| r.name),
        "allowPermissions": role.map_or(0, |r| r.allow),
        "denyPermissions": 0,
        "identifier": format!("{}.{}", scope.scope_id(), role.map_or(name, |r| r.name)),
        "description": role.map_or("", |r| r.description),
        "scope": scope.scope_id(),
    })
}

fn render_assignment(
    org: &Organization,
    scope: RoleScope,
    a: &Assignment,
    inherited: bool,
) -> Value {
    let subject = org.subject_by_identity_id(a.identity_id);
    json!({
        "identity": {
            "displayName": subject.map(|s| s.display_name.clone()).unwrap_or_default(),
            "id": a.identity_id,
            "uniqueName": subject.map(|s| s.principal_name.clone()).unwrap_or_default(),
            "descriptor": subject.map(|s| s.descriptor.clone()).unwrap_or_default(),
        },
        "role": render_role(scope, &a.role),
        "access": if inherited { "inherited" } else { "assigned" },
        "accessDisplayName": if inherited { "Inherited" } else { "Assigned" },
    })
}

/// The assignments a GET shows: explicit ones, then (while inheriting) the parent's that no
/// explicit one overrides.
fn visible(org: &Organization, target: &Target) -> Vec<Value> {
    let mut values = Vec::new();
    let own = org.role_resource(target.scope, &target.resource_id);
    let explicit = own.map(|r| r.assignments.as_slice()).unwrap_or_default();
    for a in explicit {
        values.push(render_assignment(org, target.scope, a, false));
    }
    let inherit = own.is_none_or(|r| r.inherit);
    if let (true, Some((scope, parent))) = (inherit, target.scope.parent(&target.resource_id)) {
        let parent_target = Target {
            scope,
            resource_id: parent,
        };
        let from_parent = org
            .role_resource(scope, &parent_target.resource_id)
            .map(|r| r.assignments.clone())
            .unwrap_or_default();
        for a in &from_parent {
            if explicit.iter().all(|e| e.identity_id != a.identity_id) {
                values.push(render_assignment(org, scope, a, true));
            }
        }
    }
    values
}

pub async fn definitions(
    State(app): State<SharedApp>,
    Path((org_name, scope_id)): Path<(String, String)>,
) -> ApiResult {
    let state = app.state();
    organization(&state, &org_name)?;
    let Some(scope) = RoleScope::parse(&scope_id) else {
        return Err(scope_not_found(&scope_id));
    };
    let roles = scope
        .roles()
        .iter()
        .map(|r| render_role(scope, r.name))
        .collect();
    Ok(ok(collection(roles)))
}

pub async fn list(
    State(app): State<SharedApp>,
    Extension(caller): Extension<Caller>,
    Path((org_name, scope_id, resource_id)): Path<(String, String, String)>,
) -> ApiResult {
    let state = app.state();
    let org = organization(&state, &org_name)?;
    let Some(target) = target(&app, org, &scope_id, &resource_id)? else {
        return Ok(ok(collection(Vec::new())));
    };
    authorize(&caller, org, &target, Need::Read)?;
    Ok(ok(collection(visible(org, &target))))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct UserRoleAssignmentRef {
    #[serde(default)]
    role_name: Option<String>,
    #[serde(default)]
    user_id: Option<String>,
}

/// Validate every entry (role defined, identity known) before changing anything.
fn checked(
    org: &Organization,
    scope: RoleScope,
    refs: &[UserRoleAssignmentRef],
) -> ApiResult<Vec<Assignment>> {
    refs.iter()
        .map(|r| -> ApiResult<Assignment> {
            let role_name = r.role_name.as_deref().unwrap_or_default();
            let role = scope
                .role(role_name)
                .ok_or_else(|| role_not_found(scope, role_name))?;
            let raw = r.user_id.as_deref().unwrap_or_default();
            let id = Uuid::parse_str(raw).map_err(|_| {
                ApiError::invalid_argument(format!(
                    "The user id '{raw}' is not a valid identity id."
                ))
            })?;
            org.subject_by_identity_id(id)
                .ok_or_else(|| ApiError::identity_not_found(&format!("id {id}")))?;
            Ok(Assignment {
                identity_id: id,
                role: role.name.to_string(),
            })
        })
        .collect()
}

/// Set the roles; the assignments as now held, in the order of the request.
fn apply(
    app: &SharedApp,
    org_name: &str,
    caller: &Caller,
    scope_id: &str,
    resource_id: &str,
    refs: &[UserRoleAssignmentRef],
) -> ApiResult<Vec<Value>> {
    let mut state = app.state();
    let (target, assignments) = {
        let org = organization(&state, org_name)?;
        let Some(target) = target(app, org, scope_id, resource_id)? else {
            return Ok(Vec::new());
        };
        authorize(caller, org, &target, Need::Write)?;
        let assignments = checked(org, target.scope, refs)?;
        (target, assignments)
    };
    let org = state
        .organization_mut(org_name)
        .ok_or_else(|| ApiError::organization_not_found(org_name))?;
    let resource = org.role_resource_mut(target.scope, &target.resource_id);
    for a in &assignments {
        resource
            .assignments
            .retain(|e| e.identity_id != a.identity_id);
        resource.assignments.push(a.clone());
    }
    let org = &*org;
    Ok(assignments
        .iter()
        .map(|a| render_assignment(org, target.scope, a, false))
        .collect())
}

pub async fn set_many(
    State(app): State<SharedApp>,
    Extension(caller): Extension<Caller>,
    Path((org_name, scope_id, resource_id)): Path<(String, String, String)>,
    body: Bytes,
) -> ApiResult {
    let refs: Vec<UserRoleAssignmentRef> = parse_body(&body, "roleAssignments")?;
    let values = apply(&app, &org_name, &caller, &scope_id, &resource_id, &refs)?;
    Ok(ok(collection(values)))
}

pub async fn set_one(
    State(app): State<SharedApp>,
    Extension(caller): Extension<Caller>,
    Path((org_name, scope_id, resource_id, identity_id)): Path<(String, String, String, String)>,
    body: Bytes,
) -> ApiResult {
    let mut one: UserRoleAssignmentRef = parse_body(&body, "roleAssignment")?;
    one.user_id = Some(identity_id);
    let values = apply(&app, &org_name, &caller, &scope_id, &resource_id, &[one])?;
    Ok(ok(values.into_iter().next().unwrap_or(Value::Null)))
}

/// Remove these identities' explicit assignments (absent ones are no error).
fn remove(
    app: &SharedApp,
    org_name: &str,
    caller: &Caller,
    scope_id: &str,
    resource_id: &str,
    ids: &[Uuid],
) -> ApiResult<()> {
    let mut state = app.state();
    let target = {
        let org = organization(&state, org_name)?;
        let Some(target) = target(app, org, scope_id, resource_id)? else {
            return Ok(());
        };
        authorize(caller, org, &target, Need::Write)?;
        target
    };
    let org = state
        .organization_mut(org_name)
        .ok_or_else(|| ApiError::organization_not_found(org_name))?;
    let resource = org.role_resource_mut(target.scope, &target.resource_id);
    resource
        .assignments
        .retain(|a| !ids.contains(&a.identity_id));
    Ok(())
}

fn parse_ids(raw: &[String]) -> ApiResult<Vec<Uuid>> {
    raw.iter()
        .map(|id| -> ApiResult<Uuid> {
            Uuid::parse_str(id).map_err(|_| {
                ApiError::invalid_argument(format!("The identity id '{id}' is not a valid GUID."))
            })
        })
        .collect()
}

/// `PATCH`: with `?inheritPermissions=` it switches inheritance (no body), otherwise it removes
/// the identities in the body.
pub async fn patch(
    State(app): State<SharedApp>,
    Extension(caller): Extension<Caller>,
    Path((org_name, scope_id, resource_id)): Path<(String, String, String)>,
    params: Params,
    body: Bytes,
) -> ApiResult {
    if let Some(raw) = params.get("inheritPermissions") {
        let inherit: bool = raw.to_ascii_lowercase().parse().map_err(|_| {
            ApiError::invalid_argument(format!("inheritPermissions '{raw}' is not a boolean."))
        })?;
        let mut state = app.state();
        let target = {
            let org = organization(&state, &org_name)?;
            let Some(target) = target(&app, org, &scope_id, &resource_id)? else {
                return Ok(done());
            };
            authorize(&caller, org, &target, Need::Write)?;
            target
        };
        let org = state
            .organization_mut(&org_name)
            .ok_or_else(|| ApiError::organization_not_found(&org_name))?;
        org.role_resource_mut(target.scope, &target.resource_id)
            .inherit = inherit;
        return Ok(done());
    }
    let raw: Vec<String> = parse_body(&body, "identityIds")?;
    let ids = parse_ids(&raw)?;
    remove(&app, &org_name, &caller, &scope_id, &resource_id, &ids)?;
    Ok(done())
}

pub async fn remove_one(
    State(app): State<SharedApp>,
    Extension(caller): Extension<Caller>,
    Path((org_name, scope_id, resource_id, identity_id)): Path<(String, String, String, String)>,
) -> ApiResult {
    let ids = parse_ids(&[identity_id])?;
    remove(&app, &org_name, &caller, &scope_id, &resource_id, &ids)?;
    Ok(done())
}
