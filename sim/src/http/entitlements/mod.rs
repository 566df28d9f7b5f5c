//! Member Entitlement Management (`vsaex.dev.azure.com/{org}/_apis/...`, 7.1):
//!
//! - `groupentitlements`: group rules. `POST` and `PATCH` answer a
//!   `GroupEntitlementOperationReference` that is `queued`; the operation (`GET
//!   _apis/operations/{id}`) completes after `groupRuleApplyMs`, when the rule is applied: its
//!   project entitlements make the group a member of the project groups and its level is
//!   assigned to every member while licences last (`unableToApply` otherwise). `?ruleOption=1`
//!   only tests the rule. `DELETE` removes it (`removeGroupMembership=true`: and the group's
//!   memberships).
//! - `userentitlements`, `serviceprincipalentitlements`: direct levels and project
//!   entitlements. Failures are 200 with `isSuccess: false` and `errors: [{key, value}]`
//!   (codes in `model::entitlements::codes`); nothing is changed then.
//! - `userentitlementsummary`: licence counts per level against `availableLicences`.
//!
//! Entitlement ids are the subjects' storage keys (identity ids). Calls need organization-level
//! rights (Project Collection Administrators).

mod groups;
mod members;
mod patch;
mod render;

use chrono::{DateTime, Utc};

use super::app::SharedApp;
use super::auth::{Caller, Need};
use super::discovery::{catalog, ApiRoutes};
use super::error::{ApiError, ApiResult};
use crate::model::subjects::GroupScope;
use crate::model::{Organization, State};

pub fn routes() -> ApiRoutes {
    ApiRoutes::new()
        .serve(&catalog::LIST_GROUP_ENTITLEMENTS, groups::list)
        .serve(&catalog::ADD_GROUP_ENTITLEMENT, groups::add)
        .serve(&catalog::GET_GROUP_ENTITLEMENT, groups::get_one)
        .serve(&catalog::UPDATE_GROUP_ENTITLEMENT, groups::update)
        .serve(&catalog::DELETE_GROUP_ENTITLEMENT, groups::delete)
        .serve(&catalog::LIST_GROUP_ENTITLEMENT_MEMBERS, groups::members)
        .serve(&catalog::ADD_GROUP_ENTITLEMENT_MEMBER, groups::add_member)
        .serve(
            &catalog::REMOVE_GROUP_ENTITLEMENT_MEMBER,
            groups::remove_member,
        )
        .serve(&catalog::SEARCH_USER_ENTITLEMENTS, members::search_users)
        .serve(&catalog::ADD_USER_ENTITLEMENT, members::add_user)
        .serve(&catalog::GET_USER_ENTITLEMENT, members::get_user)
        .serve(&catalog::UPDATE_USER_ENTITLEMENT, members::update_user)
        .serve(&catalog::DELETE_USER_ENTITLEMENT, members::delete_user)
        .serve(
            &catalog::ADD_SERVICE_PRINCIPAL_ENTITLEMENT,
            members::add_service_principal,
        )
        .serve(
            &catalog::GET_SERVICE_PRINCIPAL_ENTITLEMENT,
            members::get_service_principal,
        )
        .serve(
            &catalog::UPDATE_SERVICE_PRINCIPAL_ENTITLEMENT,
            members::update_service_principal,
        )
        .serve(
            &catalog::DELETE_SERVICE_PRINCIPAL_ENTITLEMENT,
            members::delete_service_principal,
        )
        .serve(&catalog::GET_USER_ENTITLEMENT_SUMMARY, members::summary)
        .serve(&catalog::GET_OPERATION, groups::operation)
}

/// The organization, after completing the group rule operations that are due (every call
/// sees the world as of now).
fn settled<'a>(
    app: &SharedApp,
    state: &'a mut State,
    name: &str,
    now: DateTime<Utc>,
) -> ApiResult<&'a mut Organization> {
    let limits = app.behaviours().available_licences;
    let tenant = state.tenant_id;
    let State {
        directory,
        organizations,
        ..
    } = state;
    let org = organizations
        .iter_mut()
        .find(|o| o.name.eq_ignore_ascii_case(name))
        .ok_or_else(|| ApiError::organization_not_found(name))?;
    org.settle_entitlements(tenant, directory, &limits, now);
    Ok(org)
}

fn authorize(caller: &Caller, org: &Organization, need: Need) -> Result<(), ApiError> {
    caller.require_scope(org, GroupScope::Organization, need)
}
