//! Graph (`vssps.dev.azure.com/{org}/_apis/graph/...`): groups, users, service principals,
//! memberships, descriptors, storage keys, subject query and lookup.

mod groups;
mod lookup;
mod memberships;
pub mod render;
mod subjects;
mod users;

use super::discovery::{catalog, ApiRoutes};
use super::error::{ApiError, ApiResult};
use crate::model::subjects::{GroupScope, Subject};
use crate::model::{Organization, State};

pub fn routes() -> ApiRoutes {
    ApiRoutes::new()
        .serve(&catalog::LIST_GROUPS, groups::list)
        .serve(&catalog::CREATE_GROUP, groups::create)
        .serve(&catalog::GET_GROUP, groups::get_one)
        .serve(&catalog::UPDATE_GROUP, groups::update)
        .serve(&catalog::DELETE_GROUP, groups::delete)
        .serve(&catalog::LIST_USERS, users::list_users)
        .serve(&catalog::CREATE_USER, users::create_user)
        .serve(&catalog::GET_USER, users::get_user)
        .serve(&catalog::DELETE_USER, users::delete_user)
        .serve(
            &catalog::LIST_SERVICE_PRINCIPALS,
            users::list_service_principals,
        )
        .serve(
            &catalog::CREATE_SERVICE_PRINCIPAL,
            users::create_service_principal,
        )
        .serve(
            &catalog::GET_SERVICE_PRINCIPAL,
            users::get_service_principal,
        )
        .serve(&catalog::ADD_MEMBERSHIP, memberships::add)
        .serve(&catalog::CHECK_MEMBERSHIP, memberships::check)
        .serve(&catalog::GET_MEMBERSHIP, memberships::get_one)
        .serve(&catalog::REMOVE_MEMBERSHIP, memberships::remove)
        .serve(&catalog::LIST_MEMBERSHIPS, memberships::list)
        .serve(&catalog::GET_MEMBERSHIP_STATE, memberships::state)
        .serve(&catalog::GET_DESCRIPTOR, lookup::descriptor)
        .serve(&catalog::GET_STORAGE_KEY, lookup::storage_key)
        .serve(&catalog::QUERY_SUBJECTS, lookup::query)
        .serve(&catalog::LOOKUP_SUBJECTS, lookup::lookup)
        .serve(&catalog::GET_SUBJECT, lookup::subject)
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
