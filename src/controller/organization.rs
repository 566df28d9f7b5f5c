//! Reconciler of `ClusterDevOpsOrganization` and `DevOpsOrganization`: build the authenticated
//! client (through the [`super::organization_registry`], which caches it for every other kind),
//! check access with one cheap read, and report it.

use std::sync::Arc;

use async_trait::async_trait;

use crate::api::{ClusterDevOpsOrganization, CommonStatus, DevOpsOrganization, OrganizationStatus};

use super::context::Context;
use super::error::Error;
use super::organization_registry::OrgSpec;
use super::reconcile::{Outcome, Ready, Reconciled};

async fn check(spec: OrgSpec, ctx: &Context) -> Outcome<OrganizationStatus> {
    let status = OrganizationStatus {
        common: CommonStatus::default(),
        auth_method: Some(spec.auth.method().to_string()),
    };
    let result = async {
        let handle = ctx.orgs.handle(&spec, true).await?;
        if let Err(err) = handle.client.check_access().await {
            if matches!(err.reason(), "AuthenticationFailed") {
                ctx.orgs.forget(&spec.key);
            }
            return Err(Error::ado(&format!("checking access to {}", spec.url), err));
        }
        Ok(Ready::new(
            "Connected",
            format!("authenticated to {} with {}", spec.url, spec.auth.method()),
        ))
    }
    .await;
    Outcome { status, result }
}

#[async_trait]
impl Reconciled for ClusterDevOpsOrganization {
    const KIND: &'static str = "ClusterDevOpsOrganization";
    const FINALIZER: Option<&'static str> = None;

    fn api(kube: kube::Client, _namespace: Option<&str>) -> kube::Api<Self> {
        kube::Api::all(kube)
    }

    async fn apply(self: Arc<Self>, ctx: &Context) -> Outcome<Self::Status> {
        check(OrgSpec::from_cluster(&self), ctx).await
    }

    async fn cleanup(self: Arc<Self>, ctx: &Context) -> Result<(), Error> {
        ctx.orgs.forget(&OrgSpec::from_cluster(&self).key);
        Ok(())
    }
}

#[async_trait]
impl Reconciled for DevOpsOrganization {
    const KIND: &'static str = "DevOpsOrganization";
    const FINALIZER: Option<&'static str> = None;

    fn api(kube: kube::Client, namespace: Option<&str>) -> kube::Api<Self> {
        kube::Api::namespaced(kube, namespace.unwrap_or("default"))
    }

    async fn apply(self: Arc<Self>, ctx: &Context) -> Outcome<Self::Status> {
        check(OrgSpec::from_namespaced(&self), ctx).await
    }

    async fn cleanup(self: Arc<Self>, ctx: &Context) -> Result<(), Error> {
        ctx.orgs.forget(&OrgSpec::from_namespaced(&self).key);
        Ok(())
    }
}
