//! Reconciler of `PipelineResourceAuthorization`, on the shared [set-sync core](super::set_sync):
//! resolve the resource and the pipelines, read the resource's permissions once, plan (only what
//! this object authorized is ever revoked), and send one PATCH with every change (authorize,
//! revoke, open access).

mod resolve;

use std::collections::{BTreeSet, HashMap};

use async_trait::async_trait;
use kube::runtime::events::EventType;
use kube::ResourceExt;

use crate::ado::{Permission, PermissionResource, PipelinePermission, ResourcePipelinePermissions};
use crate::api::{
    PipelineResourceAuthorization, PipelineResourceAuthorizationStatus, PipelineSelector,
    PipelineState, PipelineStatus, RevocationPolicy,
};
use crate::reason::Reason;

use super::context::Context;
use super::error::Error;
use super::reconcile::{Ready, Reconciled};
use super::set_sync::{self, Mode, Nouns, Plan, Previous, Settled, Written};
use resolve::kind_of;

const NOUNS: Nouns = Nouns {
    in_place: "pipelines authorized",
    field: "status.pipelines",
    several_failed: Reason::PipelinesFailed,
};

#[async_trait]
impl Reconciled for PipelineResourceAuthorization {
    const FINALIZER: Option<&'static str> = Some("azdo.io/pipeline-authorization");

    async fn converge(
        &self,
        ctx: &Context,
        status: &mut PipelineResourceAuthorizationStatus,
    ) -> Result<Ready, Error> {
        let ns = self.namespace().unwrap_or_default();
        let org = ctx.organization(&self.spec.organization_ref, &ns).await?;
        let client = &org.client;
        let project = self.spec.project.as_str();
        // The resource is immutable in the spec, so once resolved its id is reused.
        let (resource_id, resource_name) =
            match self.status.as_ref().and_then(|s| s.resource_id.clone()) {
                Some(id) => (
                    id,
                    self.status.as_ref().and_then(|s| s.resource_name.clone()),
                ),
                None => resolve::resource(self, client).await?,
            };
        status.resource_id = Some(resource_id.clone());
        status.resource_name = resource_name
            .or_else(|| self.spec.resource.name.clone())
            .or_else(|| Some(resource_id.clone()));

        let items = set_sync::resolve(
            set_sync::unique(&self.spec.pipelines, PipelineSelector::key),
            &previous_pipelines(self),
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
        let ours = authorized_before(self);
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

        if !plan.add.is_empty() || !plan.remove.is_empty() || set_all.is_some() {
            let update = permissions_update(self, &resource_id, &plan, set_all);
            client
                .update_pipeline_permissions(project, &update)
                .await
                .map_err(|e| Error::ado("updating the resource's pipeline permissions", e))?;
            self.announce(ctx, Reason::Updated, &plan, set_all).await;
        }
        let written = Written::all_done(&plan);
        let settled = set_sync::settle(items, &plan, &written, authorized_now.as_ref(), ours);
        record(status, &settled);
        status.all_pipelines = self.spec.all_pipelines;
        set_sync::ready(&settled, &NOUNS, plan.held_back)
    }

    async fn cleanup(&self, ctx: &Context) -> Result<(), Error> {
        if self.spec.deletion_policy == RevocationPolicy::Orphan {
            return Ok(());
        }
        let Some(status) = &self.status else {
            return Ok(());
        };
        let Some(resource_id) = &status.resource_id else {
            return Ok(());
        };
        let reset_all = (status.all_pipelines == Some(true)).then_some(false);
        let plan = set_sync::undo(&authorized_before(self));
        if plan.remove.is_empty() && reset_all.is_none() {
            return Ok(());
        }
        let ns = self.namespace().unwrap_or_default();
        let Some(org) = ctx
            .organization_for_cleanup(&self.spec.organization_ref, &ns, "the authorizations")
            .await?
        else {
            return Ok(());
        };
        let update = permissions_update(self, resource_id, &plan, reset_all);
        org.client
            .update_pipeline_permissions(&self.spec.project, &update)
            .await
            .map_err(|e| Error::ado("revoking the authorizations this object made", e))?;
        self.announce(ctx, Reason::Revoked, &plan, reset_all).await;
        Ok(())
    }
}

/// Each listed pipeline's id at the last reconcile; settled when it was Authorized.
fn previous_pipelines(p: &PipelineResourceAuthorization) -> HashMap<String, Previous<i64>> {
    let Some(status) = &p.status else {
        return HashMap::new();
    };
    status
        .pipelines
        .iter()
        .filter_map(|ps| {
            let settled = ps.state == PipelineState::Authorized;
            Some((
                ps.pipeline.clone(),
                Previous {
                    id: ps.id?,
                    settled,
                },
            ))
        })
        .collect()
}

/// The pipelines this object authorized.
fn authorized_before(p: &PipelineResourceAuthorization) -> BTreeSet<i64> {
    p.status
        .iter()
        .flat_map(|s| s.authorized.iter().copied())
        .collect()
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

/// The status of each listed pipeline, the summary and the ledger.
fn record(status: &mut PipelineResourceAuthorizationStatus, settled: &Settled<i64>) {
    status.authorized = settled.ours.iter().copied().collect();
    status.pipelines = settled
        .items
        .iter()
        .map(|(pipeline, id, problem)| PipelineStatus {
            pipeline: pipeline.clone(),
            id: *id,
            state: match problem {
                None => PipelineState::Authorized,
                Some(_) => PipelineState::Failed,
            },
            reason: problem.as_ref().map(|p| p.reason.as_str().into()),
            message: problem.as_ref().map(|p| p.message.clone()),
        })
        .collect();
    status.summary = Some(format!("{}/{}", settled.in_place(), settled.items.len()));
}

impl PipelineResourceAuthorization {
    /// An Event naming what the PATCH changed.
    async fn announce(&self, ctx: &Context, reason: Reason, plan: &Plan<i64>, all: Option<bool>) {
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
        ctx.publish(self, EventType::Normal, reason, changes.join("; "))
            .await;
    }
}
