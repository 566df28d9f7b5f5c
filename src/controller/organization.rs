//! Reconciler of `ClusterDevOpsOrganization` and `DevOpsOrganization`: build the authenticated
//! client (through the [`super::organization_registry`], which caches it for every other kind),
//! check access with one cheap read, and report it.

use async_trait::async_trait;

use crate::api::{ClusterDevOpsOrganization, DevOpsOrganization, OrganizationStatus};
use crate::reason::Reason;

use super::error::Error;
use super::object_context::Cx;
use super::organization_registry::OrgSpec;
use super::reconcile::{Ready, Reconciled};

#[async_trait]
impl Reconciled for ClusterDevOpsOrganization {
    async fn converge(&self, cx: &Cx<'_>, status: &mut Self::Status) -> Result<Ready, Error> {
        check(OrgSpec::from_cluster(self), cx, status).await
    }

    async fn cleanup(&self, cx: &Cx<'_>) -> Result<(), Error> {
        cx.orgs.forget(&OrgSpec::from_cluster(self).key);
        Ok(())
    }
}

#[async_trait]
impl Reconciled for DevOpsOrganization {
    async fn converge(&self, cx: &Cx<'_>, status: &mut Self::Status) -> Result<Ready, Error> {
        check(OrgSpec::from_namespaced(self), cx, status).await
    }

    async fn cleanup(&self, cx: &Cx<'_>) -> Result<(), Error> {
        cx.orgs.forget(&OrgSpec::from_namespaced(self).key);
        Ok(())
    }
}

async fn check(
    spec: OrgSpec,
    ctx: &Cx<'_>,
    status: &mut OrganizationStatus,
) -> Result<Ready, Error> {
    status.auth_method = Some(spec.auth.method().to_string());
    let handle = ctx.orgs.handle(&spec, true).await?;
    if let Err(err) = handle.client.check_access().await {
        if err.reason() == Reason::AuthenticationFailed {
            ctx.orgs.forget(&spec.key);
        }
        return Err(Error::ado(&format!("checking access to {}", spec.url), err));
    }
    Ok(Ready::new(
        Reason::Connected,
        format!("authenticated to {} with {}", spec.url, spec.auth.method()),
    ))
}
