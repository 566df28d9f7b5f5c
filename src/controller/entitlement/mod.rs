//! Reconciler of `DevOpsEntitlement`: check the grants (access level, project groups, group
//! rules; the group a rule is on) before anything is written, resolve the principal to its
//! entitlement id (its storage key), claim it, read the entitlement or rule once, plan (pure,
//! `plan.rs`), write (one POST or one PATCH), and settle the ledger. A group rule's write
//! answers an operation: the object is `Progressing` until it finished (polled, one GET per
//! attempt), then reports the rule's application state.
//!
//! Calls: steady state 1 GET (the entitlement or rule; the principal's descriptor and storage
//! key are cached). Create: 1 GET and 1 POST (and 1 GET per operation poll for rules). Drift:
//! 1 GET and 1 PATCH. Deletion: 1 DELETE (created), or 1 PATCH (restoring what it replaced);
//! a created rule that gave project entitlements: 1 PATCH and 1 DELETE.

mod plan;
mod resolve;

use std::collections::BTreeSet;

use async_trait::async_trait;
use kube::runtime::events::EventType;

use crate::ado::{
    AdoError, EntitlementChange, GroupEntitlement, MemberEntitlement, MemberKind, RuleWrite,
};
use crate::api::{
    DevOpsEntitlement, EntitlementTarget, ProjectEntitlementState, ProjectEntitlementStatus,
};
use crate::reason::Reason;

use super::claims::{hold_only, Key};
use super::error::{Error, Retry};
use super::ledger::Entry;
use super::object_context::Cx;
use super::reconcile::{Ready, Reconciled};
use plan::{Current, Ours, Plan, Wanted};
use resolve::Resolved;

#[async_trait]
impl Reconciled for DevOpsEntitlement {
    async fn converge(&self, cx: &Cx<'_>, status: &mut Self::Status) -> Result<Ready, Error> {
        let target = self.spec.principal.target();
        status.target = Some(target.as_str().to_string());
        status.principal = Some(self.spec.principal.key());
        // Grants first: nothing is resolved in Azure DevOps for a level not granted.
        cx.granted().access_level(self.spec.access_level)?;
        if target == EntitlementTarget::GroupRule {
            cx.granted().group_rules()?;
        }
        let projects = resolve::projects(self, cx).await?;
        status.projects = project_statuses(self, &projects, None);
        // After a restart or on a resync, the entitlement the status recorded (confirmed by
        // the read) spares resolving the principal again.
        let kind = member_kind(target);
        let (principal, read) = match resolve::recorded_member(self, cx, kind).await? {
            Some((principal, read)) => (Some(principal), Some(read)),
            None => (resolve::principal(self, cx).await?, None),
        };
        let Some(principal) = principal else {
            // Observe only: the organization does not have the principal yet.
            cx.would(format!(
                "add {} to the organization and give it {}",
                self.spec.principal.key(),
                self.spec.access_level.as_str()
            ));
            return Ok(Ready::new(
                Reason::InSync,
                "the principal is not in the organization",
            ));
        };
        status.entitlement_id = Some(principal.id.clone());

        let before = cx.ledger.read(self).await?;
        let key = Key::entitlement(&cx.org().spec.url, &principal.id);
        let before = hold_only(cx, self, before, &[&key])
            .await
            .map_err(|e| match e.reason {
                Reason::Conflict => {
                    Error::new(Reason::EntitlementHeldElsewhere, e.message, e.retry)
                }
                _ => e,
            })?;
        let ours = ours(&before, &principal);
        let wanted = Wanted {
            level: self.spec.access_level.wire().to_string(),
            projects: projects.iter().map(|p| p.grant.clone()).collect(),
        };

        if target == EntitlementTarget::GroupRule {
            self.converge_rule(cx, status, &principal, &wanted, &ours, &before, &projects)
                .await
        } else {
            let read = Recorded(read);
            self.converge_member(
                cx, status, &principal, read, &wanted, &ours, &before, &projects,
            )
            .await
        }
    }

    async fn cleanup(&self, cx: &Cx<'_>) -> Result<(), Error> {
        let done = cx.ledger.read(self).await?;
        let Some((target, id)) = done.target.as_deref().and_then(parse_target) else {
            return Ok(());
        };
        let ours = ours_recorded(&done);
        let client = &cx.org().client;
        let undo = plan::restore(&ours);
        let result = match (target, ours.created) {
            (EntitlementTarget::GroupRule, true) => {
                if !undo.remove.is_empty() {
                    let remove = EntitlementChange {
                        remove: undo.remove.clone(),
                        ..EntitlementChange::default()
                    };
                    ignore_gone(client.update_group_entitlement(&id, &remove).await)
                        .map_err(|e| Error::ado("removing the rule's project entitlements", e))?;
                }
                client.delete_group_entitlement(&id).await
            }
            (EntitlementTarget::GroupRule, false) if !undo.is_empty() => {
                ignore_gone(client.update_group_entitlement(&id, &undo).await)
            }
            (t, true) => client.delete_member_entitlement(member_kind(t), &id).await,
            (t, false) if !undo.is_empty() => ignore_gone(
                client
                    .update_member_entitlement(member_kind(t), &id, &undo)
                    .await
                    .map(|_| RuleWrite { operation: None }),
            ),
            _ => return Ok(()),
        };
        result.map_err(|e| Error::ado("removing what this object gave", e))?;
        let note = if ours.created {
            format!("removed the {} entitlement {id}", target.as_str())
        } else {
            format!("restored the {} entitlement {id}", target.as_str())
        };
        cx.publish(self, EventType::Normal, Reason::EntitlementRemoved, note)
            .await;
        Ok(())
    }
}

impl DevOpsEntitlement {
    #[allow(clippy::too_many_arguments)]
    async fn converge_member(
        &self,
        cx: &Cx<'_>,
        status: &mut <Self as kube::core::object::HasStatus>::Status,
        principal: &Resolved,
        recorded: Recorded,
        wanted: &Wanted,
        ours: &Ours,
        before: &Entry,
        projects: &[resolve::ProjectWant],
    ) -> Result<Ready, Error> {
        let client = &cx.org().client;
        let kind = member_kind(self.spec.principal.target());
        let read = match recorded.0 {
            Some(read) => Some(read),
            None => client
                .member_entitlement(kind, &principal.id)
                .await
                .map_err(|e| Error::ado("reading the entitlement", e))?,
        };
        let current = read.as_ref().map(current_of_member);
        let plan = plan::plan(wanted, current.as_ref(), ours);
        if cx.observing() {
            self.observe(cx, &plan);
            status.access_level = read
                .as_ref()
                .and_then(|r| r.access_level.license_display_name.clone());
            status.projects = project_statuses(self, projects, current.as_ref());
            return Ok(Ready::new(Reason::InSync, "observed"));
        }
        let written: Option<MemberEntitlement> = match &plan {
            Plan::Create => Some(
                client
                    .add_member_entitlement(
                        &principal.new_principal,
                        &wanted.level,
                        &wanted.projects,
                    )
                    .await
                    .map_err(refused("adding the entitlement"))?,
            ),
            Plan::Update(change) if !change.is_empty() => Some(
                client
                    .update_member_entitlement(kind, &principal.id, change)
                    .await
                    .map_err(refused("changing the entitlement"))?,
            ),
            Plan::Update(_) => None,
        };
        self.record(cx, before, principal, &plan, current.as_ref(), wanted, ours)
            .await?;
        if written.is_some() {
            self.announce(cx, &plan).await;
        }
        let shown = written.or(read).unwrap_or_default();
        status.access_level = shown.access_level.license_display_name.clone();
        status.assignment_source = shown.access_level.assignment_source.clone();
        status.rule_status = None;
        status.rule_message = None;
        status.operation_id = None;
        status.projects = project_statuses(self, projects, Some(&current_of_member(&shown)));
        Ok(Ready::new(
            Reason::Synced,
            format!(
                "{} holds {} with {} project entitlement(s)",
                self.spec.principal.key(),
                self.spec.access_level.as_str(),
                projects.len()
            ),
        ))
    }

    #[allow(clippy::too_many_arguments)]
    async fn converge_rule(
        &self,
        cx: &Cx<'_>,
        status: &mut <Self as kube::core::object::HasStatus>::Status,
        principal: &Resolved,
        wanted: &Wanted,
        ours: &Ours,
        before: &Entry,
        projects: &[resolve::ProjectWant],
    ) -> Result<Ready, Error> {
        let client = &cx.org().client;
        // An operation still applying the rule: poll it before anything else.
        if let Some(operation) = status.operation_id.clone() {
            match client.entitlement_operation(&operation).await {
                Ok(op) if !op.finished() => return Ok(progressing(&operation)),
                Ok(_) => status.operation_id = None,
                Err(e) if e.is_not_found() => status.operation_id = None,
                Err(e) => return Err(Error::ado("reading the group rule's operation", e)),
            }
        }
        let read = client
            .group_entitlement(&principal.id)
            .await
            .map_err(|e| Error::ado("reading the group rule", e))?;
        let current = read.as_ref().map(current_of_rule);
        let plan = plan::plan(wanted, current.as_ref(), ours);
        if cx.observing() {
            self.observe(cx, &plan);
            return match &read {
                Some(rule) if matches!(&plan, Plan::Update(c) if c.is_empty()) => {
                    self.report_rule(status, rule, projects)
                }
                _ => Ok(Ready::new(Reason::InSync, "observed")),
            };
        }
        let write = match &plan {
            Plan::Create => Some(
                client
                    .add_group_entitlement(&principal.rule_group, &wanted.level, &wanted.projects)
                    .await
                    .map_err(refused("adding the group rule"))?,
            ),
            Plan::Update(change) if !change.is_empty() => Some(
                client
                    .update_group_entitlement(&principal.id, change)
                    .await
                    .map_err(refused("changing the group rule"))?,
            ),
            Plan::Update(_) => None,
        };
        self.record(cx, before, principal, &plan, current.as_ref(), wanted, ours)
            .await?;
        if let Some(write) = write {
            self.announce(cx, &plan).await;
            status.projects = pending(self, projects);
            if let Some(operation) = write.operation {
                status.operation_id = Some(operation.clone());
                status.rule_status = Some("applyPending".into());
                return Ok(progressing(&operation));
            }
        }
        let Some(rule) = read else {
            return Ok(progressing("(none)"));
        };
        self.report_rule(status, &rule, projects)
    }

    fn report_rule(
        &self,
        status: &mut <Self as kube::core::object::HasStatus>::Status,
        rule: &GroupEntitlement,
        projects: &[resolve::ProjectWant],
    ) -> Result<Ready, Error> {
        status.access_level = rule.license_rule.license_display_name.clone();
        status.assignment_source = Some("groupRule".into());
        status.rule_status = rule.status.clone();
        status.rule_message = rule
            .license_rule
            .status_message
            .clone()
            .filter(|m| !m.is_empty());
        status.projects = project_statuses(self, projects, Some(&current_of_rule(rule)));
        let message = status.rule_message.clone().unwrap_or_default();
        match rule.status.as_deref() {
            Some("applyPending") => Ok(progressing(
                status.operation_id.as_deref().unwrap_or("(pending)"),
            )),
            Some("unableToApply") | Some("incompatible") => {
                let reason = if message.to_ascii_lowercase().contains("licen") {
                    Reason::LicenceUnavailable
                } else {
                    Reason::RuleNotApplied
                };
                Err(Error::new(
                    reason,
                    format!(
                        "the group rule is saved but Azure DevOps could not apply it ({}): {message}",
                        rule.status.as_deref().unwrap_or_default()
                    ),
                    Retry::Resync,
                ))
            }
            _ => Ok(Ready::new(
                Reason::Synced,
                format!(
                    "group rule applied: {} and {} project entitlement(s) for the members of {}",
                    self.spec.access_level.as_str(),
                    projects.len(),
                    self.spec.principal.key()
                ),
            )),
        }
    }

    /// Under Observe: say what the POST or PATCH would change, and send nothing.
    fn observe(&self, cx: &Cx<'_>, plan: &Plan) {
        let who = self.spec.principal.key();
        match plan {
            Plan::Create => cx.would(format!(
                "give {who} {} with {} project entitlement(s)",
                self.spec.access_level.as_str(),
                self.spec.project_entitlements.len()
            )),
            Plan::Update(change) if !change.is_empty() => {
                cx.would(format!("change the entitlement of {who}: {change:?}"))
            }
            Plan::Update(_) => {}
        }
    }

    /// The ledger after a write (written before the status, read at the next reconcile).
    #[allow(clippy::too_many_arguments)]
    async fn record(
        &self,
        cx: &Cx<'_>,
        before: &Entry,
        principal: &Resolved,
        plan: &Plan,
        current: Option<&Current>,
        wanted: &Wanted,
        ours: &Ours,
    ) -> Result<(), Error> {
        let next = plan::settle(plan, current, wanted, ours);
        let now = Entry {
            target: Some(recorded_target(principal)),
            added: recorded(&next),
            ..before.clone()
        };
        cx.ledger.write(self, before, &now).await
    }

    async fn announce(&self, cx: &Cx<'_>, plan: &Plan) {
        let note = match plan {
            Plan::Create => format!(
                "gave {} {} with {} project entitlement(s)",
                self.spec.principal.key(),
                self.spec.access_level.as_str(),
                self.spec.project_entitlements.len()
            ),
            Plan::Update(change) => format!(
                "changed {}: level {}, {} project(s) added, {} removed",
                self.spec.principal.key(),
                change.level.as_deref().unwrap_or("unchanged"),
                change.add.len(),
                change.remove.len()
            ),
        };
        cx.publish(self, EventType::Normal, Reason::EntitlementApplied, note)
            .await;
    }
}

/// Not an error: Ready=False `Progressing`, a Normal Event, polled again soon (`outcome.rs`).
fn progressing(operation: &str) -> Ready {
    Ready::progressing(format!(
        "the group rule is being applied (operation {operation})"
    ))
}

/// `isSuccess: false` answers keep their own reason (no licence, refused); others as usual.
fn refused(context: &'static str) -> impl Fn(AdoError) -> Error {
    move |e| match &e {
        AdoError::Refused { .. } => {
            Error::new(e.reason(), format!("{context}: {e}"), Retry::Resync)
        }
        _ => Error::ado(context, e),
    }
}

fn ignore_gone(result: Result<RuleWrite, AdoError>) -> Result<(), AdoError> {
    match result {
        Ok(_) => Ok(()),
        Err(e) if e.is_not_found() => Ok(()),
        Err(e) => Err(e),
    }
}

/// The entitlement already read while resolving the principal (see
/// [`resolve::recorded_member`]), if it was.
struct Recorded(Option<MemberEntitlement>);

fn member_kind(target: EntitlementTarget) -> MemberKind {
    match target {
        EntitlementTarget::ServicePrincipal => MemberKind::ServicePrincipal,
        _ => MemberKind::User,
    }
}

fn current_of_member(e: &MemberEntitlement) -> Current {
    Current {
        level: e.access_level.account_license_type.clone(),
        by_rule: e.access_level.assignment_source.as_deref() == Some("groupRule"),
        // A group rule's project entitlements are the rule's, not this principal's.
        projects: e
            .project_entitlements
            .iter()
            .filter(|p| p.assignment_source.as_deref() != Some("groupRule"))
            .cloned()
            .collect(),
    }
}

fn current_of_rule(rule: &GroupEntitlement) -> Current {
    Current {
        level: rule.license_rule.account_license_type.clone(),
        by_rule: false,
        projects: rule.project_entitlements.clone(),
    }
}

fn project_statuses(
    e: &DevOpsEntitlement,
    projects: &[resolve::ProjectWant],
    current: Option<&Current>,
) -> Vec<ProjectEntitlementStatus> {
    projects
        .iter()
        .map(|p| {
            let granted = current.is_some_and(|c| {
                c.projects.iter().any(|x| {
                    x.project_ref.id.eq_ignore_ascii_case(&p.grant.project_id)
                        && x.group.group_type.eq_ignore_ascii_case(&p.grant.group_type)
                })
            });
            let (state, reason, message) = match (current, granted) {
                (Some(_), true) => (ProjectEntitlementState::Granted, None, None),
                (Some(_), false) => (
                    ProjectEntitlementState::Failed,
                    Some(Reason::EntitlementRefused.as_str().to_string()),
                    Some("Azure DevOps does not show this project entitlement".to_string()),
                ),
                (None, _) => (ProjectEntitlementState::Pending, None, None),
            };
            let _ = e;
            ProjectEntitlementStatus {
                project: p.listed.clone(),
                project_id: Some(p.grant.project_id.clone()),
                group: p.group_label.clone(),
                state,
                reason,
                message,
            }
        })
        .collect()
}

fn pending(
    e: &DevOpsEntitlement,
    projects: &[resolve::ProjectWant],
) -> Vec<ProjectEntitlementStatus> {
    project_statuses(e, projects, None)
}

// ---- the ledger's record: `target` = `<Target>:<entitlement id>`; `added` = `created`,
// `levelBefore:<accountLicenseType>`, `project:<project id>`.

fn recorded_target(principal: &Resolved) -> String {
    format!("{}:{}", principal.target.as_str(), principal.id)
}

fn parse_target(text: &str) -> Option<(EntitlementTarget, String)> {
    let (kind, id) = text.split_once(':')?;
    let target = [
        EntitlementTarget::User,
        EntitlementTarget::ServicePrincipal,
        EntitlementTarget::GroupRule,
    ]
    .into_iter()
    .find(|t| t.as_str() == kind)?;
    Some((target, id.to_string()))
}

fn recorded(ours: &Ours) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    if ours.created {
        out.insert("created".to_string());
    }
    if let Some(level) = &ours.level_before {
        out.insert(format!("levelBefore:{level}"));
    }
    for p in &ours.projects {
        out.insert(format!("project:{p}"));
    }
    out
}

fn ours_recorded(done: &Entry) -> Ours {
    let mut ours = Ours::default();
    for line in &done.added {
        if line == "created" {
            ours.created = true;
        } else if let Some(level) = line.strip_prefix("levelBefore:") {
            ours.level_before = Some(level.to_string());
        } else if let Some(p) = line.strip_prefix("project:") {
            ours.projects.insert(p.to_string());
        }
    }
    ours
}

/// What this object did to this principal's entitlement (nothing when the ledger is about
/// another one).
fn ours(done: &Entry, principal: &Resolved) -> Ours {
    if done.target.as_deref() != Some(recorded_target(principal).as_str()) {
        return Ours::default();
    }
    ours_recorded(done)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ledger_record_round_trips() {
        let ours = Ours {
            created: false,
            level_before: Some("stakeholder".into()),
            projects: BTreeSet::from(["p1".to_string()]),
        };
        let entry = Entry {
            target: Some("User:abc".into()),
            added: recorded(&ours),
            ..Entry::default()
        };
        assert_eq!(ours_recorded(&entry), ours);
        assert_eq!(
            parse_target("GroupRule:g-1"),
            Some((EntitlementTarget::GroupRule, "g-1".into()))
        );
        assert_eq!(parse_target("Nothing:x"), None);
    }
}
