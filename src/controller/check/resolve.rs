//! A resource check object's resource and checks, resolved to what the checks API names: the
//! resource type and id, and per listed check its typed settings (approvers as identity ids,
//! resolved like a DevOpsMembership's members).

use futures::future::join_all;

use crate::ado::{CheckKind, CheckSettings, DesiredCheck, ResourceKind, TemplateRef};
use crate::api::{Check, PipelineResourceCheck};
use crate::controller::authorization::resolve as authorization;
use crate::controller::error::Error;
use crate::controller::grants::Project;
use crate::controller::membership;
use crate::controller::object_context::Cx;
use crate::controller::set_sync::Problem;
use crate::reason::Reason;

/// The default timeout (minutes): 30 days, the service's maximum and default.
pub const DEFAULT_TIMEOUT: u32 = 43200;
/// The default retry interval (minutes) of the task checks.
pub const DEFAULT_RETRY_INTERVAL: u32 = 5;

/// The resolved resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub kind: ResourceKind,
    /// The checks API's resource id (an integer, a GUID, or `projectId.repoId`).
    pub resource_id: String,
    pub name: String,
}

impl Target {
    /// As the ledger records it: `type|resourceId|name`.
    pub fn recorded(&self) -> String {
        format!("{}|{}|{}", self.kind.as_str(), self.resource_id, self.name)
    }

    /// A recorded target, if it is of `kind`.
    pub fn parse(text: &str, kind: ResourceKind) -> Option<Self> {
        let mut parts = text.splitn(3, '|');
        let (k, id, name) = (parts.next()?, parts.next()?, parts.next()?);
        (k == kind.as_str()).then(|| Self {
            kind,
            resource_id: id.to_string(),
            name: name.to_string(),
        })
    }
}

/// Look the resource up: by name (1 call), or by id (1 call for its name; none for a
/// repository).
pub async fn resource(
    c: &PipelineResourceCheck,
    cx: &Cx<'_>,
    project: &Project,
) -> Result<Target, Error> {
    let spec = &c.spec.resource;
    let kind = authorization::kind_of(spec.type_);
    let (id, name) = authorization::selected(spec, &c.spec.project, cx).await?;
    let name = match name {
        Some(name) => name,
        None if kind == ResourceKind::Repository => id.clone(),
        None => cx
            .org()
            .client
            .resource_by_id(&project.id, kind, &id)
            .await
            .map_err(|e| Error::ado(&format!("looking up {kind} {id}"), e))?
            .map(|r| r.name)
            .ok_or_else(|| {
                Error::not_found(
                    Reason::ResourceNotFound,
                    format!("{kind} {id} not found in project {:?}", project.name),
                )
            })?,
    };
    Ok(Target {
        kind,
        resource_id: id,
        name,
    })
}

/// Each listed check with its key (`approval#1`, `approval#2`, `exclusiveLock#1`, ...).
pub fn keyed(checks: &[Check]) -> Vec<(String, &Check)> {
    let mut counts = std::collections::BTreeMap::new();
    checks
        .iter()
        .map(|check| {
            let kind = kind_of(check);
            let n = counts.entry(kind).or_insert(0);
            *n += 1;
            (format!("{}#{n}", kind.as_str()), check)
        })
        .collect()
}

/// The check type an entry sets (admission guarantees exactly one).
pub fn kind_of(check: &Check) -> CheckKind {
    if check.approval.is_some() {
        CheckKind::Approval
    } else if check.branch_control.is_some() {
        CheckKind::BranchControl
    } else if check.business_hours.is_some() {
        CheckKind::BusinessHours
    } else if check.exclusive_lock.is_some() {
        CheckKind::ExclusiveLock
    } else {
        CheckKind::RequiredTemplate
    }
}

/// One listed check, typed; approvers resolved to identity ids (or why not).
pub async fn check(cx: &Cx<'_>, check: &Check) -> Result<DesiredCheck, Problem> {
    let timeout = check.timeout_minutes.unwrap_or(DEFAULT_TIMEOUT);
    let retry = |r: Option<u32>| r.unwrap_or(DEFAULT_RETRY_INTERVAL);
    let settings = if let Some(a) = &check.approval {
        let ids = join_all(a.approvers.iter().map(|m| approver(cx, m))).await;
        CheckSettings::Approval {
            approvers: ids.into_iter().collect::<Result<_, _>>()?,
            min_required: a.minimum_approvers.unwrap_or(0),
            requester_cannot_approve: a.requester_cannot_approve,
            in_sequence: a.in_sequence,
            instructions: a.instructions.clone().unwrap_or_default(),
        }
    } else if let Some(b) = &check.branch_control {
        CheckSettings::BranchControl {
            allowed_branches: b
                .allowed_branches
                .iter()
                .map(|s| s.trim().to_string())
                .collect(),
            require_branch_protection: b.require_branch_protection,
            allow_unknown_status: b.allow_unknown_status,
            retry_interval: retry(b.retry_interval_minutes),
        }
    } else if let Some(h) = &check.business_hours {
        CheckSettings::BusinessHours {
            days: h.days.iter().map(|d| d.as_str().to_string()).collect(),
            time_zone: h.time_zone.trim().to_string(),
            start: h.start.clone(),
            end: h.end.clone(),
            retry_interval: retry(h.retry_interval_minutes),
        }
    } else if check.exclusive_lock.is_some() {
        CheckSettings::ExclusiveLock
    } else if let Some(t) = &check.required_template {
        CheckSettings::RequiredTemplate {
            templates: t
                .templates
                .iter()
                .map(|s| TemplateRef {
                    repository_type: s.repository_type.wire().to_string(),
                    repository_name: s.repository.trim().to_string(),
                    repository_ref: s.ref_.trim().to_string(),
                    template_path: s.path.trim().to_string(),
                })
                .collect(),
        }
    } else {
        return Err(Problem::failed(
            Reason::InvalidSpec,
            "the check sets no type",
        ));
    };
    Ok(DesiredCheck { settings, timeout })
}

/// An approver's identity id (its storage key), from any member form.
async fn approver(cx: &Cx<'_>, member: &crate::api::Member) -> Result<String, Problem> {
    let descriptor = match cx.observing() {
        // Observe materializes no identity (a write).
        true => membership::resolve_without_writes(member, cx)
            .await?
            .ok_or_else(|| {
                cx.would(format!("add approver {} to the organization", member.key()));
                Problem::pending(
                    Reason::DriftDetected,
                    format!(
                        "approver {} is not in the organization yet: Manage would add it",
                        member.key()
                    ),
                )
            })?,
        false => membership::resolve_member(member, cx).await?,
    };
    cx.org()
        .client
        .storage_key(&descriptor)
        .await
        .map(|id| id.to_lowercase())
        .map_err(|e| {
            Problem::from_ado(
                &format!("reading the identity id of {descriptor}"),
                Reason::NotFound,
                e,
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::{ApprovalCheck, ExclusiveLockCheck};

    #[test]
    fn keys_count_per_type_and_targets_round_trip() {
        let approval = Check {
            approval: Some(ApprovalCheck::default()),
            ..Check::default()
        };
        let lock = Check {
            exclusive_lock: Some(ExclusiveLockCheck {}),
            ..Check::default()
        };
        let keys: Vec<String> = keyed(&[approval.clone(), lock, approval])
            .into_iter()
            .map(|(k, _)| k)
            .collect();
        assert_eq!(keys, ["approval#1", "exclusiveLock#1", "approval#2"]);
        let target = Target {
            kind: ResourceKind::Environment,
            resource_id: "2".into(),
            name: "prod | eu".into(),
        };
        assert_eq!(
            Target::parse(&target.recorded(), ResourceKind::Environment),
            Some(target.clone())
        );
        assert_eq!(Target::parse(&target.recorded(), ResourceKind::Queue), None);
    }
}
