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

/// How often clients of deleted organizations are looked for.
const SWEEP: std::time::Duration = std::time::Duration::from_secs(60);

/// Drop the clients (and their caches, throttles and tokens) of organizations that no longer
/// exist. Organizations carry no finalizer (deleting one must never wait on Azure DevOps), so
/// their deletion is noticed here, against the cache, once a minute.
pub async fn forget_deleted(
    ctx: std::sync::Arc<super::context::Context>,
    shutdown: impl std::future::Future<Output = ()>,
) {
    let sweep = async {
        loop {
            tokio::time::sleep(SWEEP).await;
            for key in ctx.orgs.keys() {
                if !ctx.organization_exists(&key) {
                    tracing::info!(organization = %key, "forgetting the client of a deleted organization");
                    ctx.orgs.forget(&key);
                }
            }
        }
    };
    tokio::select! {
        () = sweep => {}
        () = shutdown => {}
    }
}
