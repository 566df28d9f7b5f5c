//! What a namespace may do in an organization: the union of the organization's grants that name
//! it, asked about resolved identities (a project's id and name, a group's principal name, a
//! resource's id and name), never about the spelling in a spec.

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use wildmatch::WildMatch;

use crate::api::{
    AccessLevel, AllowedNamespaces, CheckGrant, EntitlementGrant, Grant, ProjectGroupType,
    ResourceGrant, ResourceType, RoleGrant, RoleResourceType,
};
use crate::reason::Reason;

use super::error::{Error, Retry};

/// A project as Azure DevOps knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Project {
    pub id: String,
    pub name: String,
}

/// The grants of one organization that apply to one namespace.
#[derive(Debug, Clone)]
pub struct Granted {
    /// `ClusterDevOpsOrganization contoso`, for messages.
    organization: String,
    namespace: String,
    /// No grant restricts this namespace (a DevOpsOrganization without grants).
    unrestricted: bool,
    grants: Vec<Grant>,
}

impl Granted {
    /// The grants of `grants` that name `namespace` (with these labels). `own_namespace`: the
    /// organization is a DevOpsOrganization of that namespace, whose grants (if any) apply to
    /// it alone and which, without grants, allows what its credentials allow.
    pub fn for_namespace(
        organization: String,
        grants: &[Grant],
        own_namespace: Option<&str>,
        namespace: &str,
        labels: Option<&BTreeMap<String, String>>,
    ) -> Self {
        let (unrestricted, grants) = match own_namespace {
            Some(own) if own != namespace => (false, Vec::new()),
            Some(_) => (grants.is_empty(), grants.to_vec()),
            None => (
                false,
                grants
                    .iter()
                    .filter(|g| {
                        g.namespaces
                            .as_ref()
                            .is_some_and(|n| namespaces_match(n, namespace, labels))
                    })
                    .cloned()
                    .collect(),
            ),
        };
        Self {
            organization,
            namespace: namespace.to_string(),
            unrestricted,
            grants,
        }
    }

    /// A grant of everything (what the deprecated `allowedNamespaces` meant).
    pub fn everything() -> Grant {
        Grant {
            namespaces: None,
            projects: vec!["*".into()],
            organization_scope: true,
            groups: vec!["*".into()],
            exclusive_membership: true,
            delete_adopted_groups: true,
            pipeline_resources: vec![ResourceGrant {
                type_: None,
                project: None,
                names: vec!["*".into()],
            }],
            all_pipelines: true,
            role_assignments: vec![
                RoleGrant {
                    names: vec!["*".into()],
                    administrator: true,
                    exclusive: true,
                    ..RoleGrant::default()
                },
                RoleGrant {
                    type_: Some(RoleResourceType::Agentpool),
                    names: vec!["*".into()],
                    administrator: true,
                    exclusive: true,
                    ..RoleGrant::default()
                },
            ],
            checks: vec![CheckGrant {
                names: vec!["*".into()],
                exclusive: true,
                ..CheckGrant::default()
            }],
            entitlements: Some(EntitlementGrant {
                access_levels: AccessLevel::ALL.to_vec(),
                project_groups: vec![
                    ProjectGroupType::Readers,
                    ProjectGroupType::Contributors,
                    ProjectGroupType::ProjectAdministrators,
                    ProjectGroupType::Stakeholders,
                    ProjectGroupType::Custom,
                ],
                group_rules: true,
            }),
        }
    }

    /// Some grant names the namespace: it may use the organization at all.
    pub fn any(&self) -> Result<(), Error> {
        if self.unrestricted || !self.grants.is_empty() {
            return Ok(());
        }
        Err(self.denied(format!(
            "{} grants nothing to namespace {} (see its grants)",
            self.organization, self.namespace
        )))
    }

    /// Work in `project`: groups there, members of the groups created there.
    pub fn project(&self, project: &Project) -> Result<(), Error> {
        self.check(
            |g| g.projects.iter().any(|p| project_matches(p, project)),
            || format!("project {}", project.name),
        )
    }

    /// Organization-level groups (and Entra groups materialized in the organization).
    pub fn organization_scope(&self) -> Result<(), Error> {
        self.check(
            |g| g.organization_scope,
            || "organization-level groups (organizationScope)".into(),
        )
    }

    /// Adopt, or manage the members of, an existing group the namespace did not create.
    pub fn existing_group(&self, principal_name: &str) -> Result<(), Error> {
        self.check(
            |g| g.groups.iter().any(|p| matches(p, principal_name)),
            || format!("the existing group {principal_name} (groups)"),
        )
    }

    /// Exclusive mode on a group the namespace did not create.
    pub fn exclusive_membership(&self, principal_name: &str) -> Result<(), Error> {
        self.check(
            |g| g.exclusive_membership && g.groups.iter().any(|p| matches(p, principal_name)),
            || format!("Exclusive mode on {principal_name}, a group it did not create (exclusiveMembership)"),
        )
    }

    /// Deleting a group the object adopted.
    pub fn delete_adopted_groups(&self) -> bool {
        self.unrestricted || self.grants.iter().any(|g| g.delete_adopted_groups)
    }

    /// Give an access level (DevOpsEntitlement).
    pub fn access_level(&self, level: AccessLevel) -> Result<(), Error> {
        self.check(
            |g| {
                g.entitlements
                    .as_ref()
                    .is_some_and(|e| e.access_levels.contains(&level))
            },
            || {
                format!(
                    "access level {} (entitlements.accessLevels)",
                    level.as_str()
                )
            },
        )
    }

    /// Give a project entitlement: the project in the grant's `projects`, the group type in
    /// the same grant's `entitlements.projectGroups`.
    pub fn project_entitlement(
        &self,
        project: &Project,
        group: ProjectGroupType,
    ) -> Result<(), Error> {
        self.check(
            |g| {
                g.projects.iter().any(|p| project_matches(p, project))
                    && g.entitlements
                        .as_ref()
                        .is_some_and(|e| e.project_groups.contains(&group))
            },
            || {
                format!(
                    "{} in project {} (projects and entitlements.projectGroups)",
                    group.as_str(),
                    project.name
                )
            },
        )
    }

    /// Set group rules (DevOpsEntitlement on a group).
    pub fn group_rules(&self) -> Result<(), Error> {
        self.check(
            |g| g.entitlements.as_ref().is_some_and(|e| e.group_rules),
            || "group rules (entitlements.groupRules)".into(),
        )
    }

    /// Manage the pipeline authorizations of a protected resource.
    pub fn pipeline_resource(
        &self,
        type_: ResourceType,
        project: &Project,
        id: &str,
        name: Option<&str>,
    ) -> Result<(), Error> {
        self.check(
            |g| {
                g.pipeline_resources.iter().any(|r| {
                    r.type_.is_none_or(|t| t == type_)
                        && match &r.project {
                            Some(p) => project_matches(p, project),
                            None => g.projects.iter().any(|p| project_matches(p, project)),
                        }
                        && r.names
                            .iter()
                            .any(|n| matches(n, id) || name.is_some_and(|name| matches(n, name)))
                })
            },
            || {
                format!(
                    "the {} {} in project {} (pipelineResources)",
                    type_.as_str(),
                    name.unwrap_or(id),
                    project.name
                )
            },
        )
    }

    /// Manage the security role assignments of a protected resource (`project`: `None` for
    /// organization agent pools), with what the spec asks beyond plain roles.
    pub fn role_resource(&self, target: &RoleTarget<'_>, asks: RoleAsks) -> Result<(), Error> {
        let entry_fits = |g: &Grant, r: &RoleGrant| {
            let type_fits = match (r.type_, target.project) {
                (Some(t), _) => t == target.type_,
                // An entry without a type covers the project-level types only.
                (None, project) => project.is_some(),
            };
            let project_fits = match (target.project, &r.project) {
                (None, p) => p.is_none(),
                (Some(project), Some(p)) => project_matches(p, project),
                (Some(project), None) => g.projects.iter().any(|p| project_matches(p, project)),
            };
            type_fits
                && project_fits
                && r.names
                    .iter()
                    .any(|n| matches(n, target.id) || matches(n, target.name))
                && (!asks.administrator || r.administrator)
                && (!asks.exclusive || r.exclusive)
        };
        self.check(
            |g| g.role_assignments.iter().any(|r| entry_fits(g, r)),
            || {
                let mut extra = Vec::new();
                if asks.administrator {
                    extra.push("Administrator");
                }
                if asks.exclusive {
                    extra.push("Exclusive mode");
                }
                let extra = match extra.is_empty() {
                    true => String::new(),
                    false => format!(" with {}", extra.join(" and ")),
                };
                let place = target
                    .project
                    .map(|p| format!(" in project {}", p.name))
                    .unwrap_or_else(|| " in the organization".into());
                format!(
                    "the security roles of the {} {}{place}{extra} (roleAssignments)",
                    target.type_.as_str(),
                    target.name,
                )
            },
        )
    }

    /// Put checks on (or remove this object's checks from) a protected resource; `exclusive`:
    /// also remove checks nobody listed.
    pub fn check_resource(
        &self,
        type_: ResourceType,
        project: &Project,
        id: &str,
        name: &str,
        exclusive: bool,
    ) -> Result<(), Error> {
        self.check(
            |g| {
                g.checks.iter().any(|c| {
                    c.type_.is_none_or(|t| t == type_)
                        && match &c.project {
                            Some(p) => project_matches(p, project),
                            None => g.projects.iter().any(|p| project_matches(p, project)),
                        }
                        && c.names.iter().any(|n| matches(n, id) || matches(n, name))
                        && (!exclusive || c.exclusive)
                })
            },
            || {
                let extra = if exclusive {
                    " with Exclusive mode"
                } else {
                    ""
                };
                format!(
                    "the checks of the {} {name} in project {}{extra} (checks)",
                    type_.as_str(),
                    project.name
                )
            },
        )
    }

    /// Set `allPipelines` on a resource.
    pub fn all_pipelines(&self) -> Result<(), Error> {
        self.check(|g| g.all_pipelines, || "allPipelines".into())
    }

    fn check(
        &self,
        allows: impl Fn(&Grant) -> bool,
        what: impl Fn() -> String,
    ) -> Result<(), Error> {
        if self.unrestricted || self.grants.iter().any(allows) {
            return Ok(());
        }
        Err(self.denied(format!(
            "{} grants namespace {} no access to {}",
            self.organization,
            self.namespace,
            what()
        )))
    }

    fn denied(&self, message: String) -> Error {
        Error::new(Reason::NotAllowed, message, Retry::Resync)
    }
}

/// A protected resource whose security roles are asked about, resolved.
#[derive(Debug, Clone, Copy)]
pub struct RoleTarget<'a> {
    pub type_: RoleResourceType,
    /// `None` for organization agent pools.
    pub project: Option<&'a Project>,
    /// Its own id (not the API's composed resource id).
    pub id: &'a str,
    pub name: &'a str,
}

/// What a role assignment asks for beyond plain roles.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RoleAsks {
    /// Assign Administrator, or set inheritance.
    pub administrator: bool,
    /// Exclusive mode.
    pub exclusive: bool,
}

/// `*`-patterns, case-insensitive; a pattern without `*` is an exact (case-insensitive) name.
fn matches(pattern: &str, text: &str) -> bool {
    WildMatch::new_case_insensitive(pattern).matches(text)
}

fn project_matches(pattern: &str, project: &Project) -> bool {
    pattern == "*" || pattern.eq_ignore_ascii_case(&project.id) || matches(pattern, &project.name)
}

/// Whether `namespace` (with these labels) is one of `allowed`.
pub fn namespaces_match(
    allowed: &AllowedNamespaces,
    namespace: &str,
    labels: Option<&BTreeMap<String, String>>,
) -> bool {
    allowed.names.iter().any(|n| n == namespace)
        || match (&allowed.selector, labels) {
            (Some(selector), Some(labels)) => selector_matches(selector, labels),
            _ => false,
        }
}

/// A label selector against a set of labels (matchLabels and matchExpressions).
pub fn selector_matches(selector: &LabelSelector, labels: &BTreeMap<String, String>) -> bool {
    let labels_ok = selector
        .match_labels
        .iter()
        .flatten()
        .all(|(k, v)| labels.get(k) == Some(v));
    let expressions_ok = selector.match_expressions.iter().flatten().all(|e| {
        let value = labels.get(&e.key);
        let values = e.values.as_deref().unwrap_or_default();
        match e.operator.as_str() {
            "In" => value.is_some_and(|v| values.contains(v)),
            "NotIn" => value.is_none_or(|v| !values.contains(v)),
            "Exists" => value.is_some(),
            "DoesNotExist" => value.is_none(),
            _ => false,
        }
    });
    labels_ok && expressions_ok
}

#[cfg(test)]
mod tests {
    use super::*;

    fn storefront() -> Project {
        Project {
            id: "5f4e3d2c-0000-0000-0000-000000000001".into(),
            name: "Storefront".into(),
        }
    }

    fn other() -> Project {
        Project {
            id: "5f4e3d2c-0000-0000-0000-000000000002".into(),
            name: "Payments".into(),
        }
    }

    fn team_a_grant() -> Grant {
        Grant {
            namespaces: Some(AllowedNamespaces {
                names: vec!["team-a".into()],
                selector: Some(LabelSelector {
                    match_labels: Some([("team".to_string(), "storefront".to_string())].into()),
                    ..Default::default()
                }),
            }),
            projects: vec!["Storefront".into()],
            groups: vec![
                r"[Storefront]\Contributors".into(),
                r"[Storefront]\Storefront *".into(),
            ],
            pipeline_resources: vec![ResourceGrant {
                type_: Some(ResourceType::Environment),
                project: None,
                names: vec!["storefront-*".into()],
            }],
            ..Default::default()
        }
    }

    fn granted(ns: &str, labels: &[(&str, &str)]) -> Granted {
        let labels: BTreeMap<String, String> = labels
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Granted::for_namespace(
            "ClusterDevOpsOrganization contoso".into(),
            &[team_a_grant()],
            None,
            ns,
            Some(&labels),
        )
    }

    #[test]
    fn namespaces_are_matched_by_name_or_label() {
        assert!(granted("team-a", &[]).any().is_ok());
        assert!(granted("team-x", &[("team", "storefront")]).any().is_ok());
        let none = granted("team-b", &[("team", "payments")])
            .any()
            .unwrap_err();
        assert_eq!(none.reason, Reason::NotAllowed);
        assert!(
            none.message.contains("grants nothing to namespace team-b"),
            "{}",
            none.message
        );
    }

    #[test]
    fn projects_match_by_name_or_id_never_another() {
        let g = granted("team-a", &[]);
        assert!(g.project(&storefront()).is_ok());
        let mut by_id = team_a_grant();
        by_id.projects = vec![storefront().id];
        let g_by_id = Granted::for_namespace("c".into(), &[by_id], None, "team-a", None);
        let renamed = Project {
            name: "Storefront 2".into(),
            ..storefront()
        };
        assert!(
            g_by_id.project(&renamed).is_ok(),
            "a grant by id follows a rename"
        );
        assert!(g.project(&renamed).is_err(), "a grant by name does not");
        let err = g.project(&other()).unwrap_err();
        assert!(err.message.contains("project Payments"), "{}", err.message);
        assert!(g.organization_scope().is_err());
    }

    #[test]
    fn existing_groups_match_their_patterns_case_insensitively() {
        let g = granted("team-a", &[]);
        assert!(g.existing_group(r"[Storefront]\Contributors").is_ok());
        assert!(g.existing_group(r"[storefront]\contributors").is_ok());
        assert!(g
            .existing_group(r"[Storefront]\Storefront Operators")
            .is_ok());
        assert!(g.existing_group(r"[Payments]\Contributors").is_err());
        assert!(g
            .existing_group(r"[contoso]\Project Collection Build Administrators")
            .is_err());
        assert!(g
            .exclusive_membership(r"[Storefront]\Contributors")
            .is_err());
        assert!(!g.delete_adopted_groups());
    }

    #[test]
    fn pipeline_resources_match_type_project_and_name_or_id() {
        let g = granted("team-a", &[]);
        let env = ResourceType::Environment;
        assert!(g
            .pipeline_resource(env, &storefront(), "7", Some("storefront-prod"))
            .is_ok());
        assert!(g
            .pipeline_resource(env, &storefront(), "8", Some("payments-prod"))
            .is_err());
        assert!(g
            .pipeline_resource(env, &other(), "7", Some("storefront-prod"))
            .is_err());
        assert!(g
            .pipeline_resource(
                ResourceType::Endpoint,
                &storefront(),
                "7",
                Some("storefront-prod")
            )
            .is_err());
        assert!(g.all_pipelines().is_err());
    }

    #[test]
    fn role_assignments_match_type_project_name_and_what_is_asked() {
        let mut grant = team_a_grant();
        grant.role_assignments = vec![
            RoleGrant {
                type_: Some(RoleResourceType::Environment),
                names: vec!["storefront-*".into()],
                ..RoleGrant::default()
            },
            RoleGrant {
                type_: Some(RoleResourceType::Endpoint),
                names: vec!["storefront-deploy".into()],
                administrator: true,
                exclusive: true,
                ..RoleGrant::default()
            },
        ];
        let g = Granted::for_namespace("c".into(), &[grant], None, "team-a", None);
        let (store, other) = (storefront(), other());
        let env = |project, name| RoleTarget {
            type_: RoleResourceType::Environment,
            project,
            id: "7",
            name,
        };
        let plain = RoleAsks::default();
        let admin = RoleAsks {
            administrator: true,
            ..plain
        };
        let exclusive = RoleAsks {
            exclusive: true,
            ..plain
        };
        assert!(g
            .role_resource(&env(Some(&store), "storefront-prod"), plain)
            .is_ok());
        let err = g
            .role_resource(&env(Some(&store), "storefront-prod"), admin)
            .unwrap_err();
        assert_eq!(err.reason, Reason::NotAllowed);
        assert!(
            err.message.contains("with Administrator"),
            "{}",
            err.message
        );
        assert!(g
            .role_resource(&env(Some(&store), "storefront-prod"), exclusive)
            .is_err());
        assert!(g
            .role_resource(&env(Some(&store), "payments-prod"), plain)
            .is_err());
        assert!(g
            .role_resource(&env(Some(&other), "storefront-prod"), plain)
            .is_err());
        let endpoint = RoleTarget {
            type_: RoleResourceType::Endpoint,
            project: Some(&store),
            id: "0b1c2d3e-0000-0000-0000-000000000001",
            name: "storefront-deploy",
        };
        assert!(g.role_resource(&endpoint, admin).is_ok());
        assert!(g.role_resource(&endpoint, exclusive).is_ok());
        let pool = RoleTarget {
            type_: RoleResourceType::Agentpool,
            project: None,
            id: "9",
            name: "storefront-deploy",
        };
        assert!(
            g.role_resource(&pool, plain).is_err(),
            "pools need an agentpool entry"
        );
    }

    #[test]
    fn organization_pools_need_an_entry_of_their_own() {
        let wildcard = Grant {
            namespaces: Some(AllowedNamespaces {
                names: vec!["a".into()],
                selector: None,
            }),
            projects: vec!["*".into()],
            role_assignments: vec![RoleGrant {
                names: vec!["*".into()],
                ..RoleGrant::default()
            }],
            ..Grant::default()
        };
        let g =
            Granted::for_namespace("c".into(), std::slice::from_ref(&wildcard), None, "a", None);
        let pool = RoleTarget {
            type_: RoleResourceType::Agentpool,
            project: None,
            id: "9",
            name: "Default",
        };
        assert!(g.role_resource(&pool, RoleAsks::default()).is_err());
        let mut pools = wildcard;
        pools.role_assignments[0].type_ = Some(RoleResourceType::Agentpool);
        let g = Granted::for_namespace("c".into(), &[pools], None, "a", None);
        assert!(g.role_resource(&pool, RoleAsks::default()).is_ok());
    }

    #[test]
    fn several_grants_add_up() {
        let mut second = team_a_grant();
        second.projects = vec!["Payments".into()];
        second.all_pipelines = true;
        let g = Granted::for_namespace(
            "ClusterDevOpsOrganization contoso".into(),
            &[team_a_grant(), second],
            None,
            "team-a",
            None,
        );
        assert!(g.project(&storefront()).is_ok() && g.project(&other()).is_ok());
        assert!(g.all_pipelines().is_ok());
    }

    #[test]
    fn a_namespaced_organization_serves_its_own_namespace_only() {
        let own = |grants: &[Grant], ns: &str| {
            Granted::for_namespace(
                "DevOpsOrganization team-a/mine".into(),
                grants,
                Some("team-a"),
                ns,
                None,
            )
        };
        assert!(
            own(&[], "team-a").all_pipelines().is_ok(),
            "no grants: unrestricted"
        );
        assert!(own(&[], "team-b").any().is_err());
        let limited = Grant {
            projects: vec!["Storefront".into()],
            ..Default::default()
        };
        assert!(own(std::slice::from_ref(&limited), "team-a")
            .project(&storefront())
            .is_ok());
        assert!(own(&[limited], "team-a").project(&other()).is_err());
    }

    #[test]
    fn checks_match_type_project_name_and_exclusive() {
        let grant = Grant {
            namespaces: Some(AllowedNamespaces {
                names: vec!["a".into()],
                selector: None,
            }),
            projects: vec!["Storefront".into()],
            checks: vec![CheckGrant {
                type_: Some(ResourceType::Environment),
                names: vec!["storefront-*".into()],
                ..CheckGrant::default()
            }],
            ..Default::default()
        };
        let g = Granted::for_namespace("org".into(), std::slice::from_ref(&grant), None, "a", None);
        let env = ResourceType::Environment;
        assert!(g
            .check_resource(env, &storefront(), "2", "storefront-production", false)
            .is_ok());
        assert!(g
            .check_resource(env, &storefront(), "2", "storefront-production", true)
            .is_err());
        assert!(g
            .check_resource(env, &other(), "7", "storefront-x", false)
            .is_err());
        assert!(g
            .check_resource(
                ResourceType::Endpoint,
                &storefront(),
                "x",
                "storefront-x",
                false
            )
            .is_err());
        assert!(g
            .check_resource(env, &storefront(), "1", "staging", false)
            .is_err());
        let mut exclusive = grant;
        exclusive.checks[0].exclusive = true;
        let g = Granted::for_namespace("org".into(), &[exclusive], None, "a", None);
        assert!(g
            .check_resource(env, &storefront(), "2", "storefront-production", true)
            .is_ok());
    }

    #[test]
    fn everything_allows_everything() {
        let g = Granted::for_namespace(
            "x".into(),
            &[Grant {
                namespaces: Some(AllowedNamespaces {
                    names: vec!["a".into()],
                    selector: None,
                }),
                ..Granted::everything()
            }],
            None,
            "a",
            None,
        );
        assert!(g.project(&other()).is_ok());
        assert!(g.organization_scope().is_ok());
        assert!(g.exclusive_membership("[x]\\y").is_ok());
        assert!(g
            .pipeline_resource(ResourceType::Repository, &other(), "1", None)
            .is_ok());
    }
}
