//! The pure half of `export`: an [`Inventory`] in, manifests out. No I/O, so every choice
//! (what is exported, how things are named, how members are written) is unit-tested here.
//!
//! Choices, also in docs/export.md:
//! - Azure DevOps groups become `DevOpsGroup`s, except the groups Azure DevOps makes itself
//!   ([`is_built_in`]): those already exist in every project and organization, so only their
//!   memberships are exported, naming the group by principal name.
//! - Protected groups (the operator's default list, and every group nested in one) are left
//!   out unless `include_protected`: the operator refuses to manage them, so their objects
//!   could never become Ready. Groups whose membership Azure DevOps maintains itself
//!   ([`is_service_maintained`]) are always left out.
//! - Materialized Entra groups are not exported as `DevOpsGroup`s: their members live in
//!   Entra, and a membership lists them by object id (`entraGroup`), which materializes them.
//! - Every object is `managementPolicy: Observe` and `deletionPolicy: Orphan`.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use wildmatch::WildMatch;

use super::inventory::{Inventory, ResourceAuthorizations, ResourceRoles};
use super::names;
use crate::ado::RoleScope;
use crate::ado::{is_group_descriptor, GraphGroup, GraphSubject, PipelineRef, ResourceKind};
use crate::api::{
    DeletionPolicy, DevOpsGroup, DevOpsGroupSpec, DevOpsMembership, DevOpsMembershipSpec,
    GroupTarget, LocalRef, ManagementPolicy, Member, MembershipMode, OrganizationRef,
    PipelineResourceAuthorization, PipelineResourceAuthorizationSpec, PipelineSelector,
    ResourceSelector, ResourceType, RevocationPolicy, DEFAULT_PROTECTED_GROUPS, MAX_MEMBERS,
};
use crate::api::{
    DevOpsRoleAssignment, DevOpsRoleAssignmentSpec, RoleMembers, RoleResource, RoleResourceType,
};

/// The label every exported object carries: the organization it was exported from.
pub const EXPORTED_FROM_LABEL: &str = "azdo.io/exported-from";

/// The kinds `export` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ExportKind {
    Group,
    Membership,
    Authorization,
    RoleAssignment,
}

/// How to build.
#[derive(Debug, Clone)]
pub struct BuildOptions {
    /// The namespace of every object.
    pub namespace: String,
    /// The organization object every object refers to.
    pub organization_ref: OrganizationRef,
    /// The mode of every membership.
    pub membership_mode: MembershipMode,
    /// The kinds to write.
    pub kinds: BTreeSet<ExportKind>,
    /// Group name patterns (`*`, `?`; case-insensitive, on the display name or the principal
    /// name); empty: every group.
    pub group_patterns: Vec<String>,
    /// Export protected groups and their memberships too.
    pub include_protected: bool,
}

impl BuildOptions {
    fn wants(&self, kind: ExportKind) -> bool {
        self.kinds.contains(&kind)
    }

    fn group_selected(&self, group: &GraphGroup) -> bool {
        self.group_patterns.is_empty()
            || self.group_patterns.iter().any(|pattern| {
                let pattern = WildMatch::new_case_insensitive(pattern);
                pattern.matches(&group.display_name)
                    || group
                        .principal_name
                        .as_deref()
                        .is_some_and(|p| pattern.matches(p))
            })
    }
}

/// One manifest.
#[derive(Debug, Clone)]
pub enum ExportObject {
    Group(DevOpsGroup),
    Membership(DevOpsMembership),
    Authorization(PipelineResourceAuthorization),
    RoleAssignment(DevOpsRoleAssignment),
}

impl ExportObject {
    pub fn kind(&self) -> &'static str {
        match self {
            ExportObject::Group(_) => "DevOpsGroup",
            ExportObject::Membership(_) => "DevOpsMembership",
            ExportObject::Authorization(_) => "PipelineResourceAuthorization",
            ExportObject::RoleAssignment(_) => "DevOpsRoleAssignment",
        }
    }

    pub fn name(&self) -> &str {
        let meta = match self {
            ExportObject::Group(o) => &o.metadata,
            ExportObject::Membership(o) => &o.metadata,
            ExportObject::Authorization(o) => &o.metadata,
            ExportObject::RoleAssignment(o) => &o.metadata,
        };
        meta.name.as_deref().unwrap_or_default()
    }

    /// The object as YAML (through the API types, so it always matches the CRDs).
    pub fn to_yaml(&self) -> Result<String, serde_yaml::Error> {
        match self {
            ExportObject::Group(o) => serde_yaml::to_string(o),
            ExportObject::Membership(o) => serde_yaml::to_string(o),
            ExportObject::Authorization(o) => serde_yaml::to_string(o),
            ExportObject::RoleAssignment(o) => serde_yaml::to_string(o),
        }
    }
}

/// The manifests, and what was left out and why (one line each).
#[derive(Debug, Clone, Default)]
pub struct Export {
    pub objects: Vec<ExportObject>,
    pub notes: Vec<String>,
}

impl Export {
    pub fn count(&self, kind: &str) -> usize {
        self.objects.iter().filter(|o| o.kind() == kind).count()
    }
}

/// Groups Azure DevOps creates in every project (`{Project} Team` is the default team) and
/// organization: they exist already, so they are targeted by principal name, not exported.
pub fn is_built_in(group: &GraphGroup, project: Option<&str>) -> bool {
    const PROJECT: [&str; 8] = [
        "Project Administrators",
        "Contributors",
        "Readers",
        "Build Administrators",
        "Project Valid Users",
        "Release Administrators",
        "Endpoint Administrators",
        "Endpoint Creators",
    ];
    let name = group.display_name.as_str();
    match project {
        Some(project) => {
            PROJECT.iter().any(|b| b.eq_ignore_ascii_case(name))
                || name.eq_ignore_ascii_case(&format!("{project} Team"))
        }
        None => {
            name.to_ascii_lowercase().starts_with("project collection ")
                || ["Security Service Group", "Project-Scoped Users"]
                    .iter()
                    .any(|b| b.eq_ignore_ascii_case(name))
        }
    }
}

/// Groups whose membership Azure DevOps maintains (everyone with access, service accounts).
pub fn is_service_maintained(group: &GraphGroup) -> bool {
    let name = group.display_name.to_ascii_lowercase();
    name.ends_with("valid users")
        || name.ends_with("service accounts")
        || name == "security service group"
        || name == "project-scoped users"
}

/// Descriptors of the groups the operator protects: named on its default list, or nested
/// (at any depth) in such a group, as far as the memberships read show.
pub fn protected_groups(inventory: &Inventory) -> HashSet<String> {
    let mut protected: HashSet<String> = inventory
        .groups
        .iter()
        .filter(|g| {
            DEFAULT_PROTECTED_GROUPS
                .iter()
                .any(|p| p.eq_ignore_ascii_case(&g.display_name))
        })
        .map(|g| g.descriptor.clone())
        .collect();
    let mut queue: Vec<String> = protected.iter().cloned().collect();
    while let Some(container) = queue.pop() {
        for member in inventory.members.get(&container).into_iter().flatten() {
            if is_group_descriptor(member) && protected.insert(member.clone()) {
                queue.push(member.clone());
            }
        }
    }
    protected
}

/// A group `export` considered, with its scope.
struct Candidate<'a> {
    group: &'a GraphGroup,
    /// The project name; `None` for organization groups.
    project: Option<&'a str>,
    built_in: bool,
}

/// Azure DevOps groups in the exported scopes, selected by the patterns, without the
/// service-maintained and (unless asked for) protected ones; notes say what was left out.
fn candidates<'a>(
    inventory: &'a Inventory,
    options: &BuildOptions,
    only_projects: bool,
    notes: &mut Vec<String>,
) -> Vec<Candidate<'a>> {
    let protected = protected_groups(inventory);
    let mut out = Vec::new();
    for group in &inventory.groups {
        if group.is_deleted || !group.is_azure_devops_group() {
            continue;
        }
        let project = inventory.project_of(group);
        if project.is_none() && (group.project_id().is_some() || only_projects) {
            continue; // a project not exported, or organization groups when only projects were
        }
        if !options.group_selected(group) || is_service_maintained(group) {
            continue;
        }
        let principal = group
            .principal_name
            .clone()
            .unwrap_or_else(|| group.display_name.clone());
        if protected.contains(&group.descriptor) && !options.include_protected {
            notes.push(format!(
                "left out {principal}: a protected group (on the operator's default list, or nested in one); --include-protected exports it"
            ));
            continue;
        }
        out.push(Candidate {
            group,
            project,
            built_in: is_built_in(group, project),
        });
    }
    out
}

/// Everything `options` asks for. `only_projects`: projects were named on the command line
/// (organization groups are then not exported).
pub fn build(inventory: &Inventory, options: &BuildOptions, only_projects: bool) -> Export {
    let mut export = Export::default();
    let candidates = candidates(inventory, options, only_projects, &mut export.notes);
    let group_names = if options.wants(ExportKind::Group) {
        group_object_names(inventory, &candidates)
    } else {
        BTreeMap::new()
    };
    if options.wants(ExportKind::Group) {
        for candidate in candidates.iter().filter(|c| !c.built_in) {
            let name = &group_names[&candidate.group.descriptor];
            export.objects.push(ExportObject::Group(build_group(
                candidate.group,
                candidate.project,
                name,
                &inventory.organization,
                options,
            )));
        }
    }
    if options.wants(ExportKind::Membership) {
        let memberships = build_memberships(
            inventory,
            &candidates,
            &group_names,
            options,
            &mut export.notes,
        );
        export
            .objects
            .extend(memberships.into_iter().map(ExportObject::Membership));
    }
    if options.wants(ExportKind::Authorization) {
        let authorizations = build_authorizations(inventory, options);
        export
            .objects
            .extend(authorizations.into_iter().map(ExportObject::Authorization));
    }
    if options.wants(ExportKind::RoleAssignment) {
        let roles = build_role_assignments(inventory, &group_names, options);
        export
            .objects
            .extend(roles.into_iter().map(ExportObject::RoleAssignment));
    }
    // Groups first (memberships and role assignments refer to them), then memberships,
    // authorizations and role assignments; by name within a kind, so the same organization
    // always gives the same stream.
    let rank = |o: &ExportObject| match o {
        ExportObject::Group(_) => 0,
        ExportObject::Membership(_) => 1,
        ExportObject::Authorization(_) => 2,
        ExportObject::RoleAssignment(_) => 3,
    };
    export
        .objects
        .sort_by(|a, b| (rank(a), a.name()).cmp(&(rank(b), b.name())));
    export
}

/// Object names of the groups exported as `DevOpsGroup`s, by descriptor.
fn group_object_names(inventory: &Inventory, candidates: &[Candidate]) -> BTreeMap<String, String> {
    let wanted: Vec<(String, String)> = candidates
        .iter()
        .filter(|c| !c.built_in)
        .map(|c| {
            let scope = c.project.unwrap_or(&inventory.organization);
            (
                c.group.descriptor.clone(),
                names::join(&[scope, &c.group.display_name]),
            )
        })
        .collect();
    names::assign(&wanted)
}

fn metadata(name: &str, options: &BuildOptions, organization: &str) -> ObjectMeta {
    ObjectMeta {
        name: Some(name.to_string()),
        namespace: Some(options.namespace.clone()),
        labels: Some(BTreeMap::from([(
            EXPORTED_FROM_LABEL.to_string(),
            names::slug(organization),
        )])),
        ..ObjectMeta::default()
    }
}

/// A `DevOpsGroup` that adopts an existing group.
pub fn build_group(
    group: &GraphGroup,
    project: Option<&str>,
    name: &str,
    organization: &str,
    options: &BuildOptions,
) -> DevOpsGroup {
    let description = group
        .description
        .as_deref()
        .map(str::trim)
        .filter(|d| !d.is_empty())
        .map(|d| d.chars().take(1024).collect());
    DevOpsGroup {
        metadata: metadata(name, options, organization),
        spec: DevOpsGroupSpec {
            organization_ref: options.organization_ref.clone(),
            project: project.map(str::to_string),
            display_name: Some(group.display_name.clone()),
            description,
            entra_group: None,
            deletion_policy: Some(DeletionPolicy::Orphan),
            management_policy: ManagementPolicy::Observe,
        },
        status: None,
    }
}

/// One `DevOpsMembership` per group with members (more than one for a group of more than
/// [`MAX_MEMBERS`] direct members: Additive memberships add up).
fn build_memberships(
    inventory: &Inventory,
    candidates: &[Candidate],
    group_names: &BTreeMap<String, String>,
    options: &BuildOptions,
    notes: &mut Vec<String>,
) -> Vec<DevOpsMembership> {
    let groups: HashMap<&str, &GraphGroup> = inventory
        .groups
        .iter()
        .map(|g| (g.descriptor.as_str(), g))
        .collect();
    let mut planned = Vec::new();
    for candidate in candidates {
        let group = candidate.group;
        let Some(descriptors) = inventory.members.get(&group.descriptor) else {
            continue;
        };
        let mut members: Vec<Member> = descriptors
            .iter()
            .map(|d| member_for(d, group_names, &groups, &inventory.subjects))
            .collect();
        members.sort_by_key(Member::key);
        members.dedup();
        if members.is_empty() {
            continue;
        }
        let target = match group_names.get(&group.descriptor) {
            Some(name) => GroupTarget {
                group_ref: Some(LocalRef { name: name.clone() }),
                ..GroupTarget::default()
            },
            None => GroupTarget {
                principal_name: group.principal_name.clone(),
                descriptor: group
                    .principal_name
                    .is_none()
                    .then(|| group.descriptor.clone()),
                ..GroupTarget::default()
            },
        };
        let principal = group
            .principal_name
            .as_deref()
            .unwrap_or(&group.display_name);
        let mut mode = options.membership_mode;
        if mode == MembershipMode::Exclusive && members.len() > MAX_MEMBERS {
            notes.push(format!(
                "{principal} has {} direct members, more than one object may list ({MAX_MEMBERS}): exported as several Additive memberships",
                members.len()
            ));
            mode = MembershipMode::Additive;
        }
        let scope = candidate.project.unwrap_or(&inventory.organization);
        let chunks: Vec<&[Member]> = members.chunks(MAX_MEMBERS).collect();
        for (index, chunk) in chunks.iter().enumerate() {
            let (identity, base) = if index == 0 {
                (
                    group.descriptor.clone(),
                    names::join(&[scope, &group.display_name, "members"]),
                )
            } else {
                let part = (index + 1).to_string();
                (
                    format!("{}#{part}", group.descriptor),
                    names::join(&[scope, &group.display_name, "members", &part]),
                )
            };
            planned.push((
                identity,
                base,
                DevOpsMembershipSpec {
                    organization_ref: options.organization_ref.clone(),
                    group: target.clone(),
                    members: chunk.to_vec(),
                    mode,
                    deletion_policy: DeletionPolicy::Orphan,
                    management_policy: ManagementPolicy::Observe,
                },
            ));
        }
    }
    let wanted: Vec<(String, String)> = planned
        .iter()
        .map(|(identity, base, _)| (identity.clone(), base.clone()))
        .collect();
    let object_names = names::assign(&wanted);
    planned
        .into_iter()
        .map(|(identity, _, spec)| DevOpsMembership {
            metadata: metadata(&object_names[&identity], options, &inventory.organization),
            spec,
            status: None,
        })
        .collect()
}

/// How a membership names a member, in the most readable form the spec accepts: a
/// `groupRef` to an exported group, a group's principal name, a user's principal name, an
/// Entra group's or service principal's object id; the descriptor when nothing else fits.
pub fn member_for(
    descriptor: &str,
    group_names: &BTreeMap<String, String>,
    groups: &HashMap<&str, &GraphGroup>,
    subjects: &HashMap<String, GraphSubject>,
) -> Member {
    if let Some(name) = group_names.get(descriptor) {
        return Member {
            group_ref: Some(LocalRef { name: name.clone() }),
            ..Member::default()
        };
    }
    let (principal, origin_id) = match (groups.get(descriptor), subjects.get(descriptor)) {
        (Some(group), _) => (group.principal_name.clone(), group.origin_id.clone()),
        (None, Some(subject)) => (subject.principal_name.clone(), subject.origin_id.clone()),
        (None, None) => (None, None),
    };
    let guid = origin_id.filter(|id| is_guid(id));
    let prefix = descriptor.split('.').next().unwrap_or_default();
    let member = match prefix {
        "vssgp" => principal
            .filter(|p| is_group_principal_name(p))
            .map(|p| Member {
                group: Some(p),
                ..Member::default()
            }),
        "aadgp" => guid.map(|id| Member {
            entra_group: Some(id),
            ..Member::default()
        }),
        "aadsp" => guid.map(|id| Member {
            service_principal: Some(id),
            ..Member::default()
        }),
        "aad" | "msa" => match principal.filter(|p| is_user_principal_name(p)) {
            Some(upn) => Some(Member {
                user: Some(upn),
                ..Member::default()
            }),
            None if prefix == "aad" => guid.map(|id| Member {
                entra_user: Some(id),
                ..Member::default()
            }),
            None => None,
        },
        _ => None,
    };
    member.unwrap_or_else(|| Member {
        descriptor: Some(descriptor.to_string()),
        ..Member::default()
    })
}

fn is_guid(text: &str) -> bool {
    let parts: Vec<&str> = text.split('-').collect();
    parts.len() == 5
        && parts
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(p, len)| p.len() == len && p.chars().all(|c| c.is_ascii_hexdigit()))
}

/// `user` in a membership: `^[^@\s]+@[^@\s]+$`, 3 to 256 characters.
fn is_user_principal_name(text: &str) -> bool {
    let Some((local, domain)) = text.split_once('@') else {
        return false;
    };
    (3..=256).contains(&text.len())
        && !local.is_empty()
        && !domain.is_empty()
        && !domain.contains('@')
        && !text.chars().any(char::is_whitespace)
}

/// `[Scope]\Name`.
fn is_group_principal_name(text: &str) -> bool {
    text.starts_with('[') && text.contains("]\\") && !text.ends_with('\\') && text.len() <= 320
}

fn resource_type(kind: ResourceKind) -> ResourceType {
    match kind {
        ResourceKind::Queue => ResourceType::Queue,
        ResourceKind::AgentPool => ResourceType::Agentpool,
        ResourceKind::Environment => ResourceType::Environment,
        ResourceKind::Endpoint => ResourceType::Endpoint,
        ResourceKind::VariableGroup => ResourceType::Variablegroup,
        ResourceKind::SecureFile => ResourceType::Securefile,
        ResourceKind::Repository => ResourceType::Repository,
    }
}

/// One `PipelineResourceAuthorization` per resource with authorized pipelines (or open to
/// every pipeline), per project. Resources and pipelines are named by name (pipelines with
/// their folder where the name alone is ambiguous or the folder is not the root), by id where
/// a name is not unique or the pipeline is not listed.
pub fn build_authorizations(
    inventory: &Inventory,
    options: &BuildOptions,
) -> Vec<PipelineResourceAuthorization> {
    let mut same_name: HashMap<(String, ResourceKind, String), usize> = HashMap::new();
    for a in &inventory.authorizations {
        *same_name
            .entry((
                a.project.to_lowercase(),
                a.resource.kind,
                a.resource.name.to_lowercase(),
            ))
            .or_default() += 1;
    }
    let mut planned = Vec::new();
    for a in &inventory.authorizations {
        if a.pipelines.is_empty() && !a.all_pipelines {
            continue;
        }
        let unique = same_name[&(
            a.project.to_lowercase(),
            a.resource.kind,
            a.resource.name.to_lowercase(),
        )] == 1;
        let resource = ResourceSelector {
            type_: resource_type(a.resource.kind),
            id: (!unique).then(|| a.resource.id.clone()),
            name: unique.then(|| a.resource.name.clone()),
            project: None,
        };
        let pipelines = inventory
            .pipelines
            .get(&a.project)
            .map(Vec::as_slice)
            .unwrap_or_default();
        let mut selectors: Vec<PipelineSelector> = a
            .pipelines
            .iter()
            .map(|id| pipeline_selector(*id, pipelines))
            .collect();
        selectors.sort_by_key(PipelineSelector::key);
        selectors.dedup();
        let identity = format!("{}/{}/{}", a.project, a.resource.kind, a.resource.id);
        let base = names::join(&[&a.project, a.resource.kind.as_str(), &a.resource.name]);
        planned.push((
            identity,
            base,
            build_authorization_spec(a, resource, selectors, options),
        ));
    }
    let wanted: Vec<(String, String)> = planned
        .iter()
        .map(|(identity, base, _)| (identity.clone(), base.clone()))
        .collect();
    let object_names = names::assign(&wanted);
    planned
        .into_iter()
        .map(|(identity, _, spec)| PipelineResourceAuthorization {
            metadata: metadata(&object_names[&identity], options, &inventory.organization),
            spec,
            status: None,
        })
        .collect()
}

fn build_authorization_spec(
    a: &ResourceAuthorizations,
    resource: ResourceSelector,
    pipelines: Vec<PipelineSelector>,
    options: &BuildOptions,
) -> PipelineResourceAuthorizationSpec {
    PipelineResourceAuthorizationSpec {
        organization_ref: options.organization_ref.clone(),
        project: a.project.clone(),
        resource,
        pipelines,
        all_pipelines: a.all_pipelines.then_some(true),
        deletion_policy: RevocationPolicy::Orphan,
        management_policy: ManagementPolicy::Observe,
    }
}

/// A pipeline by name (and folder, unless it is the root and the name is unique), or by id
/// when it is not among the project's pipelines.
pub fn pipeline_selector(id: i64, pipelines: &[PipelineRef]) -> PipelineSelector {
    let Some(pipeline) = pipelines.iter().find(|p| p.id == id) else {
        return PipelineSelector {
            id: Some(id),
            name: None,
            path: None,
        };
    };
    let namesakes = pipelines
        .iter()
        .filter(|p| p.name.eq_ignore_ascii_case(&pipeline.name))
        .count();
    let folder = crate::ado::normalize_folder(&pipeline.folder);
    if namesakes > 1
        && pipelines.iter().any(|p| {
            p.id != id
                && p.name.eq_ignore_ascii_case(&pipeline.name)
                && crate::ado::normalize_folder(&p.folder).eq_ignore_ascii_case(&folder)
        })
    {
        // Same name in the same folder: only the id tells them apart.
        return PipelineSelector {
            id: Some(id),
            name: None,
            path: None,
        };
    }
    PipelineSelector {
        id: None,
        name: Some(pipeline.name.clone()),
        path: (folder != "\\" || namesakes > 1).then_some(folder),
    }
}

fn role_resource_type(scope: RoleScope) -> RoleResourceType {
    match scope {
        RoleScope::Environment => RoleResourceType::Environment,
        RoleScope::Endpoint => RoleResourceType::Endpoint,
        RoleScope::Queue => RoleResourceType::Queue,
        RoleScope::AgentPool => RoleResourceType::Agentpool,
        RoleScope::VariableGroup => RoleResourceType::Variablegroup,
        RoleScope::SecureFile => RoleResourceType::Securefile,
        RoleScope::Library => RoleResourceType::Library,
    }
}

/// One `DevOpsRoleAssignment` per resource with explicit role assignments (inherited ones are
/// left to inheritance, which is left as it is), members named as in memberships, the
/// resource by name (by id where the name is not unique).
pub fn build_role_assignments(
    inventory: &Inventory,
    group_names: &BTreeMap<String, String>,
    options: &BuildOptions,
) -> Vec<DevOpsRoleAssignment> {
    let groups: HashMap<&str, &GraphGroup> = inventory
        .groups
        .iter()
        .map(|g| (g.descriptor.as_str(), g))
        .collect();
    let key = |r: &ResourceRoles| (r.project.clone(), r.scope, r.name.to_lowercase());
    let mut same_name: HashMap<(Option<String>, RoleScope, String), usize> = HashMap::new();
    for r in &inventory.roles {
        *same_name.entry(key(r)).or_default() += 1;
    }
    let mut planned = Vec::new();
    for r in &inventory.roles {
        let mut by_role: BTreeMap<String, Vec<Member>> = BTreeMap::new();
        for (role, descriptor) in &r.assignments {
            by_role.entry(role.clone()).or_default().push(member_for(
                descriptor,
                group_names,
                &groups,
                &inventory.subjects,
            ));
        }
        let assignments: Vec<RoleMembers> = by_role
            .into_iter()
            .map(|(role, mut members)| {
                members.sort_by_key(Member::key);
                members.dedup();
                RoleMembers { role, members }
            })
            .collect();
        let library = r.scope == RoleScope::Library;
        let unique = same_name[&key(r)] == 1;
        let resource = RoleResource {
            type_: role_resource_type(r.scope),
            id: (!library && !unique).then(|| r.id.clone()),
            name: (!library && unique).then(|| r.name.clone()),
        };
        let scope = r.project.as_deref().unwrap_or(&inventory.organization);
        let type_ = role_resource_type(r.scope);
        let base = if library {
            names::join(&[scope, "library", "roles"])
        } else {
            names::join(&[scope, type_.as_str(), &r.name, "roles"])
        };
        let identity = format!("{scope}/{}/{}", r.scope, r.id);
        planned.push((
            identity,
            base,
            DevOpsRoleAssignmentSpec {
                organization_ref: options.organization_ref.clone(),
                project: r.project.clone(),
                resource,
                assignments,
                mode: options.membership_mode,
                deletion_policy: DeletionPolicy::Orphan,
                management_policy: ManagementPolicy::Observe,
                inheritance: None,
            },
        ));
    }
    let wanted: Vec<(String, String)> = planned
        .iter()
        .map(|(identity, base, _)| (identity.clone(), base.clone()))
        .collect();
    let object_names = names::assign(&wanted);
    planned
        .into_iter()
        .map(|(identity, _, spec)| DevOpsRoleAssignment {
            metadata: metadata(&object_names[&identity], options, &inventory.organization),
            spec,
            status: None,
        })
        .collect()
}

#[cfg(test)]
#[path = "build_tests.rs"]
mod tests;
