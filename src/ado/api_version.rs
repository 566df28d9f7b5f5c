//! api-version per resource, as Microsoft's published 7.1 REST specs mark it
//! (`x-ms-docs-override-version` / the `api-Version` or `api-Version-preview.N` parameter of
//! each operation). A released resource gets the plain `7.1`: a preview of a version that is
//! already released may be switched off by the service (12 weeks after the release). A preview
//! resource needs `-preview.N` with its own resource version N (a plain `7.1` is a 400).
//! `docs/contract.md` lists every route with its version; `tests/client/contract.rs` holds the
//! code to that table.

/// Graph groups, users, service principals, memberships, membership states, subject query and
/// subject lookup: preview (graph.json, `api-Version-preview.1`).
pub const GRAPH: &str = "7.1-preview.1";
/// `graph/descriptors`: released at 7.1 (graph.json, `api-Version`).
pub const GRAPH_DESCRIPTORS: &str = "7.1";
/// `graph/storagekeys`: released at 7.1 (graph.json, `api-Version`).
pub const GRAPH_STORAGE_KEYS: &str = "7.1";
/// `_apis/pipelines/pipelinepermissions`: preview (pipelinePermissions.json).
pub const PIPELINE_PERMISSIONS: &str = "7.1-preview.1";
/// `_apis/projects`: released (core.json).
pub const PROJECTS: &str = "7.1";
/// `_apis/build/definitions`: released (build.json).
pub const BUILD_DEFINITIONS: &str = "7.1";
/// `_apis/git/repositories`: released (git.json).
pub const GIT_REPOSITORIES: &str = "7.1";
/// `_apis/distributedtask/queues`: released (taskAgent.json).
pub const AGENT_QUEUES: &str = "7.1";
/// `_apis/distributedtask/pools`: released (taskAgent.json).
pub const AGENT_POOLS: &str = "7.1";
/// `_apis/distributedtask/environments`: released (taskAgent.json).
pub const ENVIRONMENTS: &str = "7.1";
/// `_apis/serviceendpoint/endpoints`: released (serviceEndpoint.json).
pub const SERVICE_ENDPOINTS: &str = "7.1";
/// `_apis/distributedtask/variablegroups`: released (taskAgent.json).
pub const VARIABLE_GROUPS: &str = "7.1";
/// `_apis/distributedtask/securefiles`: no 7.1 spec publishes it; every official client sends
/// `-preview.1`.
pub const SECURE_FILES: &str = "7.1-preview.1";
/// `_apis/pipelines/checks`: check configurations (pipelinesChecks.json, preview only).
pub const CHECK_CONFIGURATIONS: &str = "7.1-preview.1";
/// `_apis/securityroles`: role definitions and role assignments (preview only).
pub const SECURITY_ROLES: &str = "7.1-preview.1";
/// `vsaex: _apis/userentitlements`: released (memberEntitlementManagement.json).
pub const USER_ENTITLEMENTS: &str = "7.1";
/// `vsaex: _apis/groupentitlements`: released (memberEntitlementManagement.json).
pub const GROUP_ENTITLEMENTS: &str = "7.1";
/// `vsaex: _apis/serviceprincipalentitlements`: preview (memberEntitlementManagement.json).
pub const SERVICE_PRINCIPAL_ENTITLEMENTS: &str = "7.1-preview.1";
/// `_apis/operations/{id}`: no 7.1 spec publishes it; the official clients send `-preview.1`.
pub const OPERATIONS: &str = "7.1-preview.1";
