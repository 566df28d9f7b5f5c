//! Azure DevOps client: one typed async client per organization over one shared, throttled,
//! retrying request path.

pub mod api_version;
mod backoff;
mod cache;
mod checks;
mod client;
mod entitlements;
mod error;
mod fresh_listing;
mod graph_ancestry;
mod graph_entra_groups;
mod graph_groups;
mod graph_memberships;
mod graph_protected;
mod graph_subjects;
mod group_rules;
mod http;
mod listings;
pub mod metrics;
mod pipeline_permissions;
mod pipelines;
mod project_listings;
mod projects;
mod resources;
mod security_roles;
pub mod tenant;
mod throttle;
mod transport;
mod types;

pub use backoff::BackoffPolicy;
pub use checks::{
    CheckConfiguration, CheckKind, CheckResource, CheckSettings, CheckTypeRef, DesiredCheck,
    TemplateRef,
};
pub use client::{AdoClient, ClientLimits, OrganizationEndpoint};
pub use entitlements::{
    AccessLevel, EntitlementChange, MemberEntitlement, MemberKind, NewPrincipal,
    ProjectEntitlement, ProjectGrant, ProjectGroupRef, ProjectRef,
};
pub use error::{AdoError, ApiErrorDetail, NO_LICENCE_CODE};
pub use graph_ancestry::{Ancestor, Ancestry, ANCESTRY_TTL, MAX_CONTAINERS, MAX_DEPTH};
pub use graph_protected::{Protected, ProtectedSet, ProtectionPolicy};
pub use group_rules::{EntitlementOperation, GroupEntitlement, RuleGroup, RuleWrite};
pub use http::{build_http_client, HttpClients};
pub use metrics::AdoMetrics;
pub use security_roles::{
    assigned_roles, RoleAssignment, RoleGrantRef, RoleIdentity, RoleScope, SecurityRole,
};
pub use throttle::ThrottleConfig;
pub use transport::RetryLimits;
pub use types::{
    is_group_descriptor, normalize_folder, EntraGroupKey, GraphGroup, GraphSubject, IdentityRef,
    Permission, PermissionResource, PipelinePermission, PipelineRef, Project, ResourceKind,
    ResourcePipelinePermissions, ResourceRef, UnknownResourceKind,
};
