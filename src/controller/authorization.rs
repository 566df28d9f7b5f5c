//! Reconciler of `PipelineResourceAuthorization`: resolve the resource and the pipelines, read
//! the resource's permissions once, and send one PATCH with every change (authorize, revoke,
//! open access).

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use async_trait::async_trait;
use futures::future::join_all;
use kube::runtime::events::EventType;
use kube::ResourceExt;

use crate::ado::{
    AdoClient, Permission, PermissionResource, PipelinePermission, ResourceKind,
    ResourcePipelinePermissions,
};
use crate::api::{
    PipelineResourceAuthorization, PipelineResourceAuthorizationStatus, PipelineSelector,
    PipelineState, PipelineStatus, ResourceType, RevocationPolicy,
};

use super::context::Context;
use super::error::{Error, Retry};
use super::reconcile::{Outcome, Ready, Reconciled};

fn kind_of(t: ResourceType) -> ResourceKind {
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
async fn resolve_resource(
    p: &PipelineResourceAuthorization,
    client: &AdoClient,
) -> Result<(String, Option<String>), Error> {
    let r = &p.spec.resource;
    let kind = kind_of(r.type_);
    let lookup_project = r.project.as_deref().unwrap_or(&p.spec.project);
    if let Some(id) = &r.id {
        if kind == ResourceKind::Repository && !id.contains('.') {
            let project =
                client
                    .project(lookup_project)
                    .await
                    .map_err(|e| match e.is_not_found() {
                        true => Error::not_found(
                            "ProjectNotFound",
                            format!("project {lookup_project:?} does not exist"),
                        ),
                        false => Error::ado("looking up the repository's project", e),
                    })?;
            return Ok((format!("{}.{id}", project.id), None));
        }
        return Ok((id.clone(), None));
    }
    let Some(name) = &r.name else {
        return Err(Error::invalid("resource must set id or name"));
    };
    let found = client
        .find_resource(lookup_project, kind, name)
        .await
        .map_err(|e| match e.is_not_found() {
            true => Error::not_found(
                "ResourceNotFound",
                format!("{kind} {name:?} not found in project {lookup_project:?}"),
            ),
            false => Error::ado(&format!("looking up {kind} {name:?}"), e),
        })?;
    match found.as_slice() {
        [] => Err(Error::not_found(
            "ResourceNotFound",
            format!("{kind} {name:?} not found in project {lookup_project:?}"),
        )),
        [one] => Ok((one.id.clone(), Some(one.name.clone()))),
        many => Err(Error::new(
            "AmbiguousName",
            format!("{} {kind}s are named {name:?}; use resource.id", many.len()),
            Retry::AwaitChange,
        )),
    }
}

async fn resolve_pipeline(
    sel: &PipelineSelector,
    project: &str,
    client: &AdoClient,
) -> Result<i64, (&'static str, String, bool)> {
    if let Some(id) = sel.id {
        return Ok(id);
    }
    let Some(name) = &sel.name else {
        return Err((
            "InvalidSpec",
            "the pipeline sets neither id nor name".into(),
            false,
        ));
    };
    let found = client
        .find_pipelines(project, name, sel.path.as_deref())
        .await
        .map_err(|e| {
            (
                "PipelineLookupFailed",
                format!("looking up pipeline {name:?}: {e}"),
                e.is_transient(),
            )
        })?;
    match found.as_slice() {
        [] => Err((
            "PipelineNotFound",
            format!("no pipeline {} in project {project:?}", sel.key()),
            false,
        )),
        [one] => Ok(one.id),
        many => Err((
            "AmbiguousName",
            format!(
                "{} pipelines are named {name:?} (folders {}); set path or id",
                many.len(),
                many.iter()
                    .map(|p| p.folder.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            false,
        )),
    }
}

async fn converge(
    p: &PipelineResourceAuthorization,
    ctx: &Context,
    status: &mut PipelineResourceAuthorizationStatus,
) -> Result<Ready, Error> {
    let ns = p.namespace().unwrap_or_default();
    let org = ctx.organization(&p.spec.organization_ref, &ns).await?;
    let client = &org.client;
    let project = p.spec.project.as_str();
    let kind = kind_of(p.spec.resource.type_);
    // The resource is immutable in the spec, so once resolved its id is reused.
    let (resource_id, resource_name) = match p.status.as_ref().and_then(|s| s.resource_id.clone()) {
        Some(id) => (id, p.status.as_ref().and_then(|s| s.resource_name.clone())),
        None => resolve_resource(p, client).await?,
    };
    status.resource_id = Some(resource_id.clone());
    status.resource_name = resource_name
        .or_else(|| p.spec.resource.name.clone())
        .or_else(|| Some(resource_id.clone()));

    let mut selectors: Vec<&PipelineSelector> = Vec::new();
    let mut seen = BTreeSet::new();
    for s in &p.spec.pipelines {
        if seen.insert(s.key()) {
            selectors.push(s);
        }
    }
    // Pipelines authorized at the last reconcile keep their id: no name lookups on a resync.
    let known: HashMap<String, i64> = p
        .status
        .as_ref()
        .map(|s| {
            s.pipelines
                .iter()
                .filter(|ps| ps.state == PipelineState::Authorized)
                .filter_map(|ps| ps.id.map(|id| (ps.pipeline.clone(), id)))
                .collect()
        })
        .unwrap_or_default();
    let resolved = join_all(selectors.iter().map(|s| async {
        match known.get(&s.key()) {
            Some(id) => Ok(*id),
            None => resolve_pipeline(s, project, client).await,
        }
    }))
    .await;
    let previous_ids: HashMap<String, i64> = p
        .status
        .as_ref()
        .map(|s| {
            s.pipelines
                .iter()
                .filter_map(|ps| ps.id.map(|id| (ps.pipeline.clone(), id)))
                .collect()
        })
        .unwrap_or_default();

    let current = client
        .pipeline_permissions(project, kind, &resource_id)
        .await
        .map_err(|e| match e.is_not_found() {
            true => Error::not_found(
                "ResourceNotFound",
                format!("{kind} {resource_id} not found in project {project:?}: {e}"),
            ),
            false => Error::ado("reading the resource's pipeline permissions", e),
        })?;
    let authorized_now: BTreeSet<i64> = current
        .pipelines
        .iter()
        .filter(|x| x.authorized)
        .map(|x| x.id)
        .collect();
    let desired: BTreeSet<i64> = resolved
        .iter()
        .filter_map(|r| r.as_ref().ok().copied())
        .collect();
    let mut keep = desired.clone();
    for (sel, r) in selectors.iter().zip(&resolved) {
        if r.is_err() {
            if let Some(id) = previous_ids.get(&sel.key()) {
                keep.insert(*id);
            }
        }
    }
    let mut ours: BTreeSet<i64> = p
        .status
        .as_ref()
        .map(|s| s.authorized.iter().copied().collect())
        .unwrap_or_default();
    let to_authorize: Vec<i64> = desired.difference(&authorized_now).copied().collect();
    let to_revoke: Vec<i64> = ours
        .iter()
        .filter(|id| !keep.contains(*id) && authorized_now.contains(*id))
        .copied()
        .collect();
    let all_now = current.all_pipelines.as_ref().is_some_and(|a| a.authorized);
    let set_all = p.spec.all_pipelines.filter(|want| *want != all_now);

    if !to_authorize.is_empty() || !to_revoke.is_empty() || set_all.is_some() {
        let update = ResourcePipelinePermissions {
            resource: PermissionResource::new(kind, resource_id.clone()),
            pipelines: to_authorize
                .iter()
                .map(|id| PipelinePermission::new(*id, true))
                .chain(
                    to_revoke
                        .iter()
                        .map(|id| PipelinePermission::new(*id, false)),
                )
                .collect(),
            all_pipelines: set_all.map(|authorized| Permission {
                authorized,
                authorized_by: None,
                authorized_on: None,
            }),
        };
        client
            .update_pipeline_permissions(project, &update)
            .await
            .map_err(|e| Error::ado("updating the resource's pipeline permissions", e))?;
        ours.extend(to_authorize.iter().copied());
        for id in &to_revoke {
            ours.remove(id);
        }
        let mut changes = Vec::new();
        if !to_authorize.is_empty() {
            changes.push(format!("authorized pipeline(s) {to_authorize:?}"));
        }
        if !to_revoke.is_empty() {
            changes.push(format!("revoked pipeline(s) {to_revoke:?}"));
        }
        if let Some(all) = set_all {
            changes.push(format!("set all-pipelines access to {all}"));
        }
        ctx.publish(p, EventType::Normal, "Updated", changes.join("; "))
            .await;
    }
    ours.retain(|id| keep.contains(id) || authorized_now.contains(id));
    status.authorized = ours.into_iter().collect();
    status.all_pipelines = p.spec.all_pipelines;

    status.pipelines = selectors
        .iter()
        .zip(&resolved)
        .map(|(sel, r)| match r {
            Ok(id) => PipelineStatus {
                pipeline: sel.key(),
                id: Some(*id),
                state: PipelineState::Authorized,
                reason: None,
                message: None,
            },
            Err((reason, message, _)) => PipelineStatus {
                pipeline: sel.key(),
                id: previous_ids.get(&sel.key()).copied(),
                state: PipelineState::Failed,
                reason: Some((*reason).into()),
                message: Some(message.clone()),
            },
        })
        .collect();
    let ok = status
        .pipelines
        .iter()
        .filter(|s| s.state == PipelineState::Authorized)
        .count();
    status.summary = Some(format!("{ok}/{}", status.pipelines.len()));
    let failures: Vec<&(&'static str, String, bool)> =
        resolved.iter().filter_map(|r| r.as_ref().err()).collect();
    if let Some((reason, message, _)) = failures.first() {
        let retry = if failures.iter().any(|f| f.2) {
            Retry::Backoff
        } else {
            Retry::Resync
        };
        let mut text = format!(
            "{ok}/{} pipelines authorized; {message}",
            status.pipelines.len()
        );
        if failures.len() > 1 {
            text.push_str(&format!(
                " (and {} more, see status.pipelines)",
                failures.len() - 1
            ));
        }
        return Err(Error::new(
            if failures.len() == 1 {
                reason
            } else {
                "PipelinesFailed"
            },
            text,
            retry,
        ));
    }
    Ok(Ready::new(
        "Synced",
        format!("{ok}/{ok} pipelines authorized"),
    ))
}

#[async_trait]
impl Reconciled for PipelineResourceAuthorization {
    const KIND: &'static str = "PipelineResourceAuthorization";
    const FINALIZER: Option<&'static str> = Some("azdo.io/pipeline-authorization");

    fn api(kube: kube::Client, namespace: Option<&str>) -> kube::Api<Self> {
        kube::Api::namespaced(kube, namespace.unwrap_or("default"))
    }

    async fn apply(self: Arc<Self>, ctx: &Context) -> Outcome<Self::Status> {
        let mut status = self.status.clone().unwrap_or_default();
        let result = converge(&self, ctx, &mut status).await;
        Outcome { status, result }
    }

    async fn cleanup(self: Arc<Self>, ctx: &Context) -> Result<(), Error> {
        if self.spec.deletion_policy == RevocationPolicy::Orphan {
            return Ok(());
        }
        let Some(status) = &self.status else {
            return Ok(());
        };
        let Some(resource_id) = &status.resource_id else {
            return Ok(());
        };
        let reset_all = status.all_pipelines == Some(true);
        if status.authorized.is_empty() && !reset_all {
            return Ok(());
        }
        let ns = self.namespace().unwrap_or_default();
        let Some(org) = ctx
            .organization_for_cleanup(&self.spec.organization_ref, &ns, "the authorizations")
            .await?
        else {
            return Ok(());
        };
        let kind = kind_of(self.spec.resource.type_);
        let update = ResourcePipelinePermissions {
            resource: PermissionResource::new(kind, resource_id.clone()),
            pipelines: status
                .authorized
                .iter()
                .map(|id| PipelinePermission::new(*id, false))
                .collect(),
            all_pipelines: reset_all.then_some(Permission {
                authorized: false,
                authorized_by: None,
                authorized_on: None,
            }),
        };
        org.client
            .update_pipeline_permissions(&self.spec.project, &update)
            .await
            .map_err(|e| Error::ado("revoking the authorizations this object made", e))?;
        ctx.publish(
            &*self,
            EventType::Normal,
            "Revoked",
            format!("revoked pipeline(s) {:?}", status.authorized),
        )
        .await;
        Ok(())
    }
}
