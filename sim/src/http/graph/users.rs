//! Graph users and service principals: list, get, materialize from the directory, disable.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Extension;
use serde::Deserialize;

use super::render::subject_json;
use super::{organization, organization_mut, subjects};
use crate::http::app::SharedApp;
use crate::http::auth::{Caller, Need};
use crate::http::error::{ApiError, ApiResult};
use crate::http::params::Params;
use crate::http::respond::{ok, parse_body};
use crate::model::subjects::{GroupScope, SubjectKind};
use crate::model::Organization;

/// Users and service principals come in pages four times the size of a group page.
fn paged(
    app: &SharedApp,
    org: &Organization,
    kind: SubjectKind,
    params: &Params,
) -> ApiResult<Response> {
    let all: Vec<_> = org
        .subjects
        .iter()
        .filter(|s| s.kind == kind && !s.deleted)
        .collect();
    let page_size = app.behaviours().graph_page_size.max(1) * 4;
    subjects::page(app, org, params, &all, page_size, |_| true)
}

pub async fn list_users(
    State(app): State<SharedApp>,
    Path(org): Path<String>,
    params: Params,
) -> ApiResult {
    let state = app.state();
    let org = organization(&state, &org)?;
    paged(&app, org, SubjectKind::User, &params)
}

pub async fn list_service_principals(
    State(app): State<SharedApp>,
    Path(org): Path<String>,
    params: Params,
) -> ApiResult {
    let state = app.state();
    let org = organization(&state, &org)?;
    paged(&app, org, SubjectKind::ServicePrincipal, &params)
}

fn get_kind(app: &SharedApp, org_name: &str, descriptor: &str, kind: SubjectKind) -> ApiResult {
    let state = app.state();
    let org = organization(&state, org_name)?;
    let subject = org
        .subject(descriptor)
        .filter(|s| s.kind == kind)
        .ok_or_else(|| ApiError::subject_not_found(descriptor))?;
    Ok(ok(subject_json(&app.urls.vssps, org, subject)))
}

pub async fn get_user(
    State(app): State<SharedApp>,
    Path((org, descriptor)): Path<(String, String)>,
) -> ApiResult {
    get_kind(&app, &org, &descriptor, SubjectKind::User)
}

pub async fn get_service_principal(
    State(app): State<SharedApp>,
    Path((org, descriptor)): Path<(String, String)>,
) -> ApiResult {
    get_kind(&app, &org, &descriptor, SubjectKind::ServicePrincipal)
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct SubjectCreationContext {
    principal_name: Option<String>,
    origin_id: Option<String>,
    mail_address: Option<String>,
}

fn check_parents(caller: &Caller, org: &Organization, parents: &[String]) -> ApiResult<()> {
    for parent in parents {
        let group = org
            .subject(parent)
            .filter(|s| s.is_group() && !s.deleted)
            .ok_or_else(|| ApiError::subject_not_found(parent))?;
        caller.require_scope(org, group.scope, Need::Write)?;
    }
    if parents.is_empty() {
        caller.require_scope(org, GroupScope::Organization, Need::Write)?;
    }
    Ok(())
}

pub async fn create_user(
    State(app): State<SharedApp>,
    Extension(caller): Extension<Caller>,
    Path(org_name): Path<String>,
    params: Params,
    body: Bytes,
) -> ApiResult {
    let context: SubjectCreationContext = parse_body(&body, "creationContext")?;
    caller.require_directory_read(app.behaviours().directory_read_error_body)?;
    let mut state = app.state();
    let tenant = state.tenant_id;
    let key = context
        .principal_name
        .or(context.origin_id)
        .or(context.mail_address)
        .ok_or_else(|| {
            ApiError::bad_request("VS860017: The creation context must contain a principalName, an originId or a mailAddress.")
        })?;
    let user = state.directory.user(&key).cloned().ok_or_else(|| {
        ApiError::identity_not_found(&format!(
            "principal name, origin id or mail address '{key}'"
        ))
    })?;
    let parents = params.list("groupDescriptors");
    let org = organization_mut(&mut state, &org_name)?;
    check_parents(&caller, org, &parents)?;
    let (descriptor, _) = org.materialize_user(tenant, &user);
    subjects::join_parents(&app, org, &parents, &descriptor);
    subjects::created_subject(&app, org, &descriptor)
}

pub async fn create_service_principal(
    State(app): State<SharedApp>,
    Extension(caller): Extension<Caller>,
    Path(org_name): Path<String>,
    params: Params,
    body: Bytes,
) -> ApiResult {
    let context: SubjectCreationContext = parse_body(&body, "creationContext")?;
    caller.require_directory_read(app.behaviours().directory_read_error_body)?;
    let mut state = app.state();
    let tenant = state.tenant_id;
    let key = context.origin_id.ok_or_else(|| {
        ApiError::bad_request("VS860017: The creation context must contain an originId.")
    })?;
    let principal = state
        .directory
        .service_principals
        .iter()
        .find(|p| p.object_id.to_string().eq_ignore_ascii_case(&key))
        .cloned()
        .ok_or_else(|| ApiError::identity_not_found(&format!("origin id '{key}'")))?;
    let parents = params.list("groupDescriptors");
    let org = organization_mut(&mut state, &org_name)?;
    check_parents(&caller, org, &parents)?;
    let (descriptor, _) = org.materialize_service_principal(tenant, &principal);
    subjects::join_parents(&app, org, &parents, &descriptor);
    subjects::created_subject(&app, org, &descriptor)
}

pub async fn delete_user(
    State(app): State<SharedApp>,
    Extension(caller): Extension<Caller>,
    Path((org_name, descriptor)): Path<(String, String)>,
) -> ApiResult<Response> {
    let mut state = app.state();
    let org = organization_mut(&mut state, &org_name)?;
    org.subject(&descriptor)
        .filter(|s| s.kind == SubjectKind::User && !s.deleted)
        .ok_or_else(|| ApiError::subject_not_found(&descriptor))?;
    caller.require_scope(org, GroupScope::Organization, Need::Write)?;
    org.memberships.retain(|m| m.member != descriptor);
    if let Some(subject) = org.subject_mut(&descriptor) {
        subject.deleted = true;
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}
