//! Member entitlements (`vsaex.dev.azure.com`): access levels (licences) of users and service
//! principals, their project entitlements, and group rules (a group's access level and project
//! entitlements, applied to its members asynchronously through an operation).
//!
//! Effective access level of a member: the highest of its direct assignment and the rules it is
//! licensed through. Licences are counted per level against the available numbers (behaviour
//! `availableLicences`; a level not listed is unlimited). A project entitlement is a membership
//! of the project's group (Readers, Contributors, Project Administrators, or a custom group).

use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

use super::subjects::{GroupScope, Membership, Origin, SubjectKind};
use super::{Directory, Organization};

/// `accountLicenseType`, as the 7.1 spec spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Licence {
    None,
    Stakeholder,
    Express,
    EarlyAdopter,
    Professional,
    Advanced,
}

impl Licence {
    pub const ALL: [Licence; 6] = [
        Licence::None,
        Licence::Stakeholder,
        Licence::Express,
        Licence::EarlyAdopter,
        Licence::Professional,
        Licence::Advanced,
    ];

    /// Case-insensitive (`stakeHolder` appears in the spec's own example).
    pub fn parse(value: &str) -> Option<Licence> {
        Licence::ALL
            .into_iter()
            .find(|l| l.wire_name().eq_ignore_ascii_case(value))
    }

    pub fn wire_name(self) -> &'static str {
        match self {
            Licence::None => "none",
            Licence::Stakeholder => "stakeholder",
            Licence::Express => "express",
            Licence::EarlyAdopter => "earlyAdopter",
            Licence::Professional => "professional",
            Licence::Advanced => "advanced",
        }
    }

    pub fn display_name(self) -> &'static str {
        match self {
            Licence::None => "No access",
            Licence::Stakeholder => "Stakeholder",
            Licence::Express => "Basic",
            Licence::EarlyAdopter => "Early Adopter",
            Licence::Professional => "Visual Studio Professional",
            Licence::Advanced => "Basic + Test Plans",
        }
    }
}

/// `group.groupType` of a project entitlement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum ProjectGroup {
    ProjectStakeholder,
    ProjectReader,
    ProjectContributor,
    ProjectAdministrator,
    /// A project group by display name.
    Custom(String),
}

impl ProjectGroup {
    pub fn parse(group_type: &str, display_name: Option<&str>) -> Option<ProjectGroup> {
        let t = group_type.to_ascii_lowercase();
        Some(match t.as_str() {
            "projectstakeholder" => ProjectGroup::ProjectStakeholder,
            "projectreader" => ProjectGroup::ProjectReader,
            "projectcontributor" => ProjectGroup::ProjectContributor,
            "projectadministrator" => ProjectGroup::ProjectAdministrator,
            "custom" => ProjectGroup::Custom(display_name?.to_string()),
            _ => return None,
        })
    }

    pub fn wire_name(&self) -> &'static str {
        match self {
            ProjectGroup::ProjectStakeholder => "projectStakeholder",
            ProjectGroup::ProjectReader => "projectReader",
            ProjectGroup::ProjectContributor => "projectContributor",
            ProjectGroup::ProjectAdministrator => "projectAdministrator",
            ProjectGroup::Custom(_) => "custom",
        }
    }

    /// The project group a member joins. Stakeholders join Readers (Azure DevOps has no
    /// separate Stakeholders group; the access level limits them).
    pub fn group_name(&self) -> &str {
        match self {
            ProjectGroup::ProjectStakeholder | ProjectGroup::ProjectReader => "Readers",
            ProjectGroup::ProjectContributor => "Contributors",
            ProjectGroup::ProjectAdministrator => "Project Administrators",
            ProjectGroup::Custom(name) => name,
        }
    }

    pub fn display_name(&self) -> String {
        match self {
            ProjectGroup::ProjectStakeholder => "Project Stakeholders".into(),
            ProjectGroup::ProjectReader => "Project Readers".into(),
            ProjectGroup::ProjectContributor => "Project Contributors".into(),
            ProjectGroup::ProjectAdministrator => "Project Administrators".into(),
            ProjectGroup::Custom(name) => name.clone(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProjectEntitlement {
    pub project: Uuid,
    pub group: ProjectGroup,
}

/// A user's or service principal's entitlement (direct assignments only; rule grants are kept
/// on the rules).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MemberEntitlement {
    pub descriptor: String,
    pub licence: Licence,
    pub projects: Vec<ProjectEntitlement>,
    pub date_created: DateTime<Utc>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum RuleStatus {
    ApplyPending,
    Applied,
    Incompatible,
    UnableToApply,
}

impl RuleStatus {
    pub fn wire_name(self) -> &'static str {
        match self {
            RuleStatus::ApplyPending => "applyPending",
            RuleStatus::Applied => "applied",
            RuleStatus::Incompatible => "incompatible",
            RuleStatus::UnableToApply => "unableToApply",
        }
    }
}

/// A group rule: the group's access level and project entitlements, applied to its members.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupRule {
    pub group: String,
    pub licence: Licence,
    pub projects: Vec<ProjectEntitlement>,
    pub status: RuleStatus,
    pub status_message: String,
    pub last_executed: Option<DateTime<Utc>>,
    /// Members this rule licensed at its last application.
    pub licensed: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum OperationStatus {
    Queued,
    InProgress,
    Succeeded,
    Failed,
}

impl OperationStatus {
    pub fn wire_name(self) -> &'static str {
        match self {
            OperationStatus::Queued => "queued",
            OperationStatus::InProgress => "inProgress",
            OperationStatus::Succeeded => "succeeded",
            OperationStatus::Failed => "failed",
        }
    }
}

/// One error of an operation result: `{"key": code, "value": message}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EntitlementError {
    pub key: u32,
    pub value: String,
}

/// The error codes azdo-sim answers (the fact sheet names 5000, 5005, 5032, 5102 without
/// meanings; the assignment below is the simulator's).
pub mod codes {
    /// The principal (user, service principal, group) is not found.
    pub const NOT_FOUND: u32 = 5000;
    /// A project or project group of a project entitlement does not exist.
    pub const INVALID_PROJECT: u32 = 5005;
    /// No licence of the level is available.
    pub const NO_LICENCE: u32 = 5032;
    /// The principal already has an entitlement (add on an existing one).
    pub const ALREADY_EXISTS: u32 = 5102;
}

/// An asynchronous group rule operation.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Operation {
    pub id: Uuid,
    /// The rule's group (descriptor).
    pub group: String,
    pub created: DateTime<Utc>,
    pub completes_at: DateTime<Utc>,
    pub status: OperationStatus,
    pub errors: Vec<EntitlementError>,
}

#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Entitlements {
    pub members: Vec<MemberEntitlement>,
    pub rules: Vec<GroupRule>,
    pub operations: Vec<Operation>,
}

/// Operations kept for polling (oldest dropped first).
const MAX_OPERATIONS: usize = 1_000;

impl Entitlements {
    pub fn member(&self, descriptor: &str) -> Option<&MemberEntitlement> {
        self.members.iter().find(|m| m.descriptor == descriptor)
    }

    pub fn member_mut(&mut self, descriptor: &str) -> Option<&mut MemberEntitlement> {
        self.members.iter_mut().find(|m| m.descriptor == descriptor)
    }

    pub fn rule(&self, group: &str) -> Option<&GroupRule> {
        self.rules.iter().find(|r| r.group == group)
    }

    pub fn rule_mut(&mut self, group: &str) -> Option<&mut GroupRule> {
        self.rules.iter_mut().find(|r| r.group == group)
    }

    /// The rules that licensed this member.
    pub fn rules_licensing(&self, descriptor: &str) -> Vec<&GroupRule> {
        self.rules
            .iter()
            .filter(|r| r.licensed.iter().any(|d| d == descriptor))
            .collect()
    }

    /// The member's effective level: its direct one or the best rule's, whichever is higher.
    pub fn effective(&self, descriptor: &str) -> Option<(Licence, bool)> {
        let direct = self.member(descriptor).map(|m| m.licence);
        let by_rule = self
            .rules_licensing(descriptor)
            .iter()
            .map(|r| r.licence)
            .max();
        match (direct, by_rule) {
            (Some(d), Some(r)) if r > d => Some((r, true)),
            (Some(d), _) => Some((d, false)),
            (None, Some(r)) => Some((r, true)),
            (None, None) => None,
        }
    }

    /// Members holding `licence` (effective), except `except`.
    pub fn assigned(&self, licence: Licence, except: &str) -> usize {
        let mut holders: Vec<&str> = self
            .members
            .iter()
            .map(|m| m.descriptor.as_str())
            .chain(
                self.rules
                    .iter()
                    .flat_map(|r| r.licensed.iter().map(String::as_str)),
            )
            .filter(|d| *d != except)
            .collect();
        holders.sort_unstable();
        holders.dedup();
        holders
            .into_iter()
            .filter(|d| self.effective(d).map(|(l, _)| l) == Some(licence))
            .count()
    }

    pub fn push_operation(&mut self, operation: Operation) {
        if self.operations.len() >= MAX_OPERATIONS {
            self.operations.remove(0);
        }
        self.operations.push(operation);
    }
}

/// Licences of a level still available (`None`: unlimited).
pub fn available(
    org: &Organization,
    limits: &std::collections::BTreeMap<String, u32>,
    licence: Licence,
    except: &str,
) -> Option<usize> {
    let limit = limits
        .iter()
        .find(|(k, _)| Licence::parse(k) == Some(licence))
        .map(|(_, v)| *v as usize)?;
    Some(limit.saturating_sub(org.entitlements.assigned(licence, except)))
}

impl Organization {
    /// The descriptor of the project group a project entitlement names, if both exist.
    pub fn project_group_descriptor(&self, entitlement: &ProjectEntitlement) -> Option<String> {
        self.group_named(
            GroupScope::Project(entitlement.project),
            entitlement.group.group_name(),
        )
        .map(|g| g.descriptor.clone())
    }

    /// Adds `member` to the project groups of `entitlements` (idempotent).
    pub fn join_project_groups(
        &mut self,
        member: &str,
        entitlements: &[ProjectEntitlement],
        now: DateTime<Utc>,
    ) {
        for entitlement in entitlements {
            if let Some(container) = self.project_group_descriptor(entitlement) {
                if !self.has_membership(&container, member) {
                    self.memberships.insert(Membership {
                        container,
                        member: member.to_string(),
                        visible_at: now,
                    });
                }
            }
        }
    }

    /// Removes `member` from the project groups of `entitlements`.
    pub fn leave_project_groups(&mut self, member: &str, entitlements: &[ProjectEntitlement]) {
        let containers: Vec<String> = entitlements
            .iter()
            .filter_map(|e| self.project_group_descriptor(e))
            .collect();
        self.memberships
            .retain(|m| !(m.member == member && containers.contains(&m.container)));
    }

    /// The users and service principals a group contains at any depth: Azure DevOps
    /// memberships, and for Entra groups the directory's members (materialized on the way).
    pub fn group_members(
        &mut self,
        tenant: Uuid,
        directory: &Directory,
        group: &str,
    ) -> Vec<String> {
        let mut found = Vec::new();
        let mut seen = vec![group.to_string()];
        let mut queue = vec![group.to_string()];
        while let Some(current) = queue.pop() {
            let Some(subject) = self.subject(&current).cloned() else {
                continue;
            };
            let mut children: Vec<String> = self
                .memberships
                .iter()
                .filter(|m| m.container == current)
                .map(|m| m.member.clone())
                .collect();
            if subject.origin == Origin::Aad && subject.is_group() {
                let entra = directory
                    .groups
                    .iter()
                    .find(|g| {
                        g.object_id
                            .to_string()
                            .eq_ignore_ascii_case(&subject.origin_id)
                    })
                    .cloned();
                for member in entra.map(|g| g.members).unwrap_or_default() {
                    if let Some(user) = directory.users.iter().find(|u| u.object_id == member) {
                        children.push(self.materialize_user(tenant, user).0);
                    } else if let Some(sp) = directory
                        .service_principals
                        .iter()
                        .find(|p| p.object_id == member)
                    {
                        children.push(self.materialize_service_principal(tenant, sp).0);
                    } else if let Some(g) = directory.groups.iter().find(|g| g.object_id == member)
                    {
                        children.push(self.materialize_entra_group(tenant, g).0);
                    }
                }
            }
            for child in children {
                if seen.contains(&child) {
                    continue;
                }
                seen.push(child.clone());
                match self.subject(&child) {
                    Some(s) if s.deleted => {}
                    Some(s) if s.kind == SubjectKind::Group => queue.push(child),
                    Some(_) => found.push(child),
                    None => {}
                }
            }
        }
        found
    }

    /// Completes the group rule operations due at `now`: the rule's project entitlements make
    /// the group a member of the project groups, and its level is assigned to each member
    /// while licences last (the rule is `unableToApply` when some could not be licensed).
    pub fn settle_entitlements(
        &mut self,
        tenant: Uuid,
        directory: &Directory,
        limits: &std::collections::BTreeMap<String, u32>,
        now: DateTime<Utc>,
    ) {
        let due: Vec<usize> = self
            .entitlements
            .operations
            .iter()
            .enumerate()
            .filter(|(_, o)| {
                matches!(
                    o.status,
                    OperationStatus::Queued | OperationStatus::InProgress
                )
            })
            .map(|(i, _)| i)
            .collect();
        for index in due {
            let operation = self.entitlements.operations[index].clone();
            if operation.completes_at > now {
                self.entitlements.operations[index].status = OperationStatus::InProgress;
                continue;
            }
            let errors = self.apply_rule(tenant, directory, limits, &operation.group, now);
            let op = &mut self.entitlements.operations[index];
            op.status = if errors.is_empty() {
                OperationStatus::Succeeded
            } else {
                OperationStatus::Failed
            };
            op.errors = errors;
        }
    }

    fn apply_rule(
        &mut self,
        tenant: Uuid,
        directory: &Directory,
        limits: &std::collections::BTreeMap<String, u32>,
        group: &str,
        now: DateTime<Utc>,
    ) -> Vec<EntitlementError> {
        let Some(rule) = self.entitlements.rule(group).cloned() else {
            return Vec::new();
        };
        self.join_project_groups(group, &rule.projects, now);
        let members = self.group_members(tenant, directory, group);
        // Re-licence from scratch: members that left lose what this rule gave them.
        if let Some(r) = self.entitlements.rule_mut(group) {
            r.licensed.clear();
        }
        let mut unlicensed = 0usize;
        for member in &members {
            let has = self.entitlements.effective(member).map(|(l, _)| l);
            let fits = has.is_some_and(|l| l >= rule.licence)
                || available(self, limits, rule.licence, member).is_none_or(|n| n > 0);
            if fits {
                if let Some(r) = self.entitlements.rule_mut(group) {
                    r.licensed.push(member.clone());
                }
            } else {
                unlicensed += 1;
            }
        }
        let r = self
            .entitlements
            .rule_mut(group)
            .expect("the rule exists (checked above)");
        r.last_executed = Some(now);
        if unlicensed == 0 {
            r.status = RuleStatus::Applied;
            r.status_message = String::new();
            Vec::new()
        } else {
            let message = format!(
                "VS403283: {unlicensed} of {} members could not be assigned the access level {}: not enough licences are available.",
                members.len(),
                rule.licence.display_name()
            );
            r.status = RuleStatus::UnableToApply;
            r.status_message = message.clone();
            vec![EntitlementError {
                key: codes::NO_LICENCE,
                value: message,
            }]
        }
    }
}
