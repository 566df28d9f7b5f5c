//! A resource check object's resource and checks, resolved to what the checks API names: the
//! resource type and id, and per listed check its typed settings (approvers as identity ids,
//! resolved like a DevOpsMembership's members, and like them reused from the last reconcile's
//! status when still listed and still named by the check, so a resync or a restart looks
//! nobody up and adds nobody to the organization).

use std::collections::HashMap;

use futures::future::join_all;

use super::plan::Observed;
use crate::ado::{CheckKind, CheckSettings, DesiredCheck, ResourceKind, TemplateRef};
use crate::api::{ApproverStatus, Check, CheckState, CheckStatus, Member, PipelineResourceCheck};
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

/// Approvers resolved at the last reconcile that can be reused, by approver (its member key).
pub type Known = HashMap<String, ApproverStatus>;

/// One listed check resolved: what to write, and (an approval) its approvers for status.
#[derive(Debug, Clone, PartialEq)]
pub struct Resolved {
    pub check: DesiredCheck,
    pub approvers: Vec<ApproverStatus>,
}

/// One listed check, typed; approvers resolved to identity ids (or why not). An approver in
/// `known` is not looked up again (a DevOpsGroup reference only while its group keeps the
/// descriptor it had).
pub async fn check(cx: &Cx<'_>, check: &Check, known: Option<&Known>) -> Result<Resolved, Problem> {
    let timeout = check.timeout_minutes.unwrap_or(DEFAULT_TIMEOUT);
    let retry = |r: Option<u32>| r.unwrap_or(DEFAULT_RETRY_INTERVAL);
    let mut resolved_approvers = Vec::new();
    let settings = if let Some(a) = &check.approval {
        let known = |m: &Member| known.and_then(|k| k.get(&m.key()));
        let ids = join_all(a.approvers.iter().map(|m| approver(cx, m, known(m)))).await;
        resolved_approvers = ids.into_iter().collect::<Result<Vec<_>, _>>()?;
        CheckSettings::Approval {
            approvers: resolved_approvers
                .iter()
                .map(|a| a.identity_id.clone())
                .collect(),
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
    Ok(Resolved {
        check: DesiredCheck { settings, timeout },
        approvers: resolved_approvers,
    })
}

/// An approver's descriptor and identity id (its storage key), from any member form; `known`
/// (the last reconcile's) when it still holds.
async fn approver(
    cx: &Cx<'_>,
    member: &Member,
    known: Option<&ApproverStatus>,
) -> Result<ApproverStatus, Problem> {
    // A user's, Entra group's or service principal's descriptor never changes; a DevOpsGroup
    // reference is read again (from the cluster), its identity id reused while it names the
    // same group.
    if let Some(known) = known.filter(|_| member.group_ref.is_none()) {
        return Ok(known.clone());
    }
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
    if let Some(known) = known.filter(|k| k.descriptor == descriptor) {
        return Ok(known.clone());
    }
    let identity_id = cx
        .org()
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
        })?;
    Ok(ApproverStatus {
        approver: member.key(),
        descriptor,
        identity_id,
    })
}

/// The approvers the last reconcile resolved, per check key, that can be reused: only of a
/// check status recorded `Configured`, and only identity ids the resource's check with that
/// id still names (a status is writable by others than the operator: what it says is reused
/// only where Azure DevOps agrees).
pub(super) fn known(last: &[CheckStatus], current: Option<&[Observed]>) -> HashMap<String, Known> {
    let Some(current) = current else {
        return HashMap::new();
    };
    last.iter()
        .filter(|s| s.state == CheckState::Configured)
        .filter_map(|s| {
            let id = s.id?;
            let named = match current.iter().find(|o| o.id == id)?.check.as_ref()? {
                DesiredCheck {
                    settings: CheckSettings::Approval { approvers, .. },
                    ..
                } => approvers,
                _ => return None,
            };
            let reusable = s
                .approvers
                .iter()
                .filter(|a| named.iter().any(|n| n.eq_ignore_ascii_case(&a.identity_id)))
                .map(|a| (a.approver.clone(), a.clone()))
                .collect();
            Some((s.check.clone(), reusable))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::{ApprovalCheck, ExclusiveLockCheck};

    fn approver(key: &str, id: &str) -> ApproverStatus {
        ApproverStatus {
            approver: key.into(),
            descriptor: format!("aad.{id}"),
            identity_id: id.into(),
        }
    }

    fn status(
        key: &str,
        id: i64,
        state: CheckState,
        approvers: Vec<ApproverStatus>,
    ) -> CheckStatus {
        CheckStatus {
            check: key.into(),
            id: Some(id),
            state,
            reason: None,
            message: None,
            approvers,
        }
    }

    fn approval_naming(id: i64, approvers: &[&str]) -> Observed {
        Observed {
            id,
            check: Some(DesiredCheck {
                settings: CheckSettings::Approval {
                    approvers: approvers.iter().map(|a| a.to_string()).collect(),
                    min_required: 1,
                    requester_cannot_approve: false,
                    in_sequence: false,
                    instructions: String::new(),
                },
                timeout: 60,
            }),
        }
    }

    #[test]
    fn only_configured_approvers_the_check_still_names_are_reused() {
        let last = [
            status(
                "approval#1",
                4,
                CheckState::Configured,
                vec![
                    approver("user:a@x.com", "1a"),
                    approver("user:b@x.com", "2b"),
                ],
            ),
            status(
                "approval#2",
                5,
                CheckState::Failed,
                vec![approver("user:c@x.com", "3c")],
            ),
            // A status naming another check's id: only what that check names is reused.
            status(
                "approval#3",
                9,
                CheckState::Configured,
                vec![approver("user:d@x.com", "4d")],
            ),
        ];
        // Check 4 no longer names 2b (changed by hand); check 5 names 3c, but its status
        // was not Configured; no check 9.
        let current = [approval_naming(4, &["1A"]), approval_naming(5, &["3c"])];
        let known = known(&last, Some(&current));
        assert_eq!(
            known
                .get("approval#1")
                .map(|k| k.keys().cloned().collect::<Vec<_>>()),
            Some(vec!["user:a@x.com".to_string()])
        );
        assert!(!known.contains_key("approval#2"));
        assert!(!known.contains_key("approval#3"));
        assert!(
            super::known(&last, None).is_empty(),
            "unread: nothing reused"
        );
    }

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
