//! Every reason the operator reports: on the `Ready` condition, on Events, on per-item status
//! (`status.members[].reason`, `status.pipelines[].reason`) and as the `reason` label of
//! `azdo_reconcile_errors_total`.
//!
//! One enum, so that a typo does not compile and a reason read back from a condition is matched
//! as a variant, never as a string. Each variant's name is the PascalCase text written to the
//! API; each is documented in `docs/troubleshooting.md` (a test fails when one is missing).

use strum::{EnumIter, EnumString, IntoStaticStr};

/// Why an object is (or is not) Ready, or what the operator just did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, EnumString, IntoStaticStr)]
pub enum Reason {
    // ---- Ready=True
    /// An organization: a token was obtained and Azure DevOps accepted it.
    Connected,
    /// Azure DevOps matches the spec.
    Synced,
    /// Observe: Azure DevOps already matches the spec; `Manage` would change nothing.
    InSync,

    // ---- Observe (`managementPolicy: Observe` or `--observe`)
    /// Observe: `Manage` would change Azure DevOps; `status.drift` lists how.
    DriftDetected,
    /// Observe: a write reached the client and was refused (nothing was sent).
    ObserveOnly,

    // ---- the organization an object uses
    /// `organizationRef` names no organization.
    OrganizationNotFound,
    /// The organization does not allow this namespace.
    NotAllowed,
    /// The organization reports Ready=False.
    OrganizationNotReady,

    // ---- authentication and configuration
    /// No token, or Azure DevOps refused it.
    AuthenticationFailed,
    /// Azure DevOps answered 403.
    Forbidden,
    /// A `secretRef` names no Secret.
    SecretNotFound,
    /// The Secret lacks the key or it is empty.
    SecretKeyMissing,
    /// `caBundle` holds no valid certificate.
    InvalidCABundle,
    /// A client setting (authority host, URL) is unusable.
    InvalidConfiguration,
    /// Azure DevOps could not look an Entra subject up.
    EntraLookupFailed,
    /// The operator's service principal was never added to the organization (`TF401444`).
    IdentityNotInOrganization,
    /// Entra found no federated credential matching the token's issuer, subject and audience
    /// (`AADSTS700213`, formerly `AADSTS70021`).
    FederatedCredentialMismatch,
    /// Federated identity credentials are disabled in the tenant (`AADSTS700223`).
    FederationDisabled,

    // ---- Azure DevOps answers
    /// A subject, group or resource Azure DevOps does not have.
    NotFound,
    /// Someone else manages it, or Azure DevOps answered 409.
    Conflict,
    /// Rate limiting outlasted the retry budget.
    Throttled,
    /// The reconcile used its time budget (`--reconcile-timeout`); the rest continues next time.
    DeadlineExceeded,
    /// The namespace already runs its share of concurrent reconciles; this one is deferred.
    NamespaceBusy,
    /// 5xx or network errors after retries.
    AzureDevOpsUnavailable,
    /// Azure DevOps rejected the request (400).
    InvalidRequest,
    /// A reply the operator does not understand.
    UnexpectedResponse,
    /// The spec cannot work as written.
    InvalidSpec,

    // ---- groups
    /// `project` does not exist.
    ProjectNotFound,
    /// The group is protected in the organization.
    ProtectedGroup,
    /// An Entra group does not exist.
    EntraGroupNotFound,

    // ---- memberships
    /// A group (target or member) does not exist.
    GroupNotFound,
    /// A referenced DevOpsGroup is not Ready yet.
    GroupNotReady,
    /// A user does not exist in the directory.
    UserNotFound,
    /// A service principal does not exist in the directory.
    ServicePrincipalNotFound,
    /// A group listed as its own member.
    SelfMembership,
    /// Adding the member would close a cycle of memberships.
    MembershipCycle,
    /// Several members failed.
    MembersFailed,

    // ---- pipeline authorizations
    /// The protected resource does not exist.
    ResourceNotFound,
    /// The service endpoint exists but is not ready (its creation or authorization failed).
    ServiceEndpointNotReady,
    /// Several resources or pipelines share the name.
    AmbiguousName,
    /// A listed pipeline does not exist.
    PipelineNotFound,
    /// Looking a pipeline up failed.
    PipelineLookupFailed,
    /// Several pipelines failed.
    PipelinesFailed,

    // ---- role assignments
    /// The resource type defines no role of that name.
    RoleNotFound,
    /// Additive mode: the identity holds another role on the resource, not given by this object.
    RoleHeldElsewhere,
    /// Several listed role assignments failed (see `status.assignments`).
    RolesFailed,

    // ---- Kubernetes
    /// The operator's own Kubernetes calls failed.
    KubernetesApiError,
    /// Adding or removing the finalizer failed.
    FinalizerFailed,
    /// A finalizer patch was refused because the cache was behind the apiserver (retried, never
    /// on a status).
    StaleCache,
    /// The stored object does not fit the operator's types.
    MalformedObject,

    // ---- Events: what the operator did
    /// A group was created.
    Created,
    /// An existing group was taken over.
    Adopted,
    /// A group's name or description, or a resource's authorizations, were changed.
    Updated,
    /// An Entra group was materialized in the organization.
    Materialized,
    /// The group was deleted in Azure DevOps by someone else and is recreated.
    DeletedOutOfBand,
    /// The group was deleted on object deletion.
    Deleted,
    /// The group was left in Azure DevOps on object deletion.
    Orphaned,
    /// Members were added to a group.
    MembersAdded,
    /// Members were removed from a group.
    MembersRemoved,
    /// Authorizations were revoked on object deletion.
    Revoked,
    /// Security roles were assigned (or assignments removed) on a resource.
    RolesAssigned,
    /// Role assignments were removed on object deletion.
    RolesRemoved,
}

impl Reason {
    /// The PascalCase text written to the API.
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    /// The reason a condition or Event carries, if it is one of ours.
    pub fn parse(text: &str) -> Option<Self> {
        text.parse().ok()
    }
}

impl std::fmt::Display for Reason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use strum::IntoEnumIterator;

    #[test]
    fn names_round_trip() {
        for reason in Reason::iter() {
            assert_eq!(Reason::parse(reason.as_str()), Some(reason));
        }
        assert_eq!(Reason::parse("NoSuchReason"), None);
        assert_eq!(Reason::MembershipCycle.to_string(), "MembershipCycle");
    }

    /// Every reason is documented in docs/troubleshooting.md, as `` `Name` `` in a table row or
    /// an Events line.
    #[test]
    fn every_reason_is_documented_in_troubleshooting() {
        let doc = include_str!("../docs/troubleshooting.md");
        let missing: Vec<&str> = Reason::iter()
            .map(Reason::as_str)
            .filter(|name| !doc.contains(&format!("`{name}`")))
            .collect();
        assert!(
            missing.is_empty(),
            "reasons missing from docs/troubleshooting.md: {missing:?}"
        );
    }
}
