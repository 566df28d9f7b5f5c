//! An authorization's protected resource and pipelines, resolved to ids.

use crate::ado::{AdoClient, ResourceKind};
use crate::api::{PipelineResourceAuthorization, PipelineSelector, ResourceSelector, ResourceType};
use crate::controller::error::{Error, Retry};
use crate::controller::object_context::Cx;
use crate::controller::set_sync::Problem;
use crate::reason::Reason;

/// The client's resource kind for a spec's resource type.
pub fn kind_of(t: ResourceType) -> ResourceKind {
    match t {
        ResourceType::Queue => ResourceKind::Queue,
        ResourceType::Agentpool => ResourceKind::AgentPool,
        ResourceType::Environment => ResourceKind::Environment,
        ResourceType::Endpoint => ResourceKind::Endpoint,
        ResourceType::Variablegroup => ResourceKind::VariableGroup,
        ResourceType::Securefile => ResourceKind::SecureFile,
        ResourceType::Repository => ResourceKind::Repository,
    }
}

/// The resource's permission id and name.
pub async fn resource(
    p: &PipelineResourceAuthorization,
    cx: &Cx<'_>,
) -> Result<(String, Option<String>), Error> {
    selected(&p.spec.resource, &p.spec.project, cx).await
}

/// A selected resource's id (the one pipeline permissions and checks use) and, when it was
/// looked up by name, its name. `project`: the object's project (a repository may name another).
pub async fn selected(
    r: &ResourceSelector,
    project: &str,
    cx: &Cx<'_>,
) -> Result<(String, Option<String>), Error> {
    let client = &cx.org().client;
    let kind = kind_of(r.type_);
    let project = r.project.as_deref().unwrap_or(project);
    let not_found = || {
        Error::not_found(
            Reason::ResourceNotFound,
            format!(
                "{kind} {:?} not found in project {project:?}",
                r.name.as_deref().unwrap_or_default()
            ),
        )
    };
    if let Some(id) = &r.id {
        if kind == ResourceKind::Repository && !id.contains('.') {
            let found = cx.project(project).await?;
            return Ok((format!("{}.{id}", found.id), None));
        }
        return Ok((id.clone(), None));
    }
    let Some(name) = &r.name else {
        return Err(Error::invalid("resource must set id or name"));
    };
    let found = client
        .find_resource(project, kind, name)
        .await
        .map_err(|e| match e.is_not_found() {
            true => not_found(),
            false => Error::ado(&format!("looking up {kind} {name:?}"), e),
        })?;
    match found.as_slice() {
        [] => Err(not_found()),
        [one] => Ok((one.id.clone(), Some(one.name.clone()))),
        many => Err(Error::new(
            Reason::AmbiguousName,
            format!("{} {kind}s are named {name:?}; use resource.id", many.len()),
            Retry::AwaitChange,
        )),
    }
}

/// One listed pipeline's id, or why it has none.
pub async fn pipeline(
    sel: &PipelineSelector,
    project: &str,
    client: &AdoClient,
) -> Result<i64, Problem> {
    if let Some(id) = sel.id {
        return Ok(id);
    }
    let Some(name) = &sel.name else {
        return Err(Problem::failed(
            Reason::InvalidSpec,
            "the pipeline sets neither id nor name",
        ));
    };
    let found = client
        .find_pipelines(project, name, sel.path.as_deref())
        .await
        .map_err(|e| Problem {
            reason: Reason::PipelineLookupFailed,
            ..Problem::from_ado(
                &format!("looking up pipeline {name:?}"),
                Reason::PipelineLookupFailed,
                e,
            )
        })?;
    match found.as_slice() {
        [] => Err(Problem::failed(
            Reason::PipelineNotFound,
            format!("no pipeline {} in project {project:?}", sel.key()),
        )),
        [one] => Ok(one.id),
        many => Err(Problem::failed(
            Reason::AmbiguousName,
            format!(
                "{} pipelines are named {name:?} (folders {}); set path or id",
                many.len(),
                many.iter()
                    .map(|p| p.folder.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )),
    }
}
