//! Check configurations (`{org}/{project}/_apis/pipelines/checks`, 7.1-preview.1), as the
//! published spec (`pipelinesChecks.json`) and its examples describe them:
//!
//! - `GET  configurations?resourceType=&resourceId=&$expand=`: the checks on one resource (or,
//!   without a resource, the project's), `{"count","value"}`; settings only with
//!   `$expand=settings` (or `1`, as the Terraform provider sends it).
//! - `GET  configurations/{id}?$expand=`: one check.
//! - `POST configurations`: add (`type`, `resource`, `timeout`, `settings`); 200 with settings.
//! - `PATCH configurations/{id}`: replace timeout and settings (type and resource must match).
//! - `DELETE configurations/{id}`: 204.
//! - `POST queryconfigurations?$expand=` with `[Resource]`: the checks on several resources.
//!
//! Bad settings (see `model::checks`) answer 400 `InvalidCheckConfigurationException`, unknown
//! check ids 404 `CheckConfigurationNotFoundException`; reading needs View on the project,
//! writing Administer.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::Extension;
use chrono::Utc;
use serde::Deserialize;
use serde_json::{json, Value};

use super::app::SharedApp;
use super::auth::{Caller, Need};
use super::core::project_for;
use super::discovery::{catalog, ApiRoutes};
use super::error::{ApiError, ApiResult};
use super::params::Params;
use super::permissions::resolve_resource;
use super::respond::{collection, ok, parse_body};
use crate::model::checks::{
    validate_settings, CheckConfiguration, CheckKind, CHECKED_TYPES, MAX_TIMEOUT,
};
use crate::model::permissions::{Actor, ResourceType};
use crate::model::resources::Project;
use crate::model::Organization;

const ADMINISTER: &str = "Administer";
const VIEW: &str = "View";

pub fn routes() -> ApiRoutes {
    ApiRoutes::new()
        .serve(&catalog::LIST_CHECK_CONFIGURATIONS, list)
        .serve(&catalog::ADD_CHECK_CONFIGURATION, add)
        .serve(&catalog::GET_CHECK_CONFIGURATION, get_one)
        .serve(&catalog::UPDATE_CHECK_CONFIGURATION, update)
        .serve(&catalog::DELETE_CHECK_CONFIGURATION, delete)
        .serve(&catalog::QUERY_CHECK_CONFIGURATIONS, query)
}

fn invalid(message: impl Into<String>) -> ApiError {
    ApiError::new(
        StatusCode::BAD_REQUEST,
        "InvalidCheckConfigurationException",
        message,
    )
}

fn not_found(id: &str) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "CheckConfigurationNotFoundException",
        format!("The check configuration with id '{id}' could not be found."),
    )
}

/// `$expand`: `none`/`0` (default) or `settings`/`1`.
fn expand_settings(params: &Params) -> ApiResult<bool> {
    match params.get("$expand") {
        None => Ok(false),
        Some(v) if v.eq_ignore_ascii_case("none") || v == "0" => Ok(false),
        Some(v) if v.eq_ignore_ascii_case("settings") || v == "1" => Ok(true),
        Some(v) => Err(ApiError::invalid_argument(format!(
            "The value '{v}' of $expand is not one of none, settings."
        ))),
    }
}

fn checked_type(raw: &str) -> ApiResult<ResourceType> {
    ResourceType::parse(raw)
        .filter(|t| CHECKED_TYPES.contains(t))
        .ok_or_else(|| {
            invalid(format!(
                "Checks cannot be configured on resource type '{raw}'."
            ))
        })
}

fn id_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.trim().to_string(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

fn parse_id(raw: &str) -> ApiResult<u32> {
    raw.trim().parse().map_err(|_| not_found(raw))
}

/// The display name of a resource (its canonical id already resolved).
fn resource_name(org: &Organization, project: &Project, t: ResourceType, id: &str) -> String {
    let name = match t {
        ResourceType::Queue => project
            .queues
            .iter()
            .find(|q| q.id.to_string() == id)
            .map(|q| q.name.clone()),
        ResourceType::Environment => project
            .environments
            .iter()
            .find(|e| e.id.to_string() == id)
            .map(|e| e.name.clone()),
        ResourceType::VariableGroup => project
            .variable_groups
            .iter()
            .find(|g| g.id.to_string() == id)
            .map(|g| g.name.clone()),
        ResourceType::Endpoint => project
            .service_endpoints
            .iter()
            .find(|e| e.id.to_string() == id)
            .map(|e| e.name.clone()),
        ResourceType::SecureFile => project
            .secure_files
            .iter()
            .find(|f| f.id.to_string() == id)
            .map(|f| f.name.clone()),
        ResourceType::Repository => id.split_once('.').and_then(|(p, r)| {
            org.projects
                .iter()
                .find(|x| x.id.to_string() == p)
                .and_then(|x| x.repositories.iter().find(|repo| repo.id.to_string() == r))
                .map(|repo| repo.name.clone())
        }),
        ResourceType::AgentPool => None,
    };
    name.unwrap_or_default()
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
    dev: &str,
    org: &Organization,
    project: &Project,
    c: &CheckConfiguration,
    settings: bool,
) -> Value {
    let url = format!(
        "{dev}/{}/{}/_apis/pipelines/checks/configurations/{}",
        org.name, project.id, c.id
    );
    let mut body = json!({
        "createdBy": identity_ref(&c.created_by),
        "createdOn": c.created_on,
        "modifiedBy": identity_ref(&c.modified_by),
        "modifiedOn": c.modified_on,
        "timeout": c.timeout,
        "isDisabled": false,
        "_links": { "self": { "href": url } },
        "id": c.id,
        "type": { "id": c.kind.id(), "name": c.kind.name() },
        "url": url,
        "resource": {
            "type": c.resource_type.wire_name(),
            "id": c.resource_id,
            "name": c.resource_name,
        },
    });
    if settings {
        body["settings"] = c.settings.clone();
    }
    body
}

pub async fn list(
    State(app): State<SharedApp>,
    Extension(caller): Extension<Caller>,
    Path((org_name, project)): Path<(String, String)>,
    params: Params,
) -> ApiResult {
    let expand = expand_settings(&params)?;
    let state = app.state();
    let (org, project) = project_for(&state, &caller, &org_name, &project, Need::Read, VIEW)?;
    let wanted = match (params.get("resourceType"), params.get("resourceId")) {
        (None, None) => None,
        (Some(t), Some(id)) => Some((checked_type(t)?, id.trim().to_string())),
        _ => {
            return Err(ApiError::invalid_argument(
                "resourceType and resourceId go together.",
            ))
        }
    };
    // The id as the resource's canonical spelling when it exists; an unknown resource has no
    // checks (the service does not look the resource up to list its checks).
    let wanted = wanted.map(|(t, id)| {
        let id = resolve_resource(org, project, t, &id).unwrap_or(id);
        (t, id)
    });
    let values = project
        .checks
        .iter()
        .filter(|c| {
            wanted.as_ref().is_none_or(|(t, id)| {
                c.resource_type == *t && c.resource_id.eq_ignore_ascii_case(id)
            })
        })
        .map(|c| render(&app.urls.dev, org, project, c, expand))
        .collect();
    Ok(ok(collection(values)))
}

pub async fn get_one(
    State(app): State<SharedApp>,
    Extension(caller): Extension<Caller>,
    Path((org_name, project, id)): Path<(String, String, String)>,
    params: Params,
) -> ApiResult {
    let expand = expand_settings(&params)?;
    let number = parse_id(&id)?;
    let state = app.state();
    let (org, project) = project_for(&state, &caller, &org_name, &project, Need::Read, VIEW)?;
    let check = project
        .checks
        .iter()
        .find(|c| c.id == number)
        .ok_or_else(|| not_found(&id))?;
    Ok(ok(render(&app.urls.dev, org, project, check, expand)))
}

#[derive(Debug, Deserialize)]
struct TypeRef {
    #[serde(default)]
    id: Option<String>,
}

#[derive(Debug, Deserialize)]
struct ResourceRef {
    #[serde(rename = "type", default)]
    resource_type: Option<String>,
    #[serde(default)]
    id: Option<Value>,
}

#[derive(Debug, Deserialize)]
struct ConfigurationBody {
    #[serde(rename = "type", default)]
    check_type: Option<TypeRef>,
    #[serde(default)]
    resource: Option<ResourceRef>,
    #[serde(default)]
    timeout: Option<Value>,
    #[serde(default)]
    settings: Option<Value>,
}

/// What a valid body describes.
struct Validated {
    kind: CheckKind,
    resource_type: ResourceType,
    resource_id: String,
    timeout: u32,
    settings: Value,
}

fn validate(
    org: &Organization,
    project: &Project,
    body: &ConfigurationBody,
) -> ApiResult<Validated> {
    let raw_type = body
        .check_type
        .as_ref()
        .and_then(|t| t.id.as_deref())
        .ok_or_else(|| invalid("The check configuration must name its type (type.id)."))?;
    let kind = CheckKind::from_id(raw_type)
        .ok_or_else(|| invalid(format!("The check type '{raw_type}' could not be found.")))?;
    let resource = body
        .resource
        .as_ref()
        .ok_or_else(|| invalid("The check configuration must name its resource (type and id)."))?;
    let resource_type = checked_type(resource.resource_type.as_deref().unwrap_or_default())?;
    let raw_id = resource.id.as_ref().map(id_text).unwrap_or_default();
    let resource_id = resolve_resource(org, project, resource_type, &raw_id)?;
    let timeout = match &body.timeout {
        None | Some(Value::Null) => MAX_TIMEOUT,
        Some(v) => v
            .as_u64()
            .filter(|n| (1..=u64::from(MAX_TIMEOUT)).contains(n))
            .ok_or_else(|| {
                invalid(format!(
                    "timeout {v} is not a number of minutes between 1 and {MAX_TIMEOUT}."
                ))
            })? as u32,
    };
    let known = |id: uuid::Uuid| org.subject_by_identity_id(id).is_some();
    let settings = validate_settings(kind, body.settings.as_ref(), &known).map_err(invalid)?;
    Ok(Validated {
        kind,
        resource_type,
        resource_id,
        timeout,
        settings,
    })
}

pub async fn add(
    State(app): State<SharedApp>,
    Extension(caller): Extension<Caller>,
    Path((org_name, project)): Path<(String, String)>,
    body: Bytes,
) -> ApiResult {
    let body: ConfigurationBody = parse_body(&body, "configuration")?;
    let mut state = app.state();
    let (actor, project_id, valid, name) = {
        let (org, project) = project_for(
            &state,
            &caller,
            &org_name,
            &project,
            Need::Write,
            ADMINISTER,
        )?;
        let valid = validate(org, project, &body)?;
        let name = resource_name(org, project, valid.resource_type, &valid.resource_id);
        (caller.actor(org), project.id, valid, name)
    };
    let org = state
        .organization_mut(&org_name)
        .ok_or_else(|| ApiError::organization_not_found(&org_name))?;
    org.last_check_id += 1;
    let now = Utc::now();
    let check = CheckConfiguration {
        id: org.last_check_id,
        kind: valid.kind,
        resource_type: valid.resource_type,
        resource_id: valid.resource_id,
        resource_name: name,
        timeout: valid.timeout,
        settings: valid.settings,
        created_by: actor.clone(),
        created_on: now,
        modified_by: actor,
        modified_on: now,
    };
    let project = org
        .projects
        .iter_mut()
        .find(|p| p.id == project_id)
        .ok_or_else(|| ApiError::project_not_found(&project_id.to_string()))?;
    project.checks.push(check);
    let (org, project) = (&*org, org.projects.iter().find(|p| p.id == project_id));
    let project = project.ok_or_else(|| ApiError::project_not_found(&project_id.to_string()))?;
    let check = project.checks.last().expect("just pushed");
    Ok(ok(render(&app.urls.dev, org, project, check, true)))
}

pub async fn update(
    State(app): State<SharedApp>,
    Extension(caller): Extension<Caller>,
    Path((org_name, project, id)): Path<(String, String, String)>,
    body: Bytes,
) -> ApiResult {
    let number = parse_id(&id)?;
    let body: ConfigurationBody = parse_body(&body, "configuration")?;
    let mut state = app.state();
    let (actor, project_id, valid) = {
        let (org, project) = project_for(
            &state,
            &caller,
            &org_name,
            &project,
            Need::Write,
            ADMINISTER,
        )?;
        let existing = project
            .checks
            .iter()
            .find(|c| c.id == number)
            .ok_or_else(|| not_found(&id))?;
        let valid = validate(org, project, &body)?;
        if valid.kind != existing.kind {
            return Err(invalid(
                "The type of a check configuration cannot be changed.",
            ));
        }
        if valid.resource_type != existing.resource_type
            || !valid
                .resource_id
                .eq_ignore_ascii_case(&existing.resource_id)
        {
            return Err(invalid(
                "The resource of a check configuration cannot be changed.",
            ));
        }
        (caller.actor(org), project.id, valid)
    };
    let org = state
        .organization_mut(&org_name)
        .ok_or_else(|| ApiError::organization_not_found(&org_name))?;
    let project = org
        .projects
        .iter_mut()
        .find(|p| p.id == project_id)
        .ok_or_else(|| ApiError::project_not_found(&project_id.to_string()))?;
    let check = project
        .checks
        .iter_mut()
        .find(|c| c.id == number)
        .ok_or_else(|| not_found(&id))?;
    check.timeout = valid.timeout;
    check.settings = valid.settings;
    check.modified_by = actor;
    check.modified_on = Utc::now();
    let org = &*org;
    let project = org
        .projects
        .iter()
        .find(|p| p.id == project_id)
        .ok_or_else(|| ApiError::project_not_found(&project_id.to_string()))?;
    let check = project
        .checks
        .iter()
        .find(|c| c.id == number)
        .ok_or_else(|| not_found(&id))?;
    Ok(ok(render(&app.urls.dev, org, project, check, true)))
}

pub async fn delete(
    State(app): State<SharedApp>,
    Extension(caller): Extension<Caller>,
    Path((org_name, project, id)): Path<(String, String, String)>,
) -> ApiResult {
    let number = parse_id(&id)?;
    let mut state = app.state();
    let project_id = {
        let (_, project) = project_for(
            &state,
            &caller,
            &org_name,
            &project,
            Need::Write,
            ADMINISTER,
        )?;
        if !project.checks.iter().any(|c| c.id == number) {
            return Err(not_found(&id));
        }
        project.id
    };
    let org = state
        .organization_mut(&org_name)
        .ok_or_else(|| ApiError::organization_not_found(&org_name))?;
    if let Some(project) = org.projects.iter_mut().find(|p| p.id == project_id) {
        project.checks.retain(|c| c.id != number);
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}

pub async fn query(
    State(app): State<SharedApp>,
    Extension(caller): Extension<Caller>,
    Path((org_name, project)): Path<(String, String)>,
    params: Params,
    body: Bytes,
) -> ApiResult {
    let expand = expand_settings(&params)?;
    let resources: Vec<ResourceRef> = parse_body(&body, "resources")?;
    let state = app.state();
    let (org, project) = project_for(&state, &caller, &org_name, &project, Need::Read, VIEW)?;
    let mut wanted = Vec::new();
    for r in &resources {
        let t = checked_type(r.resource_type.as_deref().unwrap_or_default())?;
        let raw = r.id.as_ref().map(id_text).unwrap_or_default();
        let id = resolve_resource(org, project, t, &raw).unwrap_or(raw);
        wanted.push((t, id));
    }
    let values = project
        .checks
        .iter()
        .filter(|c| {
            wanted
                .iter()
                .any(|(t, id)| c.resource_type == *t && c.resource_id.eq_ignore_ascii_case(id))
        })
        .map(|c| render(&app.urls.dev, org, project, c, expand))
        .collect();
    Ok(ok(collection(values)))
}
