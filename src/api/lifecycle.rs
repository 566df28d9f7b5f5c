//! What each kind declares about its objects' lifecycle, in one table: the finalizer it puts on
//! its objects (kinds that undo something in Azure DevOps on deletion), the organization an
//! object works in, and whether its deletion leaves Azure DevOps as it is.

use super::{
    ClusterDevOpsOrganization, DeletionPolicy, DevOpsEntitlement, DevOpsGroup, DevOpsMembership,
    DevOpsOrganization, DevOpsRoleAssignment, ManagementPolicy, OrganizationRef,
    PipelineResourceAuthorization, PipelineResourceCheck, RevocationPolicy,
};

pub trait Lifecycle {
    /// The finalizer, for kinds that clean up in Azure DevOps.
    const FINALIZER: Option<&'static str>;

    /// The organization the object works in; `None` for the organization kinds themselves.
    fn organization_ref(&self) -> Option<&OrganizationRef>;

    /// Whether deleting the object leaves Azure DevOps as it is (`deletionPolicy: Orphan`).
    fn orphans(&self) -> bool;

    /// `Observe` objects read and report, and never write (kinds without the field: `Manage`).
    fn management_policy(&self) -> ManagementPolicy {
        ManagementPolicy::Manage
    }
}

impl Lifecycle for ClusterDevOpsOrganization {
    const FINALIZER: Option<&'static str> = None;
    fn organization_ref(&self) -> Option<&OrganizationRef> {
        None
    }
    fn orphans(&self) -> bool {
        false
    }
}

impl Lifecycle for DevOpsOrganization {
    const FINALIZER: Option<&'static str> = None;
    fn organization_ref(&self) -> Option<&OrganizationRef> {
        None
    }
    fn orphans(&self) -> bool {
        false
    }
}

impl Lifecycle for DevOpsGroup {
    const FINALIZER: Option<&'static str> = Some("azdo.io/group");
    fn organization_ref(&self) -> Option<&OrganizationRef> {
        Some(&self.spec.organization_ref)
    }
    fn orphans(&self) -> bool {
        let default = match self.spec.entra_group {
            Some(_) => DeletionPolicy::Orphan,
            None => DeletionPolicy::Delete,
        };
        self.spec.deletion_policy.unwrap_or(default) == DeletionPolicy::Orphan
    }
    fn management_policy(&self) -> ManagementPolicy {
        self.spec.management_policy
    }
}

impl Lifecycle for DevOpsMembership {
    const FINALIZER: Option<&'static str> = Some("azdo.io/membership");
    fn organization_ref(&self) -> Option<&OrganizationRef> {
        Some(&self.spec.organization_ref)
    }
    fn orphans(&self) -> bool {
        self.spec.deletion_policy == DeletionPolicy::Orphan
    }
    fn management_policy(&self) -> ManagementPolicy {
        self.spec.management_policy
    }
}

impl Lifecycle for PipelineResourceAuthorization {
    const FINALIZER: Option<&'static str> = Some("azdo.io/pipeline-authorization");
    fn organization_ref(&self) -> Option<&OrganizationRef> {
        Some(&self.spec.organization_ref)
    }
    fn orphans(&self) -> bool {
        self.spec.deletion_policy == RevocationPolicy::Orphan
    }
    fn management_policy(&self) -> ManagementPolicy {
        self.spec.management_policy
    }
}

impl Lifecycle for DevOpsEntitlement {
    const FINALIZER: Option<&'static str> = Some("azdo.io/entitlement");
    fn organization_ref(&self) -> Option<&OrganizationRef> {
        Some(&self.spec.organization_ref)
    }
    fn orphans(&self) -> bool {
        self.spec.deletion_policy == DeletionPolicy::Orphan
    }
    fn management_policy(&self) -> ManagementPolicy {
        self.spec.management_policy
    }
}

impl Lifecycle for DevOpsRoleAssignment {
    const FINALIZER: Option<&'static str> = Some("azdo.io/role-assignment");
    fn organization_ref(&self) -> Option<&OrganizationRef> {
        Some(&self.spec.organization_ref)
    }
    fn orphans(&self) -> bool {
        self.spec.deletion_policy == DeletionPolicy::Orphan
    }
    fn management_policy(&self) -> ManagementPolicy {
        self.spec.management_policy
    }
}

impl Lifecycle for PipelineResourceCheck {
    const FINALIZER: Option<&'static str> = Some("azdo.io/resource-check");
    fn organization_ref(&self) -> Option<&OrganizationRef> {
        Some(&self.spec.organization_ref)
    }
    fn orphans(&self) -> bool {
        self.spec.deletion_policy == DeletionPolicy::Orphan
    }
    fn management_policy(&self) -> ManagementPolicy {
        self.spec.management_policy
    }
}
