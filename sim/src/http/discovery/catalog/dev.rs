//! The areas on `dev.azure.com`: core, build, task agent (distributedtask), service
//! endpoints, git and pipeline permissions. Templates, resource names and resource versions as
//! the current official clients carry them; minimum versions are the first client versions
//! that carry each resource.

use super::{Area, Endpoint, Host, Location, Verb, PREVIEW_ONLY};

/// Released resources accept versions without `-preview`.
const RELEASED: &str = "7.1";

pub static CORE: Area = Area {
    id: Some("79134c72-4a58-4b42-976c-04e7115f32bf"),
    name: "core",
    host: Some(Host::Dev),
};
pub static BUILD: Area = Area {
    id: Some("965220d5-5bb9-42cf-8d67-9b146df2a5a4"),
    name: "build",
    host: Some(Host::Dev),
};
pub static DISTRIBUTED_TASK: Area = Area {
    id: Some("a85b8835-c1a1-4aac-ae97-1c3d0ba72dbd"),
    name: "distributedtask",
    host: Some(Host::Dev),
};
pub static SERVICE_ENDPOINT: Area = Area {
    id: Some("1814ab31-2f4f-4a9f-8761-f4d77dc5a5d7"),
    name: "serviceendpoint",
    host: Some(Host::Dev),
};
pub static GIT: Area = Area {
    id: Some("4e080c62-fa21-4fbc-8fef-2a10a2b38049"),
    name: "git",
    host: Some(Host::Dev),
};
pub static PIPELINE_PERMISSIONS: Area = Area {
    id: Some("a81a0441-de52-4000-aa15-ff0e07bfbbaa"),
    name: "pipelinePermissions",
    host: Some(Host::Dev),
};

pub static PIPELINES_CHECKS: Area = Area {
    id: Some("4a933897-0488-45af-bd82-6fd3ad33f46a"),
    name: "PipelinesChecks",
    host: Some(Host::Dev),
};

pub static PROJECTS: Location = Location {
    id: "603fe2ac-9723-48b9-88ad-09305aa6c6e1",
    area: &CORE,
    resource_name: "projects",
    route_template: "_apis/{resource}/{*projectId}",
    resource_version: 4,
    min_version: "1.0",
    released_version: RELEASED,
};
pub static PROCESSES: Location = Location {
    id: "93878975-88c5-4e6a-8abb-7ddd77a8a7d8",
    area: &CORE,
    resource_name: "processes",
    route_template: "_apis/process/{resource}/{processId}",
    resource_version: 1,
    min_version: "1.0",
    released_version: RELEASED,
};
pub static BUILD_DEFINITIONS: Location = Location {
    id: "dbeaf647-6167-421a-bda9-c9327b25e2e6",
    area: &BUILD,
    resource_name: "Definitions",
    route_template: "{project}/_apis/build/{resource}/{definitionId}",
    resource_version: 8,
    min_version: "2.0",
    released_version: RELEASED,
};

const fn task_agent(
    id: &'static str,
    resource_name: &'static str,
    route_template: &'static str,
    resource_version: u32,
    min_version: &'static str,
) -> Location {
    Location {
        id,
        area: &DISTRIBUTED_TASK,
        resource_name,
        route_template,
        resource_version,
        min_version,
        released_version: RELEASED,
    }
}

const fn preview_only(location: Location) -> Location {
    Location {
        released_version: PREVIEW_ONLY,
        ..location
    }
}

pub static AGENT_POOLS: Location = task_agent(
    "a8c47e17-4d56-4a56-92bb-de7ea7dc65be",
    "pools",
    "_apis/{area}/{resource}/{poolId}",
    1,
    "3.0",
);
pub static AGENT_QUEUES: Location = task_agent(
    "900fa995-c559-4923-aae7-f8424fe4fbea",
    "queues",
    "{project}/_apis/{area}/{resource}/{queueId}",
    1,
    "3.0",
);
pub static ENVIRONMENTS: Location = task_agent(
    "8572b1fc-2482-47fa-8f74-7e3ed53ee54b",
    "environments",
    "{project}/_apis/{area}/{resource}/{environmentId}",
    1,
    "5.0",
);
pub static VARIABLE_GROUPS: Location = task_agent(
    "f5b09dd5-9d54-45a1-8b5a-1c8287d634cc",
    "variablegroups",
    "{project}/_apis/{area}/{resource}/{groupId}",
    2,
    "3.2",
);
/// Preview-only: every official client (Go, .NET, TypeScript) sends `-preview.1`.
pub static SECURE_FILES: Location = preview_only(task_agent(
    "adcfd8bc-b184-43ba-bd84-7c8c6a2ff421",
    "securefiles",
    "{project}/_apis/{area}/{resource}/{secureFileId}",
    1,
    "3.2",
));
pub static SERVICE_ENDPOINTS: Location = Location {
    id: "e85f1c62-adfc-4b74-b618-11a150fb195e",
    area: &SERVICE_ENDPOINT,
    resource_name: "endpoints",
    route_template: "{project}/_apis/{area}/{resource}/{endpointId}",
    resource_version: 4,
    min_version: "5.0",
    released_version: RELEASED,
};
pub static GIT_REPOSITORIES: Location = Location {
    id: "225f7195-f9c7-4d14-ab28-a83f7ff77e1f",
    area: &GIT,
    resource_name: "Repositories",
    route_template: "{project}/_apis/{area}/{resource}/{repositoryId}",
    resource_version: 2,
    min_version: "1.0",
    released_version: RELEASED,
};
pub static PIPELINE_PERMISSIONS_LOCATION: Location = Location {
    id: "b5b9a4a4-e6cd-4096-853c-ab7d8b0c4eb2",
    area: &PIPELINE_PERMISSIONS,
    resource_name: "pipelinePermissions",
    route_template: "{project}/_apis/pipelines/{resource}/{resourceType}/{resourceId}",
    resource_version: 1,
    min_version: "5.1",
    released_version: PREVIEW_ONLY,
};

const fn get(location: &'static Location, path: &'static str) -> Endpoint {
    Endpoint {
        location,
        verb: Verb::Get,
        path,
    }
}

pub static LIST_PROJECTS: Endpoint = get(&PROJECTS, "/{org}/_apis/projects");
pub static GET_PROJECT: Endpoint = get(&PROJECTS, "/{org}/_apis/projects/{project}");
pub static LIST_PROCESSES: Endpoint = get(&PROCESSES, "/{org}/_apis/process/processes");
pub static GET_PROCESS: Endpoint = get(&PROCESSES, "/{org}/_apis/process/processes/{id}");
pub static LIST_DEFINITIONS: Endpoint = get(
    &BUILD_DEFINITIONS,
    "/{org}/{project}/_apis/build/definitions",
);
pub static GET_DEFINITION: Endpoint = get(
    &BUILD_DEFINITIONS,
    "/{org}/{project}/_apis/build/definitions/{id}",
);
pub static LIST_POOLS: Endpoint = get(&AGENT_POOLS, "/{org}/_apis/distributedtask/pools");
pub static GET_POOL: Endpoint = get(&AGENT_POOLS, "/{org}/_apis/distributedtask/pools/{id}");
pub static LIST_QUEUES: Endpoint = get(
    &AGENT_QUEUES,
    "/{org}/{project}/_apis/distributedtask/queues",
);
pub static GET_QUEUE: Endpoint = get(
    &AGENT_QUEUES,
    "/{org}/{project}/_apis/distributedtask/queues/{id}",
);
pub static LIST_ENVIRONMENTS: Endpoint = get(
    &ENVIRONMENTS,
    "/{org}/{project}/_apis/distributedtask/environments",
);
pub static GET_ENVIRONMENT: Endpoint = get(
    &ENVIRONMENTS,
    "/{org}/{project}/_apis/distributedtask/environments/{id}",
);
pub static LIST_VARIABLE_GROUPS: Endpoint = get(
    &VARIABLE_GROUPS,
    "/{org}/{project}/_apis/distributedtask/variablegroups",
);
pub static GET_VARIABLE_GROUP: Endpoint = get(
    &VARIABLE_GROUPS,
    "/{org}/{project}/_apis/distributedtask/variablegroups/{id}",
);
pub static LIST_SECURE_FILES: Endpoint = get(
    &SECURE_FILES,
    "/{org}/{project}/_apis/distributedtask/securefiles",
);
pub static GET_SECURE_FILE: Endpoint = get(
    &SECURE_FILES,
    "/{org}/{project}/_apis/distributedtask/securefiles/{id}",
);
pub static LIST_SERVICE_ENDPOINTS: Endpoint = get(
    &SERVICE_ENDPOINTS,
    "/{org}/{project}/_apis/serviceendpoint/endpoints",
);
pub static GET_SERVICE_ENDPOINT: Endpoint = get(
    &SERVICE_ENDPOINTS,
    "/{org}/{project}/_apis/serviceendpoint/endpoints/{id}",
);
pub static LIST_REPOSITORIES: Endpoint =
    get(&GIT_REPOSITORIES, "/{org}/{project}/_apis/git/repositories");
pub static GET_REPOSITORY: Endpoint = get(
    &GIT_REPOSITORIES,
    "/{org}/{project}/_apis/git/repositories/{id}",
);

const PERMISSIONS: &str = "/{org}/{project}/_apis/pipelines/pipelinepermissions";
const RESOURCE_PERMISSIONS: &str =
    "/{org}/{project}/_apis/pipelines/pipelinepermissions/{resource_type}/{resource_id}";
pub static UPDATE_PIPELINE_PERMISSIONS_BATCH: Endpoint = Endpoint {
    location: &PIPELINE_PERMISSIONS_LOCATION,
    verb: Verb::Patch,
    path: PERMISSIONS,
};
pub static GET_PIPELINE_PERMISSIONS: Endpoint =
    get(&PIPELINE_PERMISSIONS_LOCATION, RESOURCE_PERMISSIONS);
pub static UPDATE_PIPELINE_PERMISSIONS: Endpoint = Endpoint {
    location: &PIPELINE_PERMISSIONS_LOCATION,
    verb: Verb::Patch,
    path: RESOURCE_PERMISSIONS,
};

/// Security roles: served by the organization (dev) host; not a resource area clients look up
/// (the official clients call it on the organization URL), so it has no area id.
pub static SECURITY_ROLES: Area = Area {
    id: None,
    name: "securityroles",
    host: Some(Host::Dev),
};
pub static ROLE_ASSIGNMENTS: Location = Location {
    id: "9461c234-c84c-4ed2-b918-2f0f92ad0a35",
    area: &SECURITY_ROLES,
    resource_name: "roleassignments",
    route_template: "_apis/{area}/scopes/{scopeId}/{resource}/resources/{resourceId}/{identityId}",
    resource_version: 1,
    min_version: "2.2",
    released_version: PREVIEW_ONLY,
};
pub static ROLE_DEFINITIONS: Location = Location {
    id: "f4cc9a86-453c-48d2-b44d-d3bd5c105f4f",
    area: &SECURITY_ROLES,
    resource_name: "roledefinitions",
    route_template: "_apis/{area}/scopes/{scopeId}/{resource}",
    resource_version: 1,
    min_version: "2.2",
    released_version: PREVIEW_ONLY,
};

const ROLE_RESOURCE: &str =
    "/{org}/_apis/securityroles/scopes/{scope_id}/roleassignments/resources/{resource_id}";
const ROLE_IDENTITY: &str =
    "/{org}/_apis/securityroles/scopes/{scope_id}/roleassignments/resources/{resource_id}/{identity_id}";
pub static LIST_ROLE_DEFINITIONS: Endpoint = get(
    &ROLE_DEFINITIONS,
    "/{org}/_apis/securityroles/scopes/{scope_id}/roledefinitions",
);
pub static LIST_ROLE_ASSIGNMENTS: Endpoint = get(&ROLE_ASSIGNMENTS, ROLE_RESOURCE);
pub static SET_ROLE_ASSIGNMENTS: Endpoint = Endpoint {
    location: &ROLE_ASSIGNMENTS,
    verb: Verb::Put,
    path: ROLE_RESOURCE,
};
/// Removes the identities in the body, or with `?inheritPermissions=` switches inheritance.
pub static REMOVE_ROLE_ASSIGNMENTS: Endpoint = Endpoint {
    location: &ROLE_ASSIGNMENTS,
    verb: Verb::Patch,
    path: ROLE_RESOURCE,
};
pub static SET_ROLE_ASSIGNMENT: Endpoint = Endpoint {
    location: &ROLE_ASSIGNMENTS,
    verb: Verb::Put,
    path: ROLE_IDENTITY,
};
pub static REMOVE_ROLE_ASSIGNMENT: Endpoint = Endpoint {
    location: &ROLE_ASSIGNMENTS,
    verb: Verb::Delete,
    path: ROLE_IDENTITY,
};

pub static CHECK_CONFIGURATIONS: Location = Location {
    id: "86c8381e-5aee-4cde-8ae4-25c0c7f5eaea",
    area: &PIPELINES_CHECKS,
    resource_name: "configurations",
    route_template: "{project}/_apis/pipelines/checks/{resource}/{id}",
    resource_version: 1,
    min_version: "5.1",
    released_version: PREVIEW_ONLY,
};
pub static CHECK_QUERY_CONFIGURATIONS: Location = Location {
    id: "5f3d0e64-f943-4584-8811-77eb495e831e",
    area: &PIPELINES_CHECKS,
    resource_name: "queryconfigurations",
    route_template: "{project}/_apis/pipelines/checks/{resource}",
    resource_version: 1,
    min_version: "5.1",
    released_version: PREVIEW_ONLY,
};

const CHECKS: &str = "/{org}/{project}/_apis/pipelines/checks/configurations";
const CHECK: &str = "/{org}/{project}/_apis/pipelines/checks/configurations/{id}";
pub static LIST_CHECK_CONFIGURATIONS: Endpoint = get(&CHECK_CONFIGURATIONS, CHECKS);
pub static ADD_CHECK_CONFIGURATION: Endpoint = Endpoint {
    location: &CHECK_CONFIGURATIONS,
    verb: Verb::Post,
    path: CHECKS,
};
pub static GET_CHECK_CONFIGURATION: Endpoint = get(&CHECK_CONFIGURATIONS, CHECK);
pub static UPDATE_CHECK_CONFIGURATION: Endpoint = Endpoint {
    location: &CHECK_CONFIGURATIONS,
    verb: Verb::Patch,
    path: CHECK,
};
pub static DELETE_CHECK_CONFIGURATION: Endpoint = Endpoint {
    location: &CHECK_CONFIGURATIONS,
    verb: Verb::Delete,
    path: CHECK,
};
pub static QUERY_CHECK_CONFIGURATIONS: Endpoint = Endpoint {
    location: &CHECK_QUERY_CONFIGURATIONS,
    verb: Verb::Post,
    path: "/{org}/{project}/_apis/pipelines/checks/queryconfigurations",
};
