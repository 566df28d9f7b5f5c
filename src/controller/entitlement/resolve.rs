//! A DevOpsEntitlement's projects and principal, resolved and checked against the grants: the
//! projects as Azure DevOps knows them (ids), the principal to its entitlement id (its storage
//! key), and for a group rule, whether this namespace may put a rule on that group.

use kube::ResourceExt;

use crate::ado::{
    GraphSubject, MemberEntitlement, MemberKind, NewPrincipal, ProjectGrant, RuleGroup,
};
use crate::api::{DevOpsEntitlement, EntitlementTarget, Principal, ProjectGroupType};
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

/// How a first entitlement names the principal.
fn new_principal(spec: &Principal) -> NewPrincipal {
    match (&spec.user, &spec.entra_user, &spec.service_principal) {
        (Some(upn), _, _) => NewPrincipal::UserPrincipalName(upn.clone()),
        (_, Some(oid), _) => NewPrincipal::UserObjectId(oid.clone()),
        (_, _, Some(oid)) => NewPrincipal::ServicePrincipalObjectId(oid.clone()),
        _ => NewPrincipal::UserPrincipalName(String::new()),
    }
}

/// A user's or service principal's entitlement found through the id the status recorded,
/// when Azure DevOps agrees that it is the listed principal's: the entitlement with that id
/// exists and names the principal. The status is writable by others than the operator, so
/// the id is only a hint, trusted where the read confirms it. This read is the one the
/// reconcile makes anyway, so a restart or a resync resolves nothing else (no `POST
/// graph/users`, no storage key read). `None`: resolve the principal as on a first reconcile.
pub async fn recorded_member(
    e: &DevOpsEntitlement,
    cx: &Cx<'_>,
    kind: MemberKind,
) -> Result<Option<(Resolved, MemberEntitlement)>, Error> {
    let spec = &e.spec.principal;
    let target = spec.target();
    if target == EntitlementTarget::GroupRule {
        return Ok(None);
    }
    let Some(id) = e.status.as_ref().and_then(|s| s.entitlement_id.as_deref()) else {
        return Ok(None);
    };
    let read = cx
        .org()
        .client
        .member_entitlement(kind, id)
        .await
        .map_err(|e| Error::ado("reading the entitlement", e))?;
    let Some(read) = read else {
        return Ok(None);
    };
    let Some(subject) = read.subject().filter(|s| names(spec, s)) else {
        return Ok(None);
    };
    let resolved = Resolved {
        target,
        id: id.to_string(),
        new_principal: new_principal(spec),
        rule_group: RuleGroup::Descriptor(subject.descriptor.clone()),
    };
    Ok(Some((resolved, read)))
}

/// Whether `subject` (an entitlement's user or service principal) is the listed principal: a
/// user by principal name, an Entra user or service principal by object id.
pub fn names(spec: &Principal, subject: &GraphSubject) -> bool {
    let same = |a: Option<&str>, b: &str| a.is_some_and(|a| a.eq_ignore_ascii_case(b));
    let is_service_principal = subject
        .subject_kind
        .as_deref()
        .is_some_and(|k| k.eq_ignore_ascii_case("servicePrincipal"))
        || subject.descriptor.starts_with("aadsp.");
    match (&spec.user, &spec.entra_user, &spec.service_principal) {
        (Some(upn), _, _) => !is_service_principal && same(subject.principal_name.as_deref(), upn),
        (_, Some(oid), _) => !is_service_principal && same(subject.origin_id.as_deref(), oid),
        (_, _, Some(oid)) => is_service_principal && same(subject.origin_id.as_deref(), oid),
        _ => false,
    }
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
    let new_principal = new_principal(spec);
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

#[cfg(test)]
mod tests {
    use super::*;

    fn subject(kind: &str, descriptor: &str, name: &str, origin_id: &str) -> GraphSubject {
        serde_json::from_value(serde_json::json!({
            "subjectKind": kind,
            "descriptor": descriptor,
            "principalName": name,
            "origin": "aad",
            "originId": origin_id,
        }))
        .unwrap()
    }

    const OID: &str = "16ba55b6-4d49-4712-9da8-1de280da5c0a";
    const OTHER: &str = "00000000-0000-0000-0000-000000000001";

    #[test]
    fn a_recorded_entitlement_is_trusted_only_for_the_listed_principal() {
        let alice = subject("user", "aad.YWxpY2U", "Alice@Contoso.com", OID);
        let sp = subject("servicePrincipal", "aadsp.c3A", OID, OID);
        let user = |upn: &str| Principal {
            user: Some(upn.into()),
            ..Principal::default()
        };
        let entra_user = |oid: &str| Principal {
            entra_user: Some(oid.into()),
            ..Principal::default()
        };
        let service_principal = |oid: &str| Principal {
            service_principal: Some(oid.into()),
            ..Principal::default()
        };
        assert!(names(&user("alice@contoso.com"), &alice));
        assert!(!names(&user("mallory@contoso.com"), &alice));
        assert!(names(&entra_user(OID), &alice));
        assert!(!names(&entra_user(OTHER), &alice));
        assert!(names(&service_principal(OID), &sp));
        assert!(!names(&service_principal(OTHER), &sp));
        // A user is never taken for a service principal, nor the other way round, even where
        // a principal name or object id happens to be equal.
        assert!(!names(&service_principal(OID), &alice));
        assert!(!names(&entra_user(OID), &sp));
        assert!(!names(&user(OID), &sp));
        // A group rule never reuses a member entitlement.
        let rule = Principal {
            entra_group: Some(OID.into()),
            ..Principal::default()
        };
        assert!(!names(&rule, &alice));
    }
}
