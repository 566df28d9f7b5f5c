//! Pipeline permissions: `GET|PATCH {org}/{project}/_apis/pipelines/pipelinepermissions/{type}/{id}`
//! and the batch `PATCH {org}/{project}/_apis/pipelines/pipelinepermissions` with an array body.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Extension;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{json, Value};
use uuid::Uuid;

use super::app::SharedApp;
use super::auth::{Caller, Need};
use super::core::project_for;
use super::discovery::{catalog, ApiRoutes};
use super::error::{ApiError, ApiResult};
use super::respond::{collection, ok, parse_body};
use crate::model::permissions::{
    Actor, AuthorizationHistory, AuthorizationVersion, PipelineAuthorization, ResourcePermissions,
    ResourceType, View,
};
use crate::model::resources::Project;
use crate::model::Organization;

const ADMINISTER: &str = "Administer";
const VIEW: &str = "View";

pub fn routes() -> ApiRoutes {
    ApiRoutes::new()
        .serve(&catalog::UPDATE_PIPELINE_PERMISSIONS_BATCH, update_batch)
        .serve(&catalog::GET_PIPELINE_PERMISSIONS, read)
        .serve(&catalog::UPDATE_PIPELINE_PERMISSIONS, update_one)
}

fn parse_type(value: &str) -> ApiResult<ResourceType> {
    ResourceType::parse(value).ok_or_else(|| {
        ApiError::invalid_argument(format!("Resource type '{value}' is not supported."))
    })
}

/// Validates the id format of the type and that the resource exists; returns the canonical id.
pub(super) fn resolve_resource(
    org: &Organization,
    project: &Project,
    resource_type: ResourceType,
    id: &str,
) -> ApiResult<String> {
    let malformed = || {
        ApiError::invalid_argument(format!(
            "The resource id '{id}' is not valid for resource type '{}'.",
            resource_type.wire_name()
        ))
    };
    let missing = || {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "ResourceNotFoundException",
            format!(
                "The resource of type '{}' with id '{id}' could not be found.",
                resource_type.wire_name()
            ),
        )
    };
    let int = || id.trim().parse::<u32>().map_err(|_| malformed());
    let guid = || Uuid::parse_str(id.trim()).map_err(|_| malformed());
    // The canonical id when the resource exists.
    let known = |exists: bool, canonical: String| exists.then_some(canonical).ok_or_else(missing);
    match resource_type {
        ResourceType::Queue => {
            let n = int()?;
            known(project.queues.iter().any(|q| q.id == n), n.to_string())
        }
        ResourceType::AgentPool => {
            let n = int()?;
            known(org.pools.iter().any(|p| p.id == n), n.to_string())
        }
        ResourceType::Environment => {
            let n = int()?;
            known(
                project.environments.iter().any(|e| e.id == n),
                n.to_string(),
            )
        }
        ResourceType::VariableGroup => {
            let n = int()?;
            known(
                project.variable_groups.iter().any(|g| g.id == n),
                n.to_string(),
            )
        }
        ResourceType::Endpoint => {
            let g = guid()?;
            known(
                project.service_endpoints.iter().any(|e| e.id == g),
                g.to_string(),
            )
        }
        ResourceType::SecureFile => {
            let g = guid()?;
            known(
                project.secure_files.iter().any(|f| f.id == g),
                g.to_string(),
            )
        }
        ResourceType::Repository => {
            let (project_part, repo_part) = id.trim().split_once('.').ok_or_else(malformed)?;
            let project_id = Uuid::parse_str(project_part).map_err(|_| malformed())?;
            let repo_id = Uuid::parse_str(repo_part).map_err(|_| malformed())?;
            let exists = org
                .projects
                .iter()
                .find(|p| p.id == project_id)
                .is_some_and(|owner| owner.repositories.iter().any(|r| r.id == repo_id));
            known(exists, format!("{project_id}.{repo_id}"))
        }
    }
}

fn identity_ref(actor: &Actor) -> Value {
    json!({
        "displayName": actor.display_name,
        "id": actor.id,
        "uniqueName": actor.unique_name,
        "descriptor": actor.descriptor,
    })
}

fn render(
    resource_type: ResourceType,
    resource_id: &str,
    entry: Option<&ResourcePermissions>,
    view: View,
) -> Value {
    let mut pipelines = Vec::new();
    let mut all = None;
    if let Some(entry) = entry {
        for authorization in &entry.pipelines {
            if let Some(version) = view.pick(&authorization.history).filter(|v| v.authorized) {
                pipelines.push(json!({
                    "id": authorization.pipeline_id,
                    "authorized": true,
                    "authorizedBy": identity_ref(&version.authorized_by),
                    "authorizedOn": version.authorized_on,
                }));
            }
        }
        all = view.pick(&entry.all_pipelines).map(|v| {
            json!({
                "authorized": v.authorized,
                "authorizedBy": identity_ref(&v.authorized_by),
                "authorizedOn": v.authorized_on,
            })
        });
    }
    let mut body = json!({
        "resource": { "type": resource_type.wire_name(), "id": resource_id },
        "pipelines": pipelines,
    });
    if let Some(all) = all {
        body["allPipelines"] = all;
    }
    body
}

pub async fn read(
    State(app): State<SharedApp>,
    Extension(caller): Extension<Caller>,
    Path((org_name, project, resource_type, resource_id)): Path<(String, String, String, String)>,
) -> ApiResult {
    let resource_type = parse_type(&resource_type)?;
    let state = app.state();
    let (org, project) = project_for(&state, &caller, &org_name, &project, Need::Read, VIEW)?;
    let id = resolve_resource(org, project, resource_type, &resource_id)?;
    let entry = project
        .permissions
        .iter()
        .find(|p| p.resource_type == resource_type && p.resource_id == id);
    Ok(ok(render(
        resource_type,
        &id,
        entry,
        View::VisibleAt(Utc::now()),
    )))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct PermissionsUpdate {
    #[serde(default)]
    resource: Option<ResourceRef>,
    #[serde(default)]
    pipelines: Vec<PipelineUpdate>,
    #[serde(default)]
    all_pipelines: Option<Authorization>,
}

#[derive(Debug, Deserialize)]
struct ResourceRef {
    #[serde(rename = "type")]
    resource_type: Option<String>,
    id: Option<Value>,
}

#[derive(Debug, Deserialize)]
struct PipelineUpdate {
    id: u32,
    #[serde(default = "default_true")]
    authorized: bool,
}

#[derive(Debug, Deserialize)]
struct Authorization {
    #[serde(default = "default_true")]
    authorized: bool,
}

fn default_true() -> bool {
    true
}

fn id_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

struct Change<'a> {
    actor: &'a Actor,
    at: DateTime<Utc>,
    visible_at: DateTime<Utc>,
}

fn apply(
    org: &mut Organization,
    project_key: &str,
    resource_type: ResourceType,
    raw_id: &str,
    update: &PermissionsUpdate,
    change: &Change<'_>,
) -> ApiResult<Value> {
    let (id, project_id) = {
        let project = org
            .project(project_key)
            .ok_or_else(|| ApiError::project_not_found(project_key))?;
        (
            resolve_resource(org, project, resource_type, raw_id)?,
            project.id,
        )
    };
    let project = org
        .projects
        .iter_mut()
        .find(|p| p.id == project_id)
        .ok_or_else(|| ApiError::project_not_found(project_key))?;
    for pipeline in &update.pipelines {
        if !project.pipelines.iter().any(|p| p.id == pipeline.id) {
            return Err(ApiError::invalid_argument(format!(
                "Pipeline {} does not exist in project {}.",
                pipeline.id, project.name
            )));
        }
    }
    let index = match project
        .permissions
        .iter()
        .position(|p| p.resource_type == resource_type && p.resource_id == id)
    {
        Some(index) => index,
        None => {
            project.permissions.push(ResourcePermissions {
                resource_type,
                resource_id: id.clone(),
                pipelines: Vec::new(),
                all_pipelines: AuthorizationHistory::default(),
            });
            project.permissions.len() - 1
        }
    };
    let entry = &mut project.permissions[index];
    let version = |authorized| AuthorizationVersion {
        authorized,
        authorized_by: change.actor.clone(),
        authorized_on: change.at,
        visible_at: change.visible_at,
    };
    for pipeline in &update.pipelines {
        let slot = match entry
            .pipelines
            .iter()
            .position(|p| p.pipeline_id == pipeline.id)
        {
            Some(slot) => slot,
            None => {
                entry.pipelines.push(PipelineAuthorization {
                    pipeline_id: pipeline.id,
                    history: AuthorizationHistory::default(),
                });
                entry.pipelines.len() - 1
            }
        };
        let history = &mut entry.pipelines[slot].history;
        // Re-authorizing keeps the original authorization (who and when).
        if pipeline.authorized && history.latest().is_some_and(|v| v.authorized) {
            continue;
        }
        // Revocations take effect at once; new authorizations lag behind for readers.
        let mut next = version(pipeline.authorized);
        if !pipeline.authorized {
            next.visible_at = change.at;
        }
        history.push(next);
    }
    if let Some(all) = &update.all_pipelines {
        let mut next = version(all.authorized);
        if !all.authorized {
            next.visible_at = change.at;
        }
        entry.all_pipelines.push(next);
    }
    let entry = &project.permissions[index];
    Ok(render(resource_type, &id, Some(entry), View::Latest))
}

pub async fn update_one(
    State(app): State<SharedApp>,
    Extension(caller): Extension<Caller>,
    Path((org_name, project, resource_type, resource_id)): Path<(String, String, String, String)>,
    body: Bytes,
) -> ApiResult {
    let resource_type = parse_type(&resource_type)?;
    let update: PermissionsUpdate = parse_body(&body, "resourceAuthorization")?;
    let visible_at = app.visible_from_now();
    let mut state = app.state();
    let (actor, project_key) = {
        let (org, project) = project_for(
            &state,
            &caller,
            &org_name,
            &project,
            Need::Write,
            ADMINISTER,
        )?;
        (caller.actor(org), project.id.to_string())
    };
    let org = state
        .organization_mut(&org_name)
        .ok_or_else(|| ApiError::organization_not_found(&org_name))?;
    let change = Change {
        actor: &actor,
        at: Utc::now(),
        visible_at,
    };
    let body = apply(
        org,
        &project_key,
        resource_type,
        &resource_id,
        &update,
        &change,
    )?;
    Ok(ok(body))
}

pub async fn update_batch(
    State(app): State<SharedApp>,
    Extension(caller): Extension<Caller>,
    Path((org_name, project)): Path<(String, String)>,
    body: Bytes,
) -> ApiResult {
    let updates: Vec<PermissionsUpdate> = parse_body(&body, "resourcePipelinePermissions")?;
    let visible_at = app.visible_from_now();
    let mut state = app.state();
    let (actor, project_key) = {
        let (org, project) = project_for(
            &state,
            &caller,
            &org_name,
            &project,
            Need::Write,
            ADMINISTER,
        )?;
        (caller.actor(org), project.id.to_string())
    };
    // Validate everything before changing anything.
    let mut targets = Vec::new();
    {
        let org = state
            .organization(&org_name)
            .ok_or_else(|| ApiError::organization_not_found(&org_name))?;
        let project = org
            .project(&project_key)
            .ok_or_else(|| ApiError::project_not_found(&project_key))?;
        for update in &updates {
            let resource = update.resource.as_ref().ok_or_else(|| {
                ApiError::invalid_argument("Each entry must name its resource (type and id).")
            })?;
            let resource_type = parse_type(resource.resource_type.as_deref().unwrap_or_default())?;
            let id = resource.id.as_ref().map(id_text).unwrap_or_default();
            resolve_resource(org, project, resource_type, &id)?;
            targets.push((resource_type, id));
        }
    }
    let org = state
        .organization_mut(&org_name)
        .ok_or_else(|| ApiError::organization_not_found(&org_name))?;
    let change = Change {
        actor: &actor,
        at: Utc::now(),
        visible_at,
    };
    let mut values = Vec::new();
    for (update, (resource_type, id)) in updates.iter().zip(targets) {
        values.push(apply(
            org,
            &project_key,
            resource_type,
            &id,
            update,
            &change,
        )?);
    }
    Ok(ok(collection(values)))
}
