//! JSON shapes of the core resources, as the real service returns them.

use serde_json::{json, Value};

use crate::ids::stable_uuid;
use crate::model::resources::{
    Environment, Pipeline, Pool, Project, Queue, Repository, SecureFile, ServiceEndpoint,
    VariableGroup,
};
use crate::model::Organization;

/// The identity shown as creator of seeded resources.
pub fn owner(org: &Organization) -> Value {
    let id = stable_uuid("owner", &[&org.name]);
    json!({
        "displayName": format!("{} Build Service", org.name),
        "id": id,
        "uniqueName": format!("Build\\{id}"),
    })
}

pub fn project_reference(dev: &str, org: &Organization, project: &Project) -> Value {
    json!({
        "id": project.id,
        "name": project.name,
        "description": project.description,
        "url": format!("{dev}/{}/_apis/projects/{}", org.name, project.id),
        "state": "wellFormed",
        "revision": project.revision,
        "visibility": project.visibility,
        "lastUpdateTime": project.last_update_time,
    })
}

pub fn project_full(dev: &str, org: &Organization, project: &Project) -> Value {
    let mut value = project_reference(dev, org, project);
    let team_id = stable_uuid("team", &[&org.name, &project.name]);
    let base = format!("{dev}/{}", org.name);
    value["_links"] = json!({
        "self": { "href": format!("{base}/_apis/projects/{}", project.id) },
        "collection": { "href": format!("{base}/_apis/projectCollections/{}", org.id) },
        "web": { "href": format!("{base}/{}", project.name) },
    });
    value["defaultTeam"] = json!({
        "id": team_id,
        "name": format!("{} Team", project.name),
        "url": format!("{base}/_apis/projects/{}/teams/{team_id}", project.id),
    });
    value
}

pub fn pool(org: &Organization, pool: &Pool) -> Value {
    json!({
        "createdOn": pool.created_on,
        "autoProvision": false,
        "autoUpdate": true,
        "autoSize": true,
        "targetSize": null,
        "agentCloudId": null,
        "createdBy": owner(org),
        "owner": owner(org),
        "id": pool.id,
        "scope": stable_uuid("pool-scope", &[&org.name]),
        "name": pool.name,
        "isHosted": pool.is_hosted,
        "poolType": "automation",
        "size": if pool.is_hosted { 10 } else { 1 },
        "isLegacy": false,
        "options": "none",
    })
}

pub fn queue(org: &Organization, project: &Project, queue: &Queue) -> Value {
    let pool = org.pools.iter().find(|p| p.id == queue.pool_id);
    json!({
        "id": queue.id,
        "projectId": project.id,
        "name": queue.name,
        "pool": {
            "id": queue.pool_id,
            "scope": stable_uuid("pool-scope", &[&org.name]),
            "name": pool.map(|p| p.name.clone()).unwrap_or_default(),
            "isHosted": pool.is_some_and(|p| p.is_hosted),
            "poolType": "automation",
            "size": 1,
            "isLegacy": false,
            "options": "none",
        },
    })
}

pub fn definition(dev: &str, org: &Organization, project: &Project, pipeline: &Pipeline) -> Value {
    let base = format!("{dev}/{}/{}", org.name, project.id);
    let url = format!(
        "{base}/_apis/build/Definitions/{}?revision={}",
        pipeline.id, pipeline.revision
    );
    let queue = project.queues.first().map(|q| {
        json!({
            "_links": { "self": { "href": format!("{dev}/{}/_apis/build/Queues/{}", org.name, q.id) } },
            "id": q.id,
            "name": q.name,
            "url": format!("{dev}/{}/_apis/build/Queues/{}", org.name, q.id),
            "pool": { "id": q.pool_id, "name": org.pools.iter().find(|p| p.id == q.pool_id).map(|p| p.name.clone()).unwrap_or_default() },
        })
    });
    json!({
        "_links": {
            "self": { "href": url },
            "web": { "href": format!("{dev}/{}/{}/_build/definition?definitionId={}", org.name, project.id, pipeline.id) },
            "editor": { "href": format!("{dev}/{}/{}/_build/designer?id={}&_a=edit-build-definition", org.name, project.id, pipeline.id) },
            "badge": { "href": format!("{base}/_apis/build/status/{}", pipeline.id) },
        },
        "quality": "definition",
        "authoredBy": owner(org),
        "drafts": [],
        "queue": queue,
        "id": pipeline.id,
        "name": pipeline.name,
        "url": url,
        "uri": format!("vstfs:///Build/Definition/{}", pipeline.id),
        "path": pipeline.path,
        "type": "build",
        "queueStatus": "enabled",
        "revision": pipeline.revision,
        "createdDate": pipeline.created_date,
        "project": project_reference(dev, org, project),
    })
}

/// The full definition (`GET .../definitions/{id}`): the reference plus its `repository`.
pub fn definition_full(
    dev: &str,
    org: &Organization,
    project: &Project,
    pipeline: &Pipeline,
) -> Value {
    let mut value = definition(dev, org, project, pipeline);
    let repository = pipeline
        .repository
        .as_deref()
        .and_then(|name| project.repositories.iter().find(|r| r.name == name));
    if let Some(repo) = repository {
        value["repository"] = json!({
            "properties": { "reportBuildStatus": "true" },
            "id": repo.id,
            "type": "TfsGit",
            "name": repo.name,
            "url": format!("{dev}/{}/{}/_git/{}", org.name, project.name, repo.name),
            "defaultBranch": repo.default_branch,
            "clean": null,
            "checkoutSubmodules": false,
        });
    }
    value
}

/// `capabilities` of a project (`?includeCapabilities=true`): Git, and the Agile process.
pub fn capabilities() -> Value {
    json!({
        "versioncontrol": { "sourceControlType": "Git", "gitEnabled": "True", "tfvcEnabled": "False" },
        "processTemplate": { "templateName": "Agile", "templateTypeId": AGILE_PROCESS_ID },
    })
}

/// The system processes every organization has: (id, name, description, default).
pub const PROCESSES: [(&str, &str, &str, bool); 4] = [
    (
        AGILE_PROCESS_ID,
        "Agile",
        "This template is flexible and will work great for most teams using Agile planning methods, including those practicing Scrum.",
        true,
    ),
    (
        "6b724908-ef14-45cf-84f8-768b5384da45",
        "Scrum",
        "This template is for teams who follow the Scrum framework.",
        false,
    ),
    (
        "27450541-8e31-4150-9947-dc59f998fc01",
        "CMMI",
        "This template is for more formal projects requiring a framework for process improvement and an auditable record of decisions.",
        false,
    ),
    (
        "b8a3a935-7e91-48b8-a94c-606d37c3e9f2",
        "Basic",
        "This template is flexible for any process and great for teams getting started with Azure DevOps.",
        false,
    ),
];

pub const AGILE_PROCESS_ID: &str = "adcc42ab-9882-485e-a3ed-7678f01f66bc";

/// A `Process` (core.json).
pub fn process(dev: &str, org: &Organization, process: (&str, &str, &str, bool)) -> Value {
    let (id, name, description, is_default) = process;
    let url = format!("{dev}/{}/_apis/process/processes/{id}", org.name);
    json!({
        "id": id,
        "name": name,
        "description": description,
        "isDefault": is_default,
        "type": "system",
        "url": url,
        "_links": { "self": { "href": url } },
    })
}

pub fn environment(org: &Organization, project: &Project, environment: &Environment) -> Value {
    json!({
        "id": environment.id,
        "name": environment.name,
        "description": environment.description,
        "createdBy": { "id": owner(org)["id"] },
        "createdOn": environment.created_on,
        "lastModifiedBy": { "id": owner(org)["id"] },
        "lastModifiedOn": environment.created_on,
        "project": { "id": project.id, "name": project.name },
    })
}

pub fn variable_group(org: &Organization, project: &Project, group: &VariableGroup) -> Value {
    let variables: serde_json::Map<String, Value> = group
        .variables
        .iter()
        .map(|(k, v)| (k.clone(), json!({ "value": v })))
        .collect();
    json!({
        "variables": variables,
        "id": group.id,
        "type": "Vsts",
        "name": group.name,
        "description": group.description,
        "createdBy": owner(org),
        "createdOn": group.created_on,
        "modifiedBy": owner(org),
        "modifiedOn": group.created_on,
        "isShared": false,
        "variableGroupProjectReferences": [{
            "projectReference": { "id": project.id, "name": project.name },
            "name": group.name,
            "description": group.description,
        }],
    })
}

pub fn secure_file(org: &Organization, file: &SecureFile) -> Value {
    json!({
        "id": file.id,
        "name": file.name,
        "createdBy": owner(org),
        "createdOn": file.created_on,
        "modifiedBy": owner(org),
        "modifiedOn": file.created_on,
        "properties": {},
    })
}

pub fn endpoint(org: &Organization, project: &Project, endpoint: &ServiceEndpoint) -> Value {
    let scheme = match endpoint.endpoint_type.as_str() {
        "azurerm" => "ServicePrincipal",
        "github" => "PersonalAccessToken",
        "kubernetes" => "Kubernetes",
        _ => "UsernamePassword",
    };
    json!({
        "data": {},
        "id": endpoint.id,
        "name": endpoint.name,
        "type": endpoint.endpoint_type,
        "url": endpoint.url,
        "createdBy": owner(org),
        "description": "",
        "authorization": { "parameters": {}, "scheme": scheme },
        "isShared": false,
        "isReady": endpoint.is_ready,
        "operationStatus": if endpoint.is_ready {
            json!({ "state": "Ready", "statusMessage": "" })
        } else {
            json!({ "state": "Failed", "statusMessage": "Failed to obtain the Json Web Token(JWT) using service principal client ID." })
        },
        "owner": "Library",
        "serviceEndpointProjectReferences": [{
            "projectReference": { "id": project.id, "name": project.name },
            "name": endpoint.name,
            "description": "",
        }],
    })
}

pub fn repository(dev: &str, org: &Organization, project: &Project, repo: &Repository) -> Value {
    let host = dev.trim_start_matches("https://");
    json!({
        "id": repo.id,
        "name": repo.name,
        "url": format!("{dev}/{}/{}/_apis/git/repositories/{}", org.name, project.id, repo.id),
        "project": project_reference(dev, org, project),
        "defaultBranch": repo.default_branch,
        "size": 0,
        "remoteUrl": format!("https://{}@{host}/{}/{}/_git/{}", org.name, org.name, project.name, repo.name),
        "sshUrl": format!("git@ssh.{host}:v3/{}/{}/{}", org.name, project.name, repo.name),
        "webUrl": format!("{dev}/{}/{}/_git/{}", org.name, project.name, repo.name),
        "isDisabled": false,
        "isInMaintenance": false,
    })
}
