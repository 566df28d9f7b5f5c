//! A role assignment's resource, roles and members, resolved to what the security roles API
//! names: the scope id, the composed resource id, identity ids and role names.

use crate::ado::{ResourceKind, RoleAssignment, RoleScope};
use crate::api::{DevOpsRoleAssignment, Member, RoleResourceType};
use crate::controller::error::{Error, Retry};
use crate::controller::grants::Project;
use crate::controller::membership;
use crate::controller::object_context::Cx;
use crate::controller::set_sync::Problem;
use crate::reason::Reason;

/// The name the project's Library goes by (in grants and status).
pub const LIBRARY: &str = "Library";

/// The stand-in identity, under Observe, of a listed member Observe cannot name without
/// materializing it (a write): the memberships' own.
pub use crate::controller::membership::resolve::ABSENT;

/// One explicit assignment: an identity id and a role, both lower-cased (Azure DevOps compares
/// both case-insensitively).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Held {
    pub identity: String,
    pub role: String,
}

impl Held {
    pub fn new(identity: &str, role: &str) -> Self {
        Self {
            identity: identity.to_lowercase(),
            role: role.to_lowercase(),
        }
    }

    /// `identity=role`, as the ledger records it.
    pub fn recorded(&self) -> String {
        format!("{}={}", self.identity, self.role)
    }

    pub fn parse(text: &str) -> Option<Self> {
        let (identity, role) = text.split_once('=')?;
        Some(Self::new(identity, role))
    }
}

/// The resolved resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub scope: RoleScope,
    /// The API's resource id, e.g. `{projectId}_{environmentId}`.
    pub resource_id: String,
    /// The resource's own id (`0` for the Library).
    pub own_id: String,
    pub name: String,
}

impl Target {
    /// As the ledger records it: `scope|resourceId|ownId|name`.
    pub fn recorded(&self) -> String {
        format!(
            "{}|{}|{}|{}",
            self.scope.scope_id(),
            self.resource_id,
            self.own_id,
            self.name
        )
    }

    /// A recorded target, if it is one of `scope`.
    pub fn parse(text: &str, scope: RoleScope) -> Option<Self> {
        let mut parts = text.splitn(4, '|');
        let (s, resource_id, own_id, name) =
            (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
        (s == scope.scope_id()).then(|| Self {
            scope,
            resource_id: resource_id.to_string(),
            own_id: own_id.to_string(),
            name: name.to_string(),
        })
    }
}

pub fn scope_of(t: RoleResourceType) -> RoleScope {
    match t {
        RoleResourceType::Environment => RoleScope::Environment,
        RoleResourceType::Endpoint => RoleScope::Endpoint,
        RoleResourceType::Queue => RoleScope::Queue,
        RoleResourceType::Agentpool => RoleScope::AgentPool,
        RoleResourceType::Variablegroup => RoleScope::VariableGroup,
        RoleResourceType::Securefile => RoleScope::SecureFile,
        RoleResourceType::Library => RoleScope::Library,
    }
}

fn kind_of(t: RoleResourceType) -> Option<ResourceKind> {
    Some(match t {
        RoleResourceType::Environment => ResourceKind::Environment,
        RoleResourceType::Endpoint => ResourceKind::Endpoint,
        RoleResourceType::Queue => ResourceKind::Queue,
        RoleResourceType::Agentpool => ResourceKind::AgentPool,
        RoleResourceType::Variablegroup => ResourceKind::VariableGroup,
        RoleResourceType::Securefile => ResourceKind::SecureFile,
        RoleResourceType::Library => return None,
    })
}

/// Look the resource up (by name, or confirm its id exists): 1 call (0 for the Library).
pub async fn resource(
    r: &DevOpsRoleAssignment,
    cx: &Cx<'_>,
    project: Option<&Project>,
) -> Result<Target, Error> {
    let spec = &r.spec.resource;
    let scope = scope_of(spec.type_);
    let project_id = project.map(|p| p.id.as_str());
    let compose = |own_id: &str| {
        scope
            .resource_id(project_id, own_id)
            .map_err(|e| Error::invalid(e.to_string()))
    };
    let Some(kind) = kind_of(spec.type_) else {
        return Ok(Target {
            scope,
            resource_id: compose("0")?,
            own_id: "0".into(),
            name: LIBRARY.into(),
        });
    };
    let project_key = project.map(|p| p.id.as_str()).unwrap_or_default();
    let where_ = project.map_or_else(
        || "in the organization".to_string(),
        |p| format!("in project {:?}", p.name),
    );
    let client = &cx.org().client;
    let what = spec
        .name
        .as_deref()
        .or(spec.id.as_deref())
        .unwrap_or_default();
    let not_found = || {
        Error::not_found(
            Reason::ResourceNotFound,
            format!("{} {what:?} not found {where_}", spec.type_.as_str()),
        )
    };
    let found = match (&spec.id, &spec.name) {
        (Some(id), _) => client
            .resource_by_id(project_key, kind, id)
            .await
            .map_err(|e| Error::ado(&format!("looking up {kind} {id}"), e))?
            .into_iter()
            .collect::<Vec<_>>(),
        (None, Some(name)) => client
            .find_resource(project_key, kind, name)
            .await
            .map_err(|e| match e.is_not_found() {
                true => not_found(),
                false => Error::ado(&format!("looking up {kind} {name:?}"), e),
            })?,
        (None, None) => return Err(Error::invalid("resource must set id or name")),
    };
    match found.as_slice() {
        [] => Err(not_found()),
        [one] => Ok(Target {
            scope,
            resource_id: compose(&one.id)?,
            own_id: one.id.clone(),
            name: one.name.clone(),
        }),
        many => Err(Error::new(
            Reason::AmbiguousName,
            format!("{} {kind}s are named {what:?}; use resource.id", many.len()),
            Retry::AwaitChange,
        )),
    }
}

/// One listed (role, member): the role as the scope defines it (lower-cased) and the member's
/// identity id (its storage key, looked up from its descriptor), or why not.
pub async fn assignment(
    cx: &Cx<'_>,
    scope: RoleScope,
    role: &str,
    member: &Member,
    current: &[RoleAssignment],
) -> Result<Held, Problem> {
    let client = &cx.org().client;
    let defined = client.role_named(scope, role).await.map_err(|e| {
        Problem::from_ado(
            &format!("reading the roles of {scope}"),
            Reason::RoleNotFound,
            e,
        )
    })?;
    let Some(defined) = defined else {
        let names: Vec<String> = client
            .role_definitions(scope)
            .await
            .map(|roles| roles.into_iter().map(|r| r.name).collect())
            .unwrap_or_default();
        return Err(Problem::failed(
            Reason::RoleNotFound,
            format!(
                "{scope} defines no role {role:?} (it has {})",
                names.join(", ")
            ),
        ));
    };
    let descriptor = match (cx.observing(), &member.user) {
        // Under Observe nothing is materialized (a write): a user is matched by name among
        // the identities the resource's assignments show; one not there is for Manage to add.
        (true, Some(upn)) => {
            let found = current.iter().find(|a| {
                a.identity
                    .unique_name
                    .as_deref()
                    .is_some_and(|n| n.eq_ignore_ascii_case(upn))
            });
            return Ok(match found {
                Some(a) => Held::new(&a.identity.id, &defined.name),
                None => Held::new(&format!("{ABSENT}{}", member.key()), &defined.name),
            });
        }
        (true, None)
            if member.entra_user.is_some()
                || member.entra_group.is_some()
                || member.service_principal.is_some() =>
        {
            return Ok(Held::new(
                &format!("{ABSENT}{}", member.key()),
                &defined.name,
            ));
        }
        _ => membership::resolve_member(member, cx).await?,
    };
    let identity = client.storage_key(&descriptor).await.map_err(|e| {
        Problem::from_ado(
            &format!("reading the identity id of {descriptor}"),
            Reason::NotFound,
            e,
        )
    })?;
    Ok(Held::new(&identity, &defined.name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recorded_forms_round_trip() {
        let held = Held::new("CBB1D8AC-CEE5-47C1-878A-E75C0E94AC89", "Service Account");
        assert_eq!(Held::parse(&held.recorded()), Some(held));
        assert_eq!(Held::parse("no-role"), None);
        let target = Target {
            scope: RoleScope::VariableGroup,
            resource_id: "p$4".into(),
            own_id: "4".into(),
            name: "shared | secrets".into(),
        };
        assert_eq!(
            Target::parse(&target.recorded(), RoleScope::VariableGroup),
            Some(target.clone())
        );
        assert_eq!(Target::parse(&target.recorded(), RoleScope::Library), None);
    }
}
