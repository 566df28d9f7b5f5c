//! api-version per resource. Preview resources need the `-preview.N` suffix (a plain `7.1` on
//! a preview resource is a 400); a preview version is also accepted by released resources.

/// Graph: groups, users, service principals, memberships, descriptors, storage keys, queries.
pub const GRAPH: &str = "7.1-preview.1";
/// `_apis/pipelines/pipelinepermissions`.
pub const PIPELINE_PERMISSIONS: &str = "7.1-preview.1";
/// `_apis/projects`.
pub const PROJECTS: &str = "7.1";
/// `_apis/build/definitions`.
pub const BUILD_DEFINITIONS: &str = "7.1";
/// `_apis/git/repositories`.
pub const GIT_REPOSITORIES: &str = "7.1";
/// `_apis/distributedtask/queues`.
pub const AGENT_QUEUES: &str = "7.1-preview.1";
/// `_apis/distributedtask/pools`.
pub const AGENT_POOLS: &str = "7.1";
/// `_apis/distributedtask/environments`.
pub const ENVIRONMENTS: &str = "7.1-preview.1";
/// `_apis/serviceendpoint/endpoints`.
pub const SERVICE_ENDPOINTS: &str = "7.1-preview.4";
/// `_apis/distributedtask/variablegroups`.
pub const VARIABLE_GROUPS: &str = "7.1-preview.2";
/// `_apis/distributedtask/securefiles`.
pub const SECURE_FILES: &str = "7.1-preview.1";
/// `_apis/securityroles`: role definitions and role assignments (preview only).
pub const SECURITY_ROLES: &str = "7.1-preview.1";
