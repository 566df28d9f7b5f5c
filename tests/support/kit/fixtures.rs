//! Typed fixtures: the operator's own kinds built for one test, pointed at its namespace and its
//! simulator. A field renamed in `src/api` breaks these at compile time, not at apply time.

use std::path::Path;

use azdo_operator::api::{
    AccessLevel, AllowedNamespaces, Check, CheckGrant, ClientSecretAuth, ClusterDevOpsOrganization,
    ClusterDevOpsOrganizationSpec, DeletionPolicy, DevOpsEntitlement, DevOpsEntitlementSpec,
    DevOpsGroup, DevOpsGroupSpec, DevOpsMembership, DevOpsMembershipSpec, DevOpsOrganization,
    DevOpsOrganizationSpec, DevOpsRoleAssignment, DevOpsRoleAssignmentSpec, EntitlementGrant,
    Grant, GroupTarget, LocalRef, Member, MembershipMode, OrganizationAuth, OrganizationKind,
    OrganizationRef, PatAuth, PipelineResourceAuthorization, PipelineResourceAuthorizationSpec,
    PipelineResourceCheck, PipelineResourceCheckSpec, PipelineSelector, Principal,
    ProjectEntitlementSpec, ProjectGroupType, ResourceGrant, ResourceSelector, ResourceType,
    RoleGrant, RoleMembers, RoleResource, RoleResourceType, SecretKeyRef, WorkloadIdentityAuth,
};
use kube::api::DynamicObject;
use serde::Deserialize as _;

use super::TestResult;

/// The organization of the simulator's default seed, and the name of the organization objects.
pub const ORGANIZATION: &str = "contoso";
/// The seed's project the fixtures use unless told otherwise.
pub const PROJECT: &str = "Storefront";

/// Where a test's objects go: its namespace, its simulator's organization URLs, its project.
#[derive(Clone, Debug)]
pub struct Fixtures {
    pub namespace: String,
    pub org_url: String,
    pub graph_url: String,
    /// The Member Entitlement Management URL (the simulator's vsaex host), when known.
    pub entitlement_url: Option<String>,
    pub project: String,
    /// The name of the ClusterDevOpsOrganization object the fixtures use (`contoso` unless
    /// [`Fixtures::isolated`]).
    pub cluster_organization: String,
}

impl Fixtures {
    pub fn new(namespace: &str, org_url: &str, graph_url: &str) -> Self {
        Self {
            namespace: namespace.to_string(),
            org_url: org_url.to_string(),
            graph_url: graph_url.to_string(),
            entitlement_url: None,
            project: PROJECT.to_string(),
            cluster_organization: ORGANIZATION.to_string(),
        }
    }

    /// The same, with the entitlement host's URL (DevOpsEntitlement).
    pub fn with_entitlement_url(mut self, url: &str) -> Self {
        self.entitlement_url = Some(url.to_string());
        self
    }

    /// The same, with a ClusterDevOpsOrganization object of this test's own (`contoso-<ns>`):
    /// tests sharing a control plane then never overwrite each other's cluster organization.
    pub fn isolated(mut self) -> Self {
        self.cluster_organization = format!("{ORGANIZATION}-{}", self.namespace);
        self
    }

    /// ClusterDevOpsOrganization `contoso`: the simulator, the operator's workload identity,
    /// allowing this namespace only.
    pub fn cluster_organization(&self) -> ClusterDevOpsOrganization {
        self.cluster_organization_allowing(&[&self.namespace])
    }

    /// The same, allowing exactly `namespaces`.
    pub fn cluster_organization_allowing(&self, namespaces: &[&str]) -> ClusterDevOpsOrganization {
        self.cluster_organization_named(&self.cluster_organization, workload_identity(), namespaces)
    }

    /// A ClusterDevOpsOrganization `name` with `auth`, granting everything (through the
    /// deprecated `allowedNamespaces`) to `namespaces` (none: every namespace, by an empty label
    /// selector).
    pub fn cluster_organization_named(
        &self,
        name: &str,
        auth: OrganizationAuth,
        namespaces: &[&str],
    ) -> ClusterDevOpsOrganization {
        let allowed = Some(match namespaces {
            [] => AllowedNamespaces {
                names: Vec::new(),
                selector: Some(Default::default()),
            },
            names => AllowedNamespaces {
                names: names.iter().map(|n| n.to_string()).collect(),
                selector: None,
            },
        });
        ClusterDevOpsOrganization::new(
            name,
            ClusterDevOpsOrganizationSpec {
                url: self.org_url.clone(),
                graph_url: Some(self.graph_url.clone()),
                entitlement_url: self.entitlement_url.clone(),
                auth,
                ca_bundle: None,
                protected_groups: None,
                grants: Vec::new(),
                allowed_namespaces: allowed,
            },
        )
    }

    /// ClusterDevOpsOrganization `contoso` (the simulator, the operator's workload identity)
    /// with exactly `grants`, and no deprecated `allowedNamespaces`.
    pub fn cluster_organization_granting(&self, grants: Vec<Grant>) -> ClusterDevOpsOrganization {
        let mut org = self.cluster_organization();
        org.spec.allowed_namespaces = None;
        org.spec.grants = grants;
        org
    }

    /// A DevOpsOrganization `name` in this namespace with `auth`.
    pub fn organization(&self, name: &str, auth: OrganizationAuth) -> DevOpsOrganization {
        let mut org = DevOpsOrganization::new(
            name,
            DevOpsOrganizationSpec {
                url: self.org_url.clone(),
                graph_url: Some(self.graph_url.clone()),
                entitlement_url: self.entitlement_url.clone(),
                auth,
                ca_bundle: None,
                protected_groups: None,
                grants: Vec::new(),
            },
        );
        org.metadata.namespace = Some(self.namespace.clone());
        org
    }

    /// DevOpsGroup `name`: the Azure DevOps group `display` in the project, through the cluster
    /// organization `contoso`, deleted with the object.
    pub fn group(&self, name: &str, display: &str) -> DevOpsGroup {
        let mut group = DevOpsGroup::new(
            name,
            DevOpsGroupSpec {
                organization_ref: cluster_ref(&self.cluster_organization),
                project: Some(self.project.clone()),
                display_name: Some(display.to_string()),
                description: None,
                entra_group: None,
                deletion_policy: Some(DeletionPolicy::Delete),
                management_policy: Default::default(),
            },
        );
        group.metadata.namespace = Some(self.namespace.clone());
        group
    }

    /// DevOpsMembership `name`: `members` of `group`, Additive, through `contoso`.
    pub fn membership(
        &self,
        name: &str,
        group: GroupTarget,
        members: Vec<Member>,
    ) -> DevOpsMembership {
        let mut membership = DevOpsMembership::new(
            name,
            DevOpsMembershipSpec {
                organization_ref: cluster_ref(&self.cluster_organization),
                group,
                members,
                mode: MembershipMode::Additive,
                deletion_policy: DeletionPolicy::Delete,
                management_policy: Default::default(),
            },
        );
        membership.metadata.namespace = Some(self.namespace.clone());
        membership
    }

    /// PipelineResourceAuthorization `name`: `pipelines` of the project on `resource`.
    pub fn authorization(
        &self,
        name: &str,
        resource: ResourceSelector,
        pipelines: Vec<PipelineSelector>,
    ) -> PipelineResourceAuthorization {
        let mut authorization = PipelineResourceAuthorization::new(
            name,
            PipelineResourceAuthorizationSpec {
                organization_ref: cluster_ref(&self.cluster_organization),
                project: self.project.clone(),
                resource,
                pipelines,
                all_pipelines: None,
                deletion_policy: Default::default(),
                management_policy: Default::default(),
            },
        );
        authorization.metadata.namespace = Some(self.namespace.clone());
        authorization
    }

    /// DevOpsRoleAssignment `name`: `assignments` (role, members) on `resource` of the project,
    /// Additive, deleted with the object, through `contoso`.
    pub fn role_assignment(
        &self,
        name: &str,
        resource: RoleResource,
        assignments: Vec<RoleMembers>,
    ) -> DevOpsRoleAssignment {
        let mut roles = DevOpsRoleAssignment::new(
            name,
            DevOpsRoleAssignmentSpec {
                organization_ref: cluster_ref(&self.cluster_organization),
                project: (resource.type_ != RoleResourceType::Agentpool)
                    .then(|| self.project.clone()),
                resource,
                assignments,
                mode: MembershipMode::Additive,
                deletion_policy: DeletionPolicy::Delete,
                inheritance: None,
                management_policy: Default::default(),
            },
        );
        roles.metadata.namespace = Some(self.namespace.clone());
        roles
    }

    /// PipelineResourceCheck `name`: `checks` on `resource` of the project, Additive, deleted
    /// with the object, through `contoso`.
    pub fn resource_check(
        &self,
        name: &str,
        resource: ResourceSelector,
        checks: Vec<Check>,
    ) -> PipelineResourceCheck {
        let mut check = PipelineResourceCheck::new(
            name,
            PipelineResourceCheckSpec {
                organization_ref: cluster_ref(&self.cluster_organization),
                project: self.project.clone(),
                resource,
                checks,
                mode: MembershipMode::Additive,
                deletion_policy: DeletionPolicy::Delete,
                management_policy: Default::default(),
            },
        );
        check.metadata.namespace = Some(self.namespace.clone());
        check
    }

    /// A DevOpsEntitlement `name` giving `principal` `level` and `projects` (project, group).
    pub fn entitlement(
        &self,
        name: &str,
        principal: Principal,
        level: AccessLevel,
        projects: &[(&str, ProjectGroupType)],
    ) -> DevOpsEntitlement {
        let mut e = DevOpsEntitlement::new(
            name,
            DevOpsEntitlementSpec {
                organization_ref: cluster_ref(&self.cluster_organization),
                principal,
                access_level: level,
                project_entitlements: projects
                    .iter()
                    .map(|(project, group)| ProjectEntitlementSpec {
                        project: project.to_string(),
                        group: *group,
                        custom_group: None,
                    })
                    .collect(),
                deletion_policy: DeletionPolicy::Delete,
                management_policy: Default::default(),
            },
        );
        e.metadata.namespace = Some(self.namespace.clone());
        e
    }

    /// The samples under `config/samples` (all but the kustomization), pointed at this namespace
    /// and simulator.
    pub fn samples(&self) -> TestResult<Vec<DynamicObject>> {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/samples");
        let mut files: Vec<_> = std::fs::read_dir(dir)?
            .map(|e| e.map(|e| e.path()))
            .collect::<Result<_, _>>()?;
        files.sort();
        let mut objects = Vec::new();
        for file in files {
            if file.file_name().is_some_and(|n| n == "kustomization.yaml") {
                continue;
            }
            for doc in serde_yaml::Deserializer::from_str(&std::fs::read_to_string(&file)?) {
                let mut obj = DynamicObject::deserialize(doc)?;
                self.localize(&mut obj);
                objects.push(obj);
            }
        }
        Ok(objects)
    }

    /// Point an object written for any cluster at this test: its namespace, the simulator's URLs.
    pub fn localize(&self, obj: &mut DynamicObject) {
        let kind = super::objects::kind_of(obj).to_string();
        let cluster = kind == OrganizationKind::ClusterDevOpsOrganization.to_string();
        if !cluster {
            obj.metadata.namespace = Some(self.namespace.clone());
        }
        if kind.ends_with("DevOpsOrganization") {
            obj.data["spec"]["url"] = self.org_url.clone().into();
            obj.data["spec"]["graphUrl"] = self.graph_url.clone().into();
            if let Some(url) = &self.entitlement_url {
                obj.data["spec"]["entitlementUrl"] = url.clone().into();
            }
        }
        if cluster {
            obj.metadata.name = Some(self.cluster_organization.clone());
        } else if obj.data["spec"]["organizationRef"]["kind"]
            .as_str()
            .unwrap_or("ClusterDevOpsOrganization")
            == "ClusterDevOpsOrganization"
            && obj.data["spec"]["organizationRef"].is_object()
        {
            obj.data["spec"]["organizationRef"]["name"] = self.cluster_organization.clone().into();
        }
        if cluster {
            // The samples grant namespace team-a: grant the same to this test's namespace.
            if let Some(grants) = obj.data["spec"]["grants"].as_array_mut() {
                for grant in grants {
                    grant["namespaces"] = serde_json::json!({"names": [self.namespace]});
                }
            }
        }
    }
}

/// What the samples' organization (config/samples/clusterdevopsorganization.yaml) grants its
/// tenant, to `namespaces`: project Storefront, members of `[Storefront]\Contributors` (Additive
/// only), pipeline authorizations, security roles (not Administrator) and checks (not Exclusive)
/// on the project's `storefront-*` environments.
pub fn storefront_grant(namespaces: &[&str]) -> Grant {
    Grant {
        namespaces: Some(AllowedNamespaces {
            names: namespaces.iter().map(|n| n.to_string()).collect(),
            selector: None,
        }),
        projects: vec![PROJECT.to_string()],
        groups: vec![r"[Storefront]\Contributors".to_string()],
        pipeline_resources: vec![ResourceGrant {
            type_: Some(ResourceType::Environment),
            project: None,
            names: vec!["storefront-*".to_string()],
        }],
        role_assignments: vec![RoleGrant {
            type_: Some(RoleResourceType::Environment),
            names: vec!["storefront-*".to_string()],
            ..RoleGrant::default()
        }],
        checks: vec![CheckGrant {
            type_: Some(ResourceType::Environment),
            names: vec!["storefront-*".to_string()],
            ..CheckGrant::default()
        }],
        entitlements: Some(EntitlementGrant {
            access_levels: vec![AccessLevel::Stakeholder],
            project_groups: vec![ProjectGroupType::Readers, ProjectGroupType::Contributors],
            group_rules: true,
        }),
        ..Grant::default()
    }
}

/// The operator's workload identity (the default client of a cluster organization).
pub fn workload_identity() -> OrganizationAuth {
    OrganizationAuth {
        workload_identity: Some(WorkloadIdentityAuth::default()),
        ..OrganizationAuth::default()
    }
}

/// A personal access token from the Secret `name` (in the object's namespace unless `namespace`).
pub fn pat(name: &str, namespace: Option<&str>) -> OrganizationAuth {
    OrganizationAuth {
        pat: Some(PatAuth {
            secret_ref: secret_ref(name, namespace),
        }),
        ..OrganizationAuth::default()
    }
}

/// An Entra app's client secret from the Secret `name`.
pub fn client_secret(
    tenant_id: &str,
    client_id: &str,
    name: &str,
    namespace: Option<&str>,
) -> OrganizationAuth {
    OrganizationAuth {
        client_secret: Some(ClientSecretAuth {
            tenant_id: tenant_id.to_string(),
            client_id: client_id.to_string(),
            secret_ref: secret_ref(name, namespace),
        }),
        ..OrganizationAuth::default()
    }
}

fn secret_ref(name: &str, namespace: Option<&str>) -> SecretKeyRef {
    SecretKeyRef {
        name: name.to_string(),
        namespace: namespace.map(str::to_string),
        key: None,
    }
}

/// A reference to ClusterDevOpsOrganization `name`.
pub fn cluster_ref(name: &str) -> OrganizationRef {
    OrganizationRef {
        kind: OrganizationKind::ClusterDevOpsOrganization,
        name: name.to_string(),
    }
}

/// A reference to the namespace's DevOpsOrganization `name`.
pub fn namespaced_ref(name: &str) -> OrganizationRef {
    OrganizationRef {
        kind: OrganizationKind::DevOpsOrganization,
        name: name.to_string(),
    }
}

/// The group a membership targets: the DevOpsGroup `name` of the namespace.
pub fn target_ref(name: &str) -> GroupTarget {
    GroupTarget {
        group_ref: Some(local(name)),
        ..GroupTarget::default()
    }
}

/// The group a membership targets, by principal name (`[Project]\Name`).
pub fn target_principal(principal_name: &str) -> GroupTarget {
    GroupTarget {
        principal_name: Some(principal_name.to_string()),
        ..GroupTarget::default()
    }
}

/// A user member, by UPN.
pub fn user(upn: &str) -> Member {
    Member {
        user: Some(upn.to_string()),
        ..Member::default()
    }
}

/// Users, by UPN.
pub fn users(upns: &[&str]) -> Vec<Member> {
    upns.iter().map(|u| user(u)).collect()
}

/// An Azure DevOps group member, by principal name.
pub fn group_member(principal_name: &str) -> Member {
    Member {
        group: Some(principal_name.to_string()),
        ..Member::default()
    }
}

/// The group of the namespace's DevOpsGroup `name` as a member.
pub fn group_ref_member(name: &str) -> Member {
    Member {
        group_ref: Some(local(name)),
        ..Member::default()
    }
}

fn local(name: &str) -> LocalRef {
    LocalRef {
        name: name.to_string(),
    }
}

/// A protected resource by type and name.
pub fn resource_named(type_: ResourceType, name: &str) -> ResourceSelector {
    ResourceSelector {
        type_,
        id: None,
        name: Some(name.to_string()),
        project: None,
    }
}

/// A pipeline by name (and, if given, folder path).
pub fn pipeline_named(name: &str, path: Option<&str>) -> PipelineSelector {
    PipelineSelector {
        id: None,
        name: Some(name.to_string()),
        path: path.map(str::to_string),
    }
}

/// A pipeline by id.
pub fn pipeline_id(id: i64) -> PipelineSelector {
    PipelineSelector {
        id: Some(id),
        name: None,
        path: None,
    }
}
