//! Graph (`vssps.dev.azure.com/{org}/_apis/graph/...`): groups, users, service principals,
//! memberships, descriptors, storage keys, subject query and lookup.

mod groups;
mod lookup;
mod memberships;
pub mod render;
mod users;

use axum::routing::{get, post, put};
use axum::Router;

use super::app::SharedApp;
use super::error::{ApiError, ApiResult};
use crate::model::subjects::{GroupScope, Subject};
use crate::model::{Organization, State};

pub fn routes() -> Router<SharedApp> {
    Router::new()
        .route(
            "/{org}/_apis/graph/groups",
            get(groups::list).post(groups::create),
        )
        .route(
            "/{org}/_apis/graph/groups/{descriptor}",
            get(groups::get_one)
                .patch(groups::update)
                .delete(groups::delete),
        )
        .route(
            "/{org}/_apis/graph/users",
            get(users::list_users).post(users::create_user),
        )
        .route(
            "/{org}/_apis/graph/users/{descriptor}",
            get(users::get_user).delete(users::delete_user),
        )
        .route(
            "/{org}/_apis/graph/serviceprincipals",
            get(users::list_service_principals).post(users::create_service_principal),
        )
        .route(
            "/{org}/_apis/graph/serviceprincipals/{descriptor}",
            get(users::get_service_principal),
        )
        .route(
            "/{org}/_apis/graph/memberships/{subject}/{container}",
            put(memberships::add)
                .head(memberships::check)
                .get(memberships::get_one)
                .delete(memberships::remove),
        )
        .route(
            "/{org}/_apis/graph/memberships/{subject}",
            get(memberships::list),
        )
        .route(
            "/{org}/_apis/graph/membershipstates/{subject}",
            get(memberships::state),
        )
        .route(
            "/{org}/_apis/graph/descriptors/{storage_key}",
            get(lookup::descriptor),
        )
        .route(
            "/{org}/_apis/graph/storagekeys/{descriptor}",
            get(lookup::storage_key),
        )
        .route("/{org}/_apis/graph/subjectquery", post(lookup::query))
        .route("/{org}/_apis/graph/subjectlookup", post(lookup::lookup))
        .route(
            "/{org}/_apis/graph/subjects/{descriptor}",
            get(lookup::subject),
        )
}

fn organization<'a>(state: &'a State, name: &str) -> ApiResult<&'a Organization> {
    state
        .organization(name)
        .ok_or_else(|| ApiError::organization_not_found(name))
}

fn organization_mut<'a>(state: &'a mut State, name: &str) -> ApiResult<&'a mut Organization> {
    state
        .organization_mut(name)
        .ok_or_else(|| ApiError::organization_not_found(name))
}

/// The scope whose permissions govern a subject: a group's own scope; the organization otherwise.
fn governing_scope(subject: &Subject) -> GroupScope {
    if subject.is_group() {
        subject.scope
    } else {
        GroupScope::Organization
    }
}
