//! What one reconcile of one object works with: the shared [`Context`] (reached through
//! `Deref`), the object's namespace, and, for the kinds that work in an organization, that
//! organization, resolved and checked before the kind's own code runs.

use std::ops::Deref;
use std::sync::{Arc, Mutex};

use kube::runtime::events::EventType;
use kube::{Resource, ResourceExt};

use super::context::Context;
use super::error::Error;
use super::grants::{Granted, Project};
use super::organization_registry::OrgHandle;
use super::reconcile::Reconciled;
use crate::api::ManagementPolicy;
use crate::reason::Reason;

/// The context of one reconcile of one object.
pub struct Cx<'a> {
    ctx: &'a Context,
    /// The object's namespace (empty for cluster-scoped objects).
    pub namespace: String,
    org: Option<(Arc<OrgHandle>, Granted)>,
    /// Observe: read, report what would change, write nothing (see [`Cx::observing`]).
    observe: bool,
    /// Under Observe, the changes `Manage` would make, in order.
    drift: Mutex<Vec<String>>,
    /// Whether this reconcile published an Event of its own (an action such as `Created`).
    published: std::sync::atomic::AtomicBool,
}

impl<'a> Cx<'a> {
    /// For converging `obj`: its organization must exist, allow the namespace and be Ready.
    pub async fn for_apply<K: Reconciled>(obj: &K, ctx: &'a Context) -> Result<Self, Error> {
        let namespace = obj.namespace().unwrap_or_default();
        let org = match obj.organization_ref() {
            Some(reference) => Some(ctx.organization(reference, &namespace).await?),
            None => None,
        };
        Ok(Self {
            ctx,
            namespace,
            org,
            observe: observes(obj, ctx),
            drift: Mutex::default(),
            published: Default::default(),
        })
    }

    /// For undoing what `obj` did: `None` when cleanup must leave Azure DevOps alone (see
    /// [`Context::organization_for_cleanup`]).
    pub async fn for_cleanup<K: Reconciled>(
        obj: &K,
        ctx: &'a Context,
    ) -> Result<Option<Self>, Error> {
        let namespace = obj.namespace().unwrap_or_default();
        let org = match obj.organization_ref() {
            Some(reference) => {
                let what = format!("what this {} did", K::kind(&()));
                match ctx
                    .organization_for_cleanup(reference, &namespace, &what)
                    .await?
                {
                    Some(org) => Some(org),
                    None => return Ok(None),
                }
            }
            None => None,
        };
        Ok(Some(Self {
            ctx,
            namespace,
            org,
            observe: observes(obj, ctx),
            drift: Mutex::default(),
            published: Default::default(),
        }))
    }

    /// Whether this reconcile only observes: the kind reads what it would read, writes nothing
    /// to Azure DevOps (the client refuses writes too), takes no claim, records nothing as done
    /// in the ledger, and says each change `Manage` would make with [`Cx::would`].
    pub fn observing(&self) -> bool {
        self.observe
    }

    /// Under Observe: one change `Manage` would make (`add member alice@contoso.com`).
    pub fn would(&self, change: impl Into<String>) {
        self.drift
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(change.into());
    }

    /// Publish an Event about `obj`, and remember that this reconcile said what it did (see
    /// [`Cx::published`]).
    pub async fn publish<K>(&self, obj: &K, type_: EventType, reason: Reason, note: String)
    where
        K: Resource<DynamicType = ()>,
    {
        self.published
            .store(true, std::sync::atomic::Ordering::Relaxed);
        self.ctx.publish(obj, type_, reason, note).await;
    }

    /// Whether an Event was published through [`Cx::publish`].
    pub fn published(&self) -> bool {
        self.published.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// The changes said with [`Cx::would`].
    pub fn drift(&self) -> Vec<String> {
        self.drift.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// The object's organization. Only kinds that name one (`organization_ref`) call this.
    pub fn org(&self) -> &OrgHandle {
        &self.org_and_grants().0
    }

    /// A project of the object's organization, by name or id, as Azure DevOps knows it.
    pub async fn project(&self, name_or_id: &str) -> Result<Project, Error> {
        let found =
            self.org()
                .client
                .project(name_or_id)
                .await
                .map_err(|e| match e.is_not_found() {
                    true => Error::not_found(
                        Reason::ProjectNotFound,
                        format!("project {name_or_id:?} does not exist"),
                    ),
                    false => Error::ado(&format!("looking up project {name_or_id:?}"), e),
                })?;
        Ok(Project {
            id: found.id,
            name: found.name,
        })
    }

    /// Whether the scope an existing group lives in (read from its principal name, `[Scope]\Name`,
    /// as Azure DevOps reports it, never from a spec or status) is granted: its project, or
    /// organization scope for organization-level and Entra groups.
    pub async fn group_scope_granted(&self, principal_name: &str) -> Result<(), Error> {
        let scope = principal_name
            .strip_prefix('[')
            .and_then(|rest| rest.split_once("]\\"))
            .map(|(scope, _)| scope)
            .ok_or_else(|| {
                Error::new(
                    Reason::NotAllowed,
                    format!("{principal_name:?} is not a group principal name ([Scope]\\Name)"),
                    crate::controller::error::Retry::Resync,
                )
            })?;
        let organization = self.org().spec.organization_name()?;
        if scope.eq_ignore_ascii_case(&organization)
            || scope.eq_ignore_ascii_case("TEAM FOUNDATION")
        {
            return self.granted().organization_scope();
        }
        self.granted().project(&self.project(scope).await?)
    }

    /// What the object's namespace was granted in its organization: asked before every write.
    pub fn granted(&self) -> &Granted {
        &self.org_and_grants().1
    }

    fn org_and_grants(&self) -> &(Arc<OrgHandle>, Granted) {
        self.org
            .as_ref()
            .expect("only kinds with an organizationRef ask for their organization")
    }
}

/// Whether `obj` is observed: its `managementPolicy`, or the operator-wide `--observe`.
pub fn observes<K: Reconciled>(obj: &K, ctx: &Context) -> bool {
    ctx.settings.observe || obj.management_policy() == ManagementPolicy::Observe
}

impl Deref for Cx<'_> {
    type Target = Context;

    fn deref(&self) -> &Context {
        self.ctx
    }
}
