//! The pure part of a DevOpsEntitlement reconcile: what to write given what the spec wants,
//! what Azure DevOps holds and what this object did before (its ledger), and what the ledger
//! records afterwards. No I/O: table-tested below.

use std::collections::BTreeSet;

use crate::ado::{EntitlementChange, ProjectEntitlement, ProjectGrant};

/// What the spec asks for, resolved: the level's `accountLicenseType` and project grants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wanted {
    pub level: String,
    pub projects: Vec<ProjectGrant>,
}

/// What Azure DevOps holds: the reported level (and whether a group rule gives it) and the
/// project entitlements.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Current {
    pub level: String,
    pub by_rule: bool,
    pub projects: Vec<ProjectEntitlement>,
}

/// What this object did, as its ledger records it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ours {
    /// It created the entitlement or rule (deletion removes it).
    pub created: bool,
    /// The level the entitlement had before this object first changed it (deletion restores
    /// it).
    pub level_before: Option<String>,
    /// Projects (ids) whose entitlement this object gave.
    pub projects: BTreeSet<String>,
}

/// The writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Plan {
    /// Nothing exists: add it.
    Create,
    /// It exists: change it (empty: steady state, no write).
    Update(EntitlementChange),
}

/// Levels in order (an access level a group rule gives that is at least the wanted one needs
/// no direct assignment: Azure DevOps applies the highest).
fn rank(level: &str) -> u8 {
    match level.to_ascii_lowercase().as_str() {
        "stakeholder" => 1,
        "express" | "earlyadopter" => 2,
        "professional" => 3,
        "advanced" => 4,
        _ => 0,
    }
}

fn holds(current: &Current, grant: &ProjectGrant) -> bool {
    current.projects.iter().any(|p| {
        p.project_ref.id.eq_ignore_ascii_case(&grant.project_id)
            && p.group.group_type.eq_ignore_ascii_case(&grant.group_type)
            && (grant.display_name.is_none()
                || p.group.display_name.as_deref().is_some_and(|d| {
                    Some(d.to_ascii_lowercase())
                        == grant.display_name.as_ref().map(|n| n.to_ascii_lowercase())
                }))
    })
}

pub fn plan(wanted: &Wanted, current: Option<&Current>, ours: &Ours) -> Plan {
    let Some(current) = current else {
        return Plan::Create;
    };
    let mut change = EntitlementChange::default();
    let level_ok = if current.by_rule {
        rank(&current.level) >= rank(&wanted.level)
    } else {
        current.level.eq_ignore_ascii_case(&wanted.level)
    };
    if !level_ok {
        change.level = Some(wanted.level.clone());
    }
    for grant in &wanted.projects {
        if !holds(current, grant) {
            change.add.push(grant.clone());
        }
    }
    // Only what this object gave and no longer lists is taken back.
    for project in &ours.projects {
        let listed = wanted
            .projects
            .iter()
            .any(|g| g.project_id.eq_ignore_ascii_case(project));
        let present = current
            .projects
            .iter()
            .any(|p| p.project_ref.id.eq_ignore_ascii_case(project));
        if !listed && present {
            change.remove.push(project.clone());
        }
    }
    Plan::Update(change)
}

/// The ledger after the plan's writes landed.
pub fn settle(plan: &Plan, current: Option<&Current>, wanted: &Wanted, ours: &Ours) -> Ours {
    match plan {
        Plan::Create => Ours {
            created: true,
            level_before: None,
            projects: wanted
                .projects
                .iter()
                .map(|g| g.project_id.clone())
                .collect(),
        },
        Plan::Update(change) => {
            let mut next = ours.clone();
            if change.level.is_some() && !ours.created && ours.level_before.is_none() {
                next.level_before = current.map(|c| c.level.clone());
            }
            for id in &change.remove {
                next.projects.remove(id);
            }
            for grant in &change.add {
                next.projects.insert(grant.project_id.clone());
            }
            next
        }
    }
}

/// What deletion sends for an entitlement this object did not create: the level it replaced
/// and the removal of the projects it gave.
pub fn restore(ours: &Ours) -> EntitlementChange {
    EntitlementChange {
        level: ours.level_before.clone(),
        add: Vec::new(),
        remove: ours.projects.iter().cloned().collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ado::{ProjectGroupRef, ProjectRef};

    fn grant(project: &str, group_type: &str) -> ProjectGrant {
        ProjectGrant {
            project_id: project.into(),
            group_type: group_type.into(),
            display_name: None,
        }
    }

    fn entitlement(project: &str, group_type: &str) -> ProjectEntitlement {
        ProjectEntitlement {
            project_ref: ProjectRef {
                id: project.into(),
                name: None,
            },
            group: ProjectGroupRef {
                group_type: group_type.into(),
                display_name: None,
            },
            assignment_source: None,
        }
    }

    fn wanted(level: &str, projects: Vec<ProjectGrant>) -> Wanted {
        Wanted {
            level: level.into(),
            projects,
        }
    }

    #[test]
    fn nothing_there_is_a_create_and_the_ledger_says_created() {
        let w = wanted("stakeholder", vec![grant("p1", "projectReader")]);
        let plan = plan(&w, None, &Ours::default());
        assert_eq!(plan, Plan::Create);
        let ours = settle(&plan, None, &w, &Ours::default());
        assert!(ours.created);
        assert_eq!(ours.projects, BTreeSet::from(["p1".to_string()]));
    }

    #[test]
    fn steady_state_writes_nothing() {
        let w = wanted("express", vec![grant("p1", "projectReader")]);
        let current = Current {
            level: "express".into(),
            by_rule: false,
            projects: vec![entitlement("P1", "projectReader")],
        };
        let ours = Ours {
            created: true,
            projects: BTreeSet::from(["p1".to_string()]),
            ..Ours::default()
        };
        assert_eq!(
            plan(&w, Some(&current), &ours),
            Plan::Update(EntitlementChange::default())
        );
    }

    #[test]
    fn drift_is_repaired_and_only_our_projects_are_taken_back() {
        let w = wanted("stakeholder", vec![grant("p1", "projectContributor")]);
        let current = Current {
            level: "advanced".into(),
            by_rule: false,
            projects: vec![
                entitlement("p1", "projectReader"),
                entitlement("p2", "projectReader"),
                entitlement("p3", "projectReader"),
            ],
        };
        let ours = Ours {
            created: false,
            level_before: None,
            projects: BTreeSet::from(["p1".to_string(), "p2".to_string()]),
        };
        let Plan::Update(change) = plan(&w, Some(&current), &ours) else {
            panic!("an update");
        };
        assert_eq!(change.level.as_deref(), Some("stakeholder"));
        assert_eq!(change.add, vec![grant("p1", "projectContributor")]);
        assert_eq!(
            change.remove,
            vec!["p2".to_string()],
            "p3 is someone else's"
        );
        let next = settle(&Plan::Update(change), Some(&current), &w, &ours);
        assert_eq!(next.level_before.as_deref(), Some("advanced"));
        assert_eq!(next.projects, BTreeSet::from(["p1".to_string()]));
        let undo = restore(&next);
        assert_eq!(undo.level.as_deref(), Some("advanced"));
        assert_eq!(undo.remove, vec!["p1".to_string()]);
    }

    #[test]
    fn a_higher_level_from_a_group_rule_needs_no_direct_assignment() {
        let w = wanted("stakeholder", vec![]);
        let current = Current {
            level: "express".into(),
            by_rule: true,
            projects: vec![],
        };
        assert_eq!(
            plan(&w, Some(&current), &Ours::default()),
            Plan::Update(EntitlementChange::default())
        );
        let lower = Current {
            level: "stakeholder".into(),
            by_rule: true,
            projects: vec![],
        };
        let Plan::Update(change) = plan(&wanted("express", vec![]), Some(&lower), &Ours::default())
        else {
            panic!("an update");
        };
        assert_eq!(change.level.as_deref(), Some("express"));
    }

    #[test]
    fn the_first_level_before_is_kept() {
        let ours = Ours {
            level_before: Some("stakeholder".into()),
            ..Ours::default()
        };
        let current = Current {
            level: "express".into(),
            by_rule: false,
            projects: vec![],
        };
        let w = wanted("advanced", vec![]);
        let p = plan(&w, Some(&current), &ours);
        assert_eq!(
            settle(&p, Some(&current), &w, &ours)
                .level_before
                .as_deref(),
            Some("stakeholder")
        );
    }
}
