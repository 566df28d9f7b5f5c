//! Lookups of pipelines and protected resources, by name (the real filters) and by id.
//!
//! Every project-level kind answers the same two routes, a filtered list and a get by id, so
//! they are served by two generic handlers over [`ProjectResource`]; what differs per kind (its
//! query filters, its id, its 404, its JSON) is that trait's implementation.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Extension;
use serde_json::Value;

use super::{name_matches, project_for, shapes};
use crate::http::app::SharedApp;
use crate::http::auth::{Caller, Need};
use crate::http::error::{ApiError, ApiResult};
use crate::http::params::Params;
use crate::http::respond::{collection, ok};
use crate::model::build::normalize_folder;
use crate::model::resources::{
    Environment, Pipeline, Project, Queue, Repository, SecureFile, ServiceEndpoint, VariableGroup,
};
use crate::model::Organization;

const VIEW: &str = "View project-level information";

/// A kind of project-level resource, as its list and get routes see it.
pub trait ProjectResource: Sized + Send + Sync + 'static {
    /// Whether the 7.1 spec pages the list (`continuationToken`): build definitions,
    /// environments and variable groups (by name).
    const PAGED: bool = false;
    /// The typeKey of the 404 for an unknown id.
    const NOT_FOUND: &'static str;
    /// The message of that 404.
    fn not_found_message(id: &str) -> String;
    /// Every resource of this kind in `project`.
    fn all(project: &Project) -> &[Self];
    /// True when the get route's `id` names this resource.
    fn has_id(&self, id: &str) -> bool;
    /// The list route's filter, from its query parameters.
    fn filter(params: &Params) -> impl Fn(&Self) -> bool;
    /// The resource as the API lists it.
    fn render(&self, dev: &str, org: &Organization, project: &Project) -> Value;
    /// The resource as the get route returns it (the list's rendering unless richer).
    fn render_one(&self, dev: &str, org: &Organization, project: &Project) -> Value {
        self.render(dev, org, project)
    }
}

/// `GET .../{project}/_apis/<kind>?<filters>`: the resources that pass every filter.
pub async fn list<R: ProjectResource>(
    State(app): State<SharedApp>,
    Extension(caller): Extension<Caller>,
    Path((org_name, project)): Path<(String, String)>,
    params: Params,
) -> ApiResult {
    let state = app.state();
    let (org, project) = project_for(&state, &caller, &org_name, &project, Need::Read, VIEW)?;
    let keep = R::filter(&params);
    let all = R::all(project);
    // Lists the spec pages (continuationToken) are cut into pages before filtering, like the
    // real service: a page can be empty and still carry a continuation token.
    let page_size = app.behaviours().list_page_size;
    let (slice, next) = if R::PAGED && page_size > 0 {
        cut_page(all, &params, page_size)?
    } else {
        (all, None)
    };
    let values = slice
        .iter()
        .filter(|r| keep(r))
        .map(|r| r.render(&app.urls.dev, org, project))
        .collect();
    let mut response = ok(collection(values));
    if let Some(next) = next {
        set_continuation(&mut response, next);
    }
    Ok(response)
}

/// One page of `all` from `?continuationToken=` (an offset), and the token of the next page.
pub fn cut_page<'a, T>(
    all: &'a [T],
    params: &Params,
    page_size: usize,
) -> Result<(&'a [T], Option<usize>), ApiError> {
    let offset = match params.get("continuationToken") {
        Some(token) => token.parse::<usize>().map_err(|_| {
            ApiError::invalid_argument(format!("The continuation token '{token}' is not valid."))
        })?,
        None => 0,
    };
    let start = offset.min(all.len());
    let end = (start + page_size).min(all.len());
    Ok((&all[start..end], (end < all.len()).then_some(end)))
}

pub fn set_continuation(response: &mut axum::response::Response, next: usize) {
    if let Ok(value) = axum::http::HeaderValue::from_str(&next.to_string()) {
        response
            .headers_mut()
            .insert("x-ms-continuationtoken", value);
    }
}

/// `GET .../{project}/_apis/<kind>/{id}`: one resource, or the kind's own 404.
pub async fn get<R: ProjectResource>(
    State(app): State<SharedApp>,
    Extension(caller): Extension<Caller>,
    Path((org_name, project, id)): Path<(String, String, String)>,
) -> ApiResult {
    let state = app.state();
    let (org, project) = project_for(&state, &caller, &org_name, &project, Need::Read, VIEW)?;
    let found = R::all(project)
        .iter()
        .find(|r| r.has_id(&id))
        .ok_or_else(|| not_found(R::NOT_FOUND, R::not_found_message(&id)))?;
    Ok(ok(found.render_one(&app.urls.dev, org, project)))
}

fn not_found(type_key: &'static str, message: String) -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, type_key, message)
}

/// True when no filter is given or any of the comma separated names matches.
fn filter_names(filter: &[String], name: &str) -> bool {
    filter.is_empty() || filter.iter().any(|f| name_matches(f, name))
}

/// The numeric ids of a filter parameter (values that are not numbers are ignored).
fn ids(params: &Params, name: &str) -> Vec<u32> {
    params
        .list(name)
        .iter()
        .filter_map(|v| v.parse().ok())
        .collect()
}

/// True when no ids are given or `id` is one of them.
fn filter_ids(wanted: &[u32], id: u32) -> bool {
    wanted.is_empty() || wanted.contains(&id)
}

/// True when no GUIDs are given or `id` is one of them (compared case-insensitively).
fn filter_guids(wanted: &[String], id: &uuid::Uuid) -> bool {
    wanted.is_empty() || wanted.iter().any(|w| same_id(id, w))
}

fn same_id(id: &impl ToString, wanted: &str) -> bool {
    id.to_string().eq_ignore_ascii_case(wanted)
}

impl ProjectResource for Pipeline {
    const PAGED: bool = true;
    const NOT_FOUND: &'static str = "DefinitionNotFoundException";
    fn not_found_message(id: &str) -> String {
        format!("The requested build definition {id} cannot be found.")
    }
    fn all(project: &Project) -> &[Self] {
        &project.pipelines
    }
    fn has_id(&self, id: &str) -> bool {
        same_id(&self.id, id)
    }
    fn filter(params: &Params) -> impl Fn(&Self) -> bool {
        let name = params.get("name").map(str::to_string);
        let path = params.get("path").map(normalize_folder);
        let wanted = ids(params, "definitionIds");
        move |p| {
            name.as_deref().is_none_or(|n| name_matches(n, &p.name))
                && path
                    .as_deref()
                    .is_none_or(|f| p.path.eq_ignore_ascii_case(f))
                && filter_ids(&wanted, p.id)
        }
    }
    fn render(&self, dev: &str, org: &Organization, project: &Project) -> Value {
        shapes::definition(dev, org, project, self)
    }
    fn render_one(&self, dev: &str, org: &Organization, project: &Project) -> Value {
        shapes::definition_full(dev, org, project, self)
    }
}

impl ProjectResource for Queue {
    const NOT_FOUND: &'static str = "TaskAgentQueueNotFoundException";
    fn not_found_message(id: &str) -> String {
        format!("Agent queue {id} not found.")
    }
    fn all(project: &Project) -> &[Self] {
        &project.queues
    }
    fn has_id(&self, id: &str) -> bool {
        same_id(&self.id, id)
    }
    fn filter(params: &Params) -> impl Fn(&Self) -> bool {
        let mut names = params.list("queueName");
        names.extend(params.list("queueNames"));
        let wanted = ids(params, "queueIds");
        move |q| filter_names(&names, &q.name) && filter_ids(&wanted, q.id)
    }
    fn render(&self, _dev: &str, org: &Organization, project: &Project) -> Value {
        shapes::queue(org, project, self)
    }
}

impl ProjectResource for Environment {
    const PAGED: bool = true;
    const NOT_FOUND: &'static str = "EnvironmentNotFoundException";
    fn not_found_message(id: &str) -> String {
        format!("Environment with id {id} does not exist.")
    }
    fn all(project: &Project) -> &[Self] {
        &project.environments
    }
    fn has_id(&self, id: &str) -> bool {
        same_id(&self.id, id)
    }
    fn filter(params: &Params) -> impl Fn(&Self) -> bool {
        let name = params.get("name").map(str::to_string);
        move |e| name.as_deref().is_none_or(|n| name_matches(n, &e.name))
    }
    fn render(&self, _dev: &str, org: &Organization, project: &Project) -> Value {
        shapes::environment(org, project, self)
    }
}

impl ProjectResource for VariableGroup {
    const PAGED: bool = true;
    const NOT_FOUND: &'static str = "VariableGroupNotFoundException";
    fn not_found_message(id: &str) -> String {
        format!("Variable group {id} not found.")
    }
    fn all(project: &Project) -> &[Self] {
        &project.variable_groups
    }
    fn has_id(&self, id: &str) -> bool {
        same_id(&self.id, id)
    }
    fn filter(params: &Params) -> impl Fn(&Self) -> bool {
        let name = params.get("groupName").map(str::to_string);
        let wanted = ids(params, "groupIds");
        move |g| {
            name.as_deref().is_none_or(|n| name_matches(n, &g.name)) && filter_ids(&wanted, g.id)
        }
    }
    fn render(&self, _dev: &str, org: &Organization, project: &Project) -> Value {
        shapes::variable_group(org, project, self)
    }
}

impl ProjectResource for SecureFile {
    const NOT_FOUND: &'static str = "SecureFileNotFoundException";
    fn not_found_message(id: &str) -> String {
        format!("Secure file {id} not found.")
    }
    fn all(project: &Project) -> &[Self] {
        &project.secure_files
    }
    fn has_id(&self, id: &str) -> bool {
        same_id(&self.id, id)
    }
    fn filter(params: &Params) -> impl Fn(&Self) -> bool {
        let pattern = params.get("namePattern").map(str::to_string);
        let names = params.list("secureFileNames");
        let wanted = params.list("secureFileIds");
        move |f| {
            pattern.as_deref().is_none_or(|n| name_matches(n, &f.name))
                && filter_names(&names, &f.name)
                && filter_guids(&wanted, &f.id)
        }
    }
    fn render(&self, _dev: &str, org: &Organization, _project: &Project) -> Value {
        shapes::secure_file(org, self)
    }
}

impl ProjectResource for ServiceEndpoint {
    const NOT_FOUND: &'static str = "ServiceEndpointNotFoundException";
    fn not_found_message(id: &str) -> String {
        format!("Service endpoint {id} not found.")
    }
    fn all(project: &Project) -> &[Self] {
        &project.service_endpoints
    }
    fn has_id(&self, id: &str) -> bool {
        same_id(&self.id, id)
    }
    fn filter(params: &Params) -> impl Fn(&Self) -> bool {
        // Endpoint names are exact (case-insensitive), without wildcards.
        let names = params.list("endpointNames");
        let wanted = params.list("endpointIds");
        let kind = params.get("type").map(str::to_string);
        // Endpoints that are not ready are listed only with `includeFailed=true`.
        let include_failed = params
            .get("includeFailed")
            .is_some_and(|v| v.eq_ignore_ascii_case("true"));
        move |e| {
            (e.is_ready || include_failed)
                && (names.is_empty() || names.iter().any(|n| n.eq_ignore_ascii_case(&e.name)))
                && filter_guids(&wanted, &e.id)
                && kind
                    .as_deref()
                    .is_none_or(|k| k.eq_ignore_ascii_case(&e.endpoint_type))
        }
    }
    fn render(&self, _dev: &str, org: &Organization, project: &Project) -> Value {
        shapes::endpoint(org, project, self)
    }
}

impl ProjectResource for Repository {
    const NOT_FOUND: &'static str = "GitRepositoryNotFoundException";
    fn not_found_message(id: &str) -> String {
        format!("TF401019: The Git repository with name or identifier {id} does not exist or you do not have permissions for the operation you are attempting.")
    }
    fn all(project: &Project) -> &[Self] {
        &project.repositories
    }
    /// A repository is found by name as well as by id.
    fn has_id(&self, id: &str) -> bool {
        self.name.eq_ignore_ascii_case(id) || same_id(&self.id, id)
    }
    fn filter(_params: &Params) -> impl Fn(&Self) -> bool {
        |_| true
    }
    fn render(&self, dev: &str, org: &Organization, project: &Project) -> Value {
        shapes::repository(dev, org, project, self)
    }
}

/// Agent pools are organization-level (`_apis/distributedtask/pools`).
pub async fn pools(
    State(app): State<SharedApp>,
    Path(org_name): Path<String>,
    params: Params,
) -> ApiResult {
    let state = app.state();
    let org = state
        .organization(&org_name)
        .ok_or_else(|| ApiError::organization_not_found(&org_name))?;
    let names = params.list("poolName");
    let wanted = ids(&params, "poolIds");
    let values = org
        .pools
        .iter()
        .filter(|p| filter_names(&names, &p.name) && filter_ids(&wanted, p.id))
        .map(|p| shapes::pool(org, p))
        .collect();
    Ok(ok(collection(values)))
}

pub async fn pool(
    State(app): State<SharedApp>,
    Path((org_name, id)): Path<(String, String)>,
) -> ApiResult {
    let state = app.state();
    let org = state
        .organization(&org_name)
        .ok_or_else(|| ApiError::organization_not_found(&org_name))?;
    let pool = org
        .pools
        .iter()
        .find(|p| same_id(&p.id, &id))
        .ok_or_else(|| {
            not_found(
                "TaskAgentPoolNotFoundException",
                format!("Agent pool {id} not found."),
            )
        })?;
    Ok(ok(shapes::pool(org, pool)))
}
