//! Graph memberships: add (PUT), check (HEAD), get, remove, list up/down, membership state.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Extension;
use chrono::Utc;
use serde_json::json;

use super::render::membership_json;
use super::{governing_scope, organization, organization_mut};
use crate::http::app::SharedApp;
use crate::http::auth::{Caller, Need};
use crate::http::error::{ApiError, ApiResult};
use crate::http::params::Params;
use crate::http::respond::{collection, created, ok};
use crate::model::subjects::{Membership, Origin};
use crate::model::Organization;
use crate::options::RepeatedMembershipAdd;

fn live_subject<'a>(
    org: &'a Organization,
    descriptor: &str,
) -> ApiResult<&'a crate::model::subjects::Subject> {
    org.subject(descriptor)
        .filter(|s| !s.deleted)
        .ok_or_else(|| ApiError::subject_not_found(descriptor))
}

fn visible(membership: &Membership) -> bool {
    membership.visible_at <= Utc::now()
}

pub async fn add(
    State(app): State<SharedApp>,
    Extension(caller): Extension<Caller>,
    Path((org_name, subject, container)): Path<(String, String, String)>,
) -> ApiResult {
    let behaviour = app.behaviours().repeated_membership_add;
    let visible_at = app.visible_from_now();
    let mut state = app.state();
    let org = organization_mut(&mut state, &org_name)?;
    let group = live_subject(org, &container)?;
    if !group.is_group() {
        return Err(ApiError::bad_request(format!(
            "VS860022: The container '{container}' is not a group."
        )));
    }
    caller.require_scope(org, group.scope, Need::Write)?;
    if group.origin == Origin::Aad {
        return Err(ApiError::bad_request(
            "VS860023: Members of Azure Active Directory groups are managed in the directory.",
        ));
    }
    live_subject(org, &subject)?;
    if subject == container {
        return Err(ApiError::bad_request(
            "VS860024: A group cannot be a member of itself.",
        ));
    }
    if org.has_membership(&container, &subject) {
        if behaviour == RepeatedMembershipAdd::Conflict {
            let group_name = org
                .subject(&container)
                .map(|g| g.principal_name.clone())
                .unwrap_or_default();
            let member_name = org
                .subject(&subject)
                .map(|s| s.principal_name.clone())
                .unwrap_or_default();
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                "AddMemberIdentityAlreadyMemberException",
                format!("TF50235: The group {group_name} already has a member {member_name}."),
            ));
        }
    } else {
        org.memberships.insert(Membership {
            container: container.clone(),
            member: subject.clone(),
            visible_at,
        });
    }
    let body = membership_json(&app.urls.vssps, org, &subject, &container);
    let location = format!(
        "{}/Memberships/{subject}/{container}",
        super::render::graph_base(&app.urls.vssps, org)
    );
    Ok(created(body, &location))
}

/// Reads see a membership only once it is visible (eventual consistency).
fn find_visible(org: &Organization, subject: &str, container: &str) -> bool {
    org.memberships.get(container, subject).is_some_and(visible)
}

pub async fn check(
    State(app): State<SharedApp>,
    Extension(caller): Extension<Caller>,
    Path((org_name, subject, container)): Path<(String, String, String)>,
) -> Response {
    let state = app.state();
    let Ok(org) = organization(&state, &org_name) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    if let Some(group) = org.subject(&container) {
        if let Err(denied) = caller.require_scope(org, group.scope, Need::Read) {
            return denied.into_response();
        }
    }
    if find_visible(org, &subject, &container) {
        StatusCode::OK.into_response()
    } else {
        ApiError::bare(StatusCode::NOT_FOUND).into_response()
    }
}

pub async fn get_one(
    State(app): State<SharedApp>,
    Extension(caller): Extension<Caller>,
    Path((org_name, subject, container)): Path<(String, String, String)>,
) -> ApiResult {
    let state = app.state();
    let org = organization(&state, &org_name)?;
    if let Some(group) = org.subject(&container) {
        caller.require_scope(org, group.scope, Need::Read)?;
    }
    if !find_visible(org, &subject, &container) {
        return Err(ApiError::membership_not_found(&subject, &container));
    }
    Ok(ok(membership_json(
        &app.urls.vssps,
        org,
        &subject,
        &container,
    )))
}

pub async fn remove(
    State(app): State<SharedApp>,
    Extension(caller): Extension<Caller>,
    Path((org_name, subject, container)): Path<(String, String, String)>,
) -> ApiResult<Response> {
    let mut state = app.state();
    let org = organization_mut(&mut state, &org_name)?;
    let group = org
        .subject(&container)
        .ok_or_else(|| ApiError::subject_not_found(&container))?;
    caller.require_scope(org, group.scope, Need::Write)?;
    let before = org.memberships.len();
    org.memberships
        .retain(|m| !(m.container == container && m.member == subject));
    if org.memberships.len() == before {
        return Err(ApiError::membership_not_found(&subject, &container));
    }
    Ok(StatusCode::OK.into_response())
}

pub async fn list(
    State(app): State<SharedApp>,
    Extension(caller): Extension<Caller>,
    Path((org_name, descriptor)): Path<(String, String)>,
    params: Params,
) -> ApiResult {
    let state = app.state();
    let org = organization(&state, &org_name)?;
    let subject = org
        .subject(&descriptor)
        .ok_or_else(|| ApiError::subject_not_found(&descriptor))?;
    caller.require_scope(org, governing_scope(subject), Need::Read)?;
    let direction = params.get("direction").unwrap_or("up").to_ascii_lowercase();
    if let Some(depth) = params.get("depth") {
        if depth != "1" {
            return Err(ApiError::invalid_argument(format!(
                "VS860025: Depth '{depth}' is not supported; the only supported depth is 1."
            )));
        }
    }
    let down = match direction.as_str() {
        "down" => true,
        "up" | "unknown" => false,
        other => {
            return Err(ApiError::invalid_argument(format!(
                "The value '{other}' is not valid for direction."
            )))
        }
    };
    let alive = |d: &str| org.subject(d).is_some_and(|s| !s.deleted);
    let related = if down {
        org.memberships.of_container(&descriptor)
    } else {
        org.memberships.of_member(&descriptor)
    };
    let values = related
        .into_iter()
        .filter(|m| visible(m))
        .filter(|m| alive(if down { &m.member } else { &m.container }))
        .map(|m| membership_json(&app.urls.vssps, org, &m.member, &m.container))
        .collect();
    Ok(ok(collection(values)))
}

pub async fn state(
    State(app): State<SharedApp>,
    Path((org_name, descriptor)): Path<(String, String)>,
) -> ApiResult {
    let state = app.state();
    let org = organization(&state, &org_name)?;
    let subject = org
        .subject(&descriptor)
        .ok_or_else(|| ApiError::subject_not_found(&descriptor))?;
    Ok(ok(json!({
        "_links": { "self": { "href": format!("{}/MembershipStates/{descriptor}", super::render::graph_base(&app.urls.vssps, org)) } },
        "active": !subject.deleted,
    })))
}
