//! Graph groups: list (paged), get, create or materialize, update (JSON Patch), delete.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use serde::Deserialize;

use super::render::subject_json;
use super::{governing_scope, organization, organization_mut, subjects};
use crate::http::app::SharedApp;
use crate::http::auth::{Caller, Need};
use crate::http::error::{ApiError, ApiResult};
use crate::http::params::Params;
use crate::http::respond::{ok, parse_body};
use crate::model::subjects::{GroupScope, Origin};
use crate::model::{IdSource, Organization};
use crate::options::DuplicateGroupCreate;

pub async fn list(
    State(app): State<SharedApp>,
    Extension(caller): Extension<Caller>,
    Path(org): Path<String>,
    params: Params,
) -> ApiResult {
    let state = app.state();
    let org = organization(&state, &org)?;
    let scope = match params.get("scopeDescriptor") {
        Some(d) => {
            let scope = org
                .scope_of(d)
                .ok_or_else(|| ApiError::subject_not_found(d))?;
            caller.require_scope(org, scope, Need::Read)?;
            Some(scope)
        }
        None => None,
    };
    // Pages are cut from the whole organization's groups.
    let all: Vec<_> = org
        .subjects
        .iter()
        .filter(|s| s.is_group() && !s.deleted)
        .collect();
    let page_size = app.behaviours().graph_page_size;
    subjects::page(&app, org, &params, &all, page_size, |s| match scope {
        // Without a scope: everything the caller may see.
        None => caller.require_scope(org, s.scope, Need::Read).is_ok(),
        Some(scope) => s.scope == scope,
    })
}

pub async fn get_one(
    State(app): State<SharedApp>,
    Extension(caller): Extension<Caller>,
    Path((org, descriptor)): Path<(String, String)>,
) -> ApiResult {
    let state = app.state();
    let org = organization(&state, &org)?;
    let group = org
        .subject(&descriptor)
        .filter(|s| s.is_group())
        .ok_or_else(|| ApiError::subject_not_found(&descriptor))?;
    caller.require_scope(org, group.scope, Need::Read)?;
    let mut body = subject_json(&app.urls.vssps, org, group);
    if app.behaviours().omit_is_deleted {
        if let Some(fields) = body.as_object_mut() {
            fields.remove("isDeleted");
        }
    }
    Ok(ok(body))
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct GroupCreationContext {
    display_name: Option<String>,
    description: Option<String>,
    origin_id: Option<String>,
    mail_address: Option<String>,
}

pub async fn create(
    State(app): State<SharedApp>,
    Extension(caller): Extension<Caller>,
    Path(org_name): Path<String>,
    params: Params,
    body: Bytes,
) -> ApiResult {
    let context: GroupCreationContext = parse_body(&body, "creationContext")?;
    let behaviours = app.behaviours();
    let mut state = app.state();
    let tenant = state.tenant_id;
    let directory = std::sync::Arc::clone(&state.directory);
    let org = organization_mut(&mut state, &org_name)?;
    let parents = params.list("groupDescriptors");
    for parent in &parents {
        let group = org
            .subject(parent)
            .filter(|s| s.is_group() && !s.deleted)
            .ok_or_else(|| ApiError::subject_not_found(parent))?;
        caller.require_scope(org, group.scope, Need::Write)?;
    }

    let entra_lookup = context.origin_id.clone().or(context.mail_address.clone());
    let (descriptor, _) = if let Some(key) = entra_lookup {
        if params.get("scopeDescriptor").is_some() {
            return Err(ApiError::bad_request(
                "VS860016: A scope descriptor can only be specified when creating an Azure DevOps group; Azure Active Directory groups are materialized at organization scope.",
            ));
        }
        if parents.is_empty() {
            caller.require_scope(org, GroupScope::Organization, Need::Write)?;
        }
        caller.require_directory_read(app.behaviours().directory_read_error_body)?;
        let group = directory
            .groups
            .iter()
            .find(|g| {
                g.object_id.to_string().eq_ignore_ascii_case(&key)
                    || g.mail
                        .as_deref()
                        .is_some_and(|m| m.eq_ignore_ascii_case(&key))
            })
            .ok_or_else(|| {
                ApiError::identity_not_found(&format!("origin id or mail address '{key}'"))
            })?;
        org.materialize_entra_group(tenant, group)
    } else {
        let name = context
            .display_name
            .as_deref()
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .ok_or_else(|| {
                ApiError::bad_request("VS860017: The creation context must contain a displayName, an originId or a mailAddress.")
            })?
            .to_string();
        let scope = match params.get("scopeDescriptor") {
            Some(d) => org
                .scope_of(d)
                .ok_or_else(|| ApiError::subject_not_found(d))?,
            None => GroupScope::Organization,
        };
        caller.require_scope(org, scope, Need::Write)?;
        match org.group_named(scope, &name) {
            Some(existing) => match behaviours.duplicate_group_create {
                DuplicateGroupCreate::ReturnExisting => (existing.descriptor.clone(), false),
                DuplicateGroupCreate::Conflict => {
                    return Err(ApiError::new(
                        StatusCode::CONFLICT,
                        "GroupCreationException",
                        format!(
                            "TF50624: A group named {name} already exists in scope {}",
                            org.principal_scope_name(scope)
                        ),
                    ));
                }
            },
            None => (
                org.create_vsts_group(
                    scope,
                    &name,
                    context.description.clone(),
                    false,
                    IdSource::Random,
                ),
                true,
            ),
        }
    };
    subjects::join_parents(&app, org, &parents, &descriptor);
    subjects::created_subject(&app, org, &descriptor)
}

#[derive(Debug, Deserialize)]
struct PatchOperation {
    op: String,
    path: String,
    #[serde(default)]
    value: Option<serde_json::Value>,
}

fn is_json_patch(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("application/json-patch+json"))
}

pub async fn update(
    State(app): State<SharedApp>,
    Extension(caller): Extension<Caller>,
    Path((org_name, descriptor)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult {
    if !is_json_patch(&headers) {
        let given = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("(none)")
            .to_string();
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "VssRequestContentTypeNotSupportedException",
            format!("The request content type {given} is not supported. Use application/json-patch+json."),
        ));
    }
    let operations: Vec<PatchOperation> = parse_body(&body, "patchDocument")?;
    let mut state = app.state();
    let org = organization_mut(&mut state, &org_name)?;
    let group = org
        .subject(&descriptor)
        .filter(|s| s.is_group() && !s.deleted)
        .ok_or_else(|| ApiError::subject_not_found(&descriptor))?;
    caller.require_scope(org, group.scope, Need::Write)?;
    if group.origin != Origin::Vsts {
        return Err(ApiError::bad_request(
            "VS860018: Only Azure DevOps groups can be updated; Azure Active Directory groups are managed in the directory.",
        ));
    }
    let mut display_name = group.display_name.clone();
    let mut description = group.description.clone();
    for op in &operations {
        let value = op
            .value
            .as_ref()
            .and_then(|v| v.as_str())
            .map(str::to_string);
        match (
            op.op.to_ascii_lowercase().as_str(),
            op.path.to_ascii_lowercase().as_str(),
        ) {
            ("replace" | "add", "/displayname") => {
                display_name = value.filter(|v| !v.trim().is_empty()).ok_or_else(|| {
                    ApiError::bad_request("VS860019: displayName cannot be empty.")
                })?;
            }
            ("replace" | "add", "/description") => description = value,
            ("remove", "/description") => description = None,
            ("test", _) => {}
            (op_name, path) => {
                return Err(ApiError::bad_request(format!(
                    "VS860020: The operation '{op_name}' on path '{path}' is not supported. Only /displayName and /description can be changed."
                )));
            }
        }
    }
    if !display_name.eq_ignore_ascii_case(&group.display_name) {
        if group.built_in {
            return Err(ApiError::bad_request(format!(
                "VS860021: The built-in group '{}' cannot be renamed.",
                group.display_name
            )));
        }
        if org.group_named(group.scope, &display_name).is_some() {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                "GroupRenameException",
                format!(
                    "TF50624: A group named {display_name} already exists in scope {}",
                    org.principal_scope_name(group.scope)
                ),
            ));
        }
    }
    let scope_name = org.principal_scope_name(governing_scope(group));
    let subject = org
        .subject_mut(&descriptor)
        .ok_or_else(|| ApiError::subject_not_found(&descriptor))?;
    subject.principal_name = format!("[{scope_name}]\\{display_name}");
    subject.display_name = display_name;
    subject.description = description;
    let org: &Organization = org;
    let group = org
        .subject(&descriptor)
        .ok_or_else(|| ApiError::subject_not_found(&descriptor))?;
    Ok(ok(subject_json(&app.urls.vssps, org, group)))
}

pub async fn delete(
    State(app): State<SharedApp>,
    Extension(caller): Extension<Caller>,
    Path((org_name, descriptor)): Path<(String, String)>,
) -> ApiResult<Response> {
    let mut state = app.state();
    let org = organization_mut(&mut state, &org_name)?;
    let group = org
        .subject(&descriptor)
        .filter(|s| s.is_group() && !s.deleted)
        .ok_or_else(|| ApiError::subject_not_found(&descriptor))?;
    caller.require_scope(org, group.scope, Need::Write)?;
    if group.built_in {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "RemoveSpecialGroupException",
            format!(
                "TF50630: The group {} is a special group and cannot be deleted.",
                group.principal_name
            ),
        ));
    }
    org.memberships
        .retain(|m| m.container != descriptor && m.member != descriptor);
    if let Some(subject) = org.subject_mut(&descriptor) {
        subject.deleted = true;
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}
