//! Reconciler of `PipelineResourceAuthorization`, on the shared [set-sync core](super::set_sync):
//! resolve the resource and the pipelines, read the resource's permissions once, plan (only what
//! this object authorized is ever revoked), and send one PATCH with every change (authorize,
//! revoke, open access).

mod resolve;

use std::collections::BTreeSet;

use async_trait::async_trait;
use kube::runtime::events::EventType;

use crate::ado::{Permission, PermissionResource, PipelinePermission, ResourcePipelinePermissions};
use crate::api::{PipelineResourceAuthorization, PipelineSelector, PipelineState, PipelineStatus};
use crate::reason::Reason;

use super::claims::{hold_only, Key};
use super::error::Error;
use super::ledger::Entry;
use super::object_context::Cx;
use super::reconcile::{Ready, Reconciled};
use super::set_sync::{self, ItemStatus, Mode, Nouns, Plan, Problem, Written};
use resolve::kind_of;

#[async_trait]
impl Reconciled for PipelineResourceAuthorization {
    async fn converge(&self, cx: &Cx<'_>, status: &mut Self::Status) -> Result<Ready, Error> {
        let project = self.spec.project.as_str();
        let client = &cx.org().client;
        // The resource is immutable in the spec, so once resolved (and recorded in the ledger,
        // never taken from status) its id is reused.
        let before = cx.ledger.read(self).await?;
        let (resource_id, resource_name) = match &before.target {
            Some(id) => (id.clone(), self.spec.resource.name.clone()),
            None => resolve::resource(self, cx).await?,
        };
        let in_project = cx.project(project).await?;
        let type_ = self.spec.resource.type_;
        let name = resource_name
            .as_deref()
            .or(self.spec.resource.name.as_deref());
        cx.granted()
            .pipeline_resource(type_, &in_project, &resource_id, name)?;
        if self.spec.all_pipelines.is_some() {
            cx.granted().all_pipelines()?;
        }
        // One object cluster-wide decides a resource's allPipelines switch.
        let switch = Key::all_pipelines(
            &cx.org().spec.url,
            &in_project.id,
            &kind_of(type_).to_string(),
            &resource_id,
        );
        let keep: Vec<&Key> = self
            .spec
            .all_pipelines
            .map(|_| &switch)
            .into_iter()
            .collect();
        let before = hold_only(cx, self, before, &keep).await?;
        status.resource_id = Some(resource_id.clone());
        status.resource_name = resource_name
            .or_else(|| self.spec.resource.name.clone())
            .or_else(|| Some(resource_id.clone()));

        let items = set_sync::resolve(
            set_sync::unique(&self.spec.pipelines, PipelineSelector::key),
            &set_sync::previous(self.status.iter().flat_map(|s| &s.pipelines).map(|ps| {
                (
                    ps.pipeline.clone(),
                    ps.id,
                    ps.state == PipelineState::Authorized,
                )
            })),
            |_| true,
            |selector| resolve::pipeline(selector, project, client),
        )
        .await;
        let kind = kind_of(self.spec.resource.type_);
        let current = client
            .pipeline_permissions(project, kind, &resource_id)
            .await
            .map_err(|e| match e.is_not_found() {
                true => Error::not_found(
                    Reason::ResourceNotFound,
                    format!("{kind} {resource_id} not found in project {project:?}: {e}"),
                ),
                false => Error::ado("reading the resource's pipeline permissions", e),
            });
        let authorized_now: Option<BTreeSet<i64>> = current.as_ref().ok().map(|c| {
            c.pipelines
                .iter()
                .filter(|x| x.authorized)
                .map(|x| x.id)
                .collect()
        });
        let ours = authorized_before(&before, &resource_id);
        let plan = set_sync::plan(
            &items,
            authorized_now.as_ref(),
            &ours,
            Mode::Additive,
            |_| None,
        );
        let current = current?;
        let all_now = current.all_pipelines.as_ref().is_some_and(|a| a.authorized);
        let set_all = self.spec.all_pipelines.filter(|want| *want != all_now);

        let changes = !plan.add.is_empty() || !plan.remove.is_empty() || set_all.is_some();
        if cx.observing() {
            observe(cx, &items, &plan, set_all);
        } else if changes {
            let update = permissions_update(self, &resource_id, &plan, set_all);
            client
                .update_pipeline_permissions(project, &update)
                .await
                .map_err(|e| Error::ado("updating the resource's pipeline permissions", e))?;
            self.announce(cx, Reason::Updated, &plan, set_all).await;
        }
        let written = match cx.observing() {
            true => Written::observed(&plan),
            false => Written::all_done(&plan),
        };
        let settled = set_sync::settle(items, &plan, &written, authorized_now.as_ref(), ours);
        let now = Entry {
            target: Some(resource_id.clone()),
            added: settled.ours.iter().map(i64::to_string).collect(),
            all_pipelines_before: before.all_pipelines_before.or(set_all.map(|_| all_now)),
            ..before.clone()
        };
        if !cx.observing() {
            cx.ledger.write(self, &before, &now).await?;
        }
        status.all_pipelines = match cx.observing() {
            true => self.spec.all_pipelines.map(|_| all_now),
            false => self.spec.all_pipelines,
        };
        status.pipelines = settled.statuses();
        status.summary = Some(settled.summary());
        status.authorized = settled.ours.iter().copied().collect();
        set_sync::ready(&settled, &NOUNS, plan.held_back)
    }

    async fn cleanup(&self, cx: &Cx<'_>) -> Result<(), Error> {
        let done = cx.ledger.read(self).await?;
        let Some(resource_id) = &done.target else {
            return Ok(());
        };
        // allPipelines goes back to what it was, only if this object changed it.
        let reset_all = done.all_pipelines_before;
        let plan = set_sync::undo(&authorized_before(&done, resource_id));
        if plan.remove.is_empty() && reset_all.is_none() {
            return Ok(());
        }
        let update = permissions_update(self, resource_id, &plan, reset_all);
        cx.org()
            .client
            .update_pipeline_permissions(&self.spec.project, &update)
            .await
            .map_err(|e| Error::ado("revoking the authorizations this object made", e))?;
        self.announce(cx, Reason::Revoked, &plan, reset_all).await;
        Ok(())
    }
}

/// Under Observe: say what the PATCH would change, and send nothing.
fn observe(cx: &Cx<'_>, items: &[set_sync::Item<i64>], plan: &Plan<i64>, all: Option<bool>) {
    let key = |id: &i64| {
        items
            .iter()
            .find(|i| i.resolved.as_ref().ok() == Some(id))
            .map_or(id.to_string(), |i| i.key.clone())
    };
    for id in &plan.add {
        cx.would(format!("authorize pipeline {}", key(id)));
    }
    for id in &plan.remove {
        cx.would(format!("revoke pipeline {id}"));
    }
    if let Some(all) = all {
        cx.would(format!("set all-pipelines access to {all}"));
    }
}

/// The pipelines this object authorized on the resource, as its ledger records them.
fn authorized_before(done: &Entry, resource_id: &str) -> BTreeSet<i64> {
    if done.target.as_deref() != Some(resource_id) {
        return BTreeSet::new();
    }
    done.added.iter().filter_map(|id| id.parse().ok()).collect()
}

/// One PATCH body: authorize the plan's adds, revoke its removals, set all-pipelines access.
fn permissions_update(
    p: &PipelineResourceAuthorization,
    resource_id: &str,
    plan: &Plan<i64>,
    all_pipelines: Option<bool>,
) -> ResourcePipelinePermissions {
    let authorize = plan.add.iter().map(|id| PipelinePermission::new(*id, true));
    let revoke = plan
        .remove
        .iter()
        .map(|id| PipelinePermission::new(*id, false));
    ResourcePipelinePermissions {
        resource: PermissionResource::new(kind_of(p.spec.resource.type_), resource_id.to_string()),
        pipelines: authorize.chain(revoke).collect(),
        all_pipelines: all_pipelines.map(|authorized| Permission {
            authorized,
            authorized_by: None,
            authorized_on: None,
        }),
    }
}

impl ItemStatus<i64> for PipelineStatus {
    fn of(pipeline: String, id: Option<i64>, problem: Option<&Problem>) -> Self {
        let (reason, message) = set_sync::why(problem);
        let state = if problem.is_none() {
            PipelineState::Authorized
        } else {
            PipelineState::Failed
        };
        PipelineStatus {
            pipeline,
            id,
            state,
            reason,
            message,
        }
    }
}

impl PipelineResourceAuthorization {
    /// An Event naming what the PATCH changed.
    async fn announce(&self, cx: &Cx<'_>, reason: Reason, plan: &Plan<i64>, all: Option<bool>) {
        let mut changes = Vec::new();
        if !plan.add.is_empty() {
            changes.push(format!("authorized pipeline(s) {:?}", plan.add));
        }
        if !plan.remove.is_empty() {
            changes.push(format!("revoked pipeline(s) {:?}", plan.remove));
        }
        if let Some(all) = all {
            changes.push(format!("set all-pipelines access to {all}"));
        }
        cx.publish(self, EventType::Normal, reason, changes.join("; "))
            .await;
    }
}

/// How authorizations name their items in Ready messages.
const NOUNS: Nouns = Nouns {
    in_place: "pipelines authorized",
    field: "status.pipelines",
    several_failed: Reason::PipelinesFailed,
};
