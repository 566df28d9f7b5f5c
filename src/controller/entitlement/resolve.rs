//! A DevOpsEntitlement's projects and principal, resolved and checked against the grants: the
//! projects as Azure DevOps knows them (ids), the principal to its entitlement id (its storage
//! key), and for a group rule, whether this namespace may put a rule on that group.

use kube::ResourceExt;

use crate::ado::{NewPrincipal, ProjectGrant, RuleGroup};
use crate::api::{DevOpsEntitlement, EntitlementTarget, ProjectGroupType};
use crate::controller::error::{Error, Retry};
use crate::controller::membership::may_manage_group;
use crate::controller::membership::resolve as membership;
use crate::controller::object_context::Cx;
use crate::reason::Reason;

/// One listed project entitlement, resolved.
#[derive(Debug, Clone)]
pub struct ProjectWant {
    /// The project as listed.
    pub listed: String,
    /// The group as listed (`Contributors`, `Custom:Release Approvers`).
    pub group_label: String,
    pub grant: ProjectGrant,
}

/// Each listed project entitlement: the project must exist and be granted with that group type.
pub async fn projects(e: &DevOpsEntitlement, cx: &Cx<'_>) -> Result<Vec<ProjectWant>, Error> {
    let mut out = Vec::with_capacity(e.spec.project_entitlements.len());
    for listed in &e.spec.project_entitlements {
        let project = cx.project(&listed.project).await?;
        cx.granted().project_entitlement(&project, listed.group)?;
        let group_label = match (&listed.group, &listed.custom_group) {
            (ProjectGroupType::Custom, Some(name)) => format!("Custom:{name}"),
            (group, _) => group.as_str().to_string(),
        };
        out.push(ProjectWant {
            listed: listed.project.clone(),
            group_label,
            grant: ProjectGrant {
                project_id: project.id,
                group_type: listed.group.wire().to_string(),
                display_name: listed.custom_group.clone(),
            },
        });
    }
    Ok(out)
}

/// The principal, resolved.
#[derive(Debug, Clone)]
pub struct Resolved {
    pub target: EntitlementTarget,
    /// The entitlement id: the principal's storage key.
    pub id: String,
    /// How a first entitlement names it.
    pub new_principal: NewPrincipal,
    /// How a new group rule names the group.
    pub rule_group: RuleGroup,
}

/// The principal, resolved; `None` under Observe when the organization does not have it yet
/// (finding out would materialize it: a write).
pub async fn principal(e: &DevOpsEntitlement, cx: &Cx<'_>) -> Result<Option<Resolved>, Error> {
    let spec = &e.spec.principal;
    let target = spec.target();
    let to_error = |p: crate::controller::set_sync::Problem| {
        let retry = if p.transient {
            Retry::Backoff
        } else {
            Retry::Resync
        };
        Error::new(p.reason, p.message, retry)
    };
    let descriptor = match cx.observing() {
        true => match crate::controller::membership::resolve_without_writes(&spec.as_member(), cx)
            .await
            .map_err(to_error)?
        {
            Some(descriptor) => descriptor,
            None => return Ok(None),
        },
        false => membership::member(&spec.as_member(), cx)
            .await
            .map_err(to_error)?,
    };
    let client = &cx.org().client;
    if target == EntitlementTarget::GroupRule {
        // A rule licenses every member: only on a group this namespace may manage (its own
        // DevOpsGroup's, or one its grant names), never a protected one.
        let name = client
            .group_principal_name(&descriptor)
            .await
            .map_err(|e| Error::ado("reading the group", e))?
            .ok_or_else(|| {
                Error::not_found(
                    Reason::GroupNotFound,
                    format!("group {descriptor} does not exist"),
                )
            })?;
        may_manage_group(
            cx,
            e.namespace().as_deref(),
            false,
            &descriptor,
            Some(&name),
        )
        .await?;
    }
    let id = client
        .storage_key(&descriptor)
        .await
        .map_err(|e| Error::ado("reading the principal's storage key", e))?;
    let new_principal = match (&spec.user, &spec.entra_user, &spec.service_principal) {
        (Some(upn), _, _) => NewPrincipal::UserPrincipalName(upn.clone()),
        (_, Some(oid), _) => NewPrincipal::UserObjectId(oid.clone()),
        (_, _, Some(oid)) => NewPrincipal::ServicePrincipalObjectId(oid.clone()),
        _ => NewPrincipal::UserPrincipalName(String::new()),
    };
    let rule_group = match &spec.entra_group {
        Some(oid) => RuleGroup::Entra(oid.clone()),
        None => RuleGroup::Descriptor(descriptor),
    };
    Ok(Some(Resolved {
        target,
        id,
        new_principal,
        rule_group,
    }))
}
