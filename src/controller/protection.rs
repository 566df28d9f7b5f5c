//! Protected groups, decided on the resolved identity: a group is protected when its name is on
//! the organization's list ([`OrgSpec::is_protected`]: `protectedGroups`, or the built-in
//! privileged groups by default) or when it is a member, directly or through any depth of
//! nesting, of such a group (read from Azure DevOps with [`AdoClient::ancestry`], cached
//! briefly). Callers pass the group's descriptor, whatever form the spec named it in (groupRef,
//! principal name, descriptor, Entra object id or mail); its name is read from Azure DevOps
//! too, so a stale or forged name in a status cannot hide it. Every failure to read is an
//! error, never a pass.

use std::fmt;

use kube::runtime::events::EventType;
use kube::Resource;

use crate::ado::{
    AdoClient, AdoError, Ancestry, GraphGroup, Protected, ProtectionPolicy, ANCESTRY_TTL,
    MAX_CONTAINERS, MAX_DEPTH,
};
use crate::api::IMPLICIT_MEMBERSHIP_GROUPS;
use crate::reason::Reason;

use super::error::{Error, Retry};
use super::object_context::Cx;
use super::organization_registry::OrgSpec;

/// Why a group is protected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Protection {
    /// Its own name is on the protected list.
    Listed { name: String },
    /// It is a member of the protected group `protected`, through `through` (the groups between
    /// them, nearest first; empty for a direct member).
    Nested {
        protected: String,
        through: Vec<String>,
    },
    /// It sits under more groups than the walk follows: treated as protected.
    TooDeep,
}

impl fmt::Display for Protection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Protection::Listed { name } => write!(f, "{name} is a protected group"),
            Protection::Nested { protected, through } if through.is_empty() => {
                write!(f, "it is a member of {protected}")
            }
            Protection::Nested { protected, through } => write!(
                f,
                "it is a member of {protected} through {}",
                through.join(", then ")
            ),
            Protection::TooDeep => write!(
                f,
                "it is nested in more than {MAX_DEPTH} levels or {MAX_CONTAINERS} groups, so the operator cannot tell that no protected group is above it"
            ),
        }
    }
}

/// Whether the organization protects nothing (an explicitly empty list): no call is needed.
fn protects_nothing(org: &OrgSpec) -> bool {
    org.protected_groups.as_ref().is_some_and(Vec::is_empty)
}

/// Why the group `descriptor` is protected in `org`, or `None`. `principal_name` is the name the
/// caller resolved (checked too); the group's own name and every group above it are read from
/// Azure DevOps. An error reading them is returned: the caller must not act.
///
/// Judged first from the organization's protection snapshot ([`AdoClient::protected_set`]:
/// the protected groups and everything nested in them, read top-down and shared by every
/// object for [`crate::ado::ANCESTRY_TTL`]); a group the snapshot does not know (created since)
/// is judged by walking up from it ([`AdoClient::ancestry`]).
pub async fn protection(
    org: &OrgSpec,
    client: &AdoClient,
    descriptor: &str,
    principal_name: Option<&str>,
) -> Result<Option<Protection>, AdoError> {
    if protects_nothing(org) {
        return Ok(None);
    }
    if let Some(name) = principal_name.filter(|n| org.is_protected(n)) {
        return Ok(Some(Protection::Listed {
            name: name.to_string(),
        }));
    }
    let mut snapshot = snapshot_younger_than(org, client, ANCESTRY_TTL).await?;
    if snapshot.judge(descriptor).is_none() {
        // Created by this operator less than a snapshot's age ago, in no group: judged as a
        // snapshot of that moment would judge it, by its name only.
        if let Some(name) = client.recently_created_group(descriptor) {
            return Ok(org
                .is_protected(&name)
                .then_some(Protection::Listed { name }));
        }
        // Most likely created since the snapshot: a newer one knows it (one read shared by every
        // group created meanwhile, instead of a walk up from each).
        snapshot = snapshot_younger_than(org, client, SNAPSHOT_REFRESH_AGE).await?;
    }
    if let Some(judged) = snapshot.judge(descriptor) {
        return Ok(judged.map(Protection::from));
    }
    let own = client.group_principal_name(descriptor).await?;
    if let Some(name) = own.filter(|n| org.is_protected(n)) {
        return Ok(Some(Protection::Listed { name }));
    }
    let ancestry = client.ancestry(descriptor).await?;
    Ok(judge(org, &ancestry))
}

/// The organization's protection snapshot under its policy (cached for [`ANCESTRY_TTL`]).
async fn snapshot_younger_than(
    org: &OrgSpec,
    client: &AdoClient,
    max_age: std::time::Duration,
) -> Result<std::sync::Arc<crate::ado::ProtectedSet>, AdoError> {
    let key = policy_key(org);
    let listed = |n: &str| org.is_protected(n);
    let source = |n: &str| org.is_protected(n) && !implicit_membership(n);
    let policy = ProtectionPolicy {
        key: &key,
        listed: &listed,
        source: &source,
    };
    client.protected_set_younger_than(&policy, max_age).await
}

/// Read the organization's protection snapshot unless a fresh one is cached: it also names
/// every group, so a reconcile that is about to judge a group's protection by its name learns
/// the name from it instead of one read per group. Nothing is read when the organization
/// protects nothing.
pub async fn warm(org: &OrgSpec, client: &AdoClient) -> Result<(), AdoError> {
    if !protects_nothing(org) {
        snapshot_younger_than(org, client, ANCESTRY_TTL).await?;
    }
    Ok(())
}

/// A group the protection snapshot does not know makes it read again when older than this.
const SNAPSHOT_REFRESH_AGE: std::time::Duration = std::time::Duration::from_secs(2);

/// Names the organization's protection policy, so a snapshot built for another list of
/// protected groups is not reused.
fn policy_key(org: &OrgSpec) -> String {
    match &org.protected_groups {
        None => "default".to_string(),
        Some(list) => format!("listed:{}", list.join("\n")),
    }
}

impl From<&Protected> for Protection {
    fn from(why: &Protected) -> Self {
        match why {
            Protected::Listed { name } => Protection::Listed { name: name.clone() },
            Protected::Nested { protected, through } => Protection::Nested {
                protected: protected.clone(),
                through: through.clone(),
            },
        }
    }
}

fn implicit_membership(principal_name: &str) -> bool {
    let bare = principal_name
        .rsplit('\\')
        .next()
        .unwrap_or(principal_name)
        .trim();
    IMPLICIT_MEMBERSHIP_GROUPS
        .iter()
        .any(|g| g.eq_ignore_ascii_case(bare))
}

/// The nearest protected group above the subject, or [`Protection::TooDeep`] when the walk was
/// cut short without finding one.
pub fn judge(org: &OrgSpec, ancestry: &Ancestry) -> Option<Protection> {
    let hit = ancestry.containers.iter().find(|a| {
        a.principal_name
            .as_deref()
            .is_some_and(|n| org.is_protected(n) && !implicit_membership(n))
    });
    match hit {
        Some(hit) => {
            let chain = ancestry.chain(&hit.descriptor);
            let through = chain[..chain.len().saturating_sub(1)]
                .iter()
                .map(|a| {
                    a.principal_name
                        .clone()
                        .unwrap_or_else(|| a.descriptor.clone())
                })
                .collect();
            Some(Protection::Nested {
                protected: hit.principal_name.clone().unwrap_or_default(),
                through,
            })
        }
        None if ancestry.truncated => Some(Protection::TooDeep),
        None => None,
    }
}

/// `Err(ProtectedGroup)` when the group is protected, naming why and what is refused
/// (`refused`, e.g. "its members cannot be managed here"); an ancestry read that fails is an
/// error as well (fail closed).
pub async fn refuse_protected(
    org: &OrgSpec,
    client: &AdoClient,
    descriptor: &str,
    principal_name: Option<&str>,
    refused: &str,
) -> Result<(), Error> {
    let found = protection(org, client, descriptor, principal_name)
        .await
        .map_err(|e| Error::ado("checking whether the group is protected", e))?;
    match found {
        None => Ok(()),
        Some(why) => {
            // A listed name changes only with the organization's spec; nesting can change in
            // Azure DevOps at any time.
            let retry = match why {
                Protection::Listed { .. } => Retry::AwaitChange,
                _ => Retry::Resync,
            };
            let group = principal_name.unwrap_or(descriptor);
            Err(Error::new(
                Reason::ProtectedGroup,
                format!("{group} is protected in {}: {why}; {refused}", org.key),
                retry,
            ))
        }
    }
}

/// [`refuse_protected`] for a group a `DevOpsGroup` resolved to (found, adopted, created or
/// materialized), before anything is written to it or recorded as managed.
pub async fn refuse_group(cx: &Cx<'_>, group: &GraphGroup) -> Result<(), Error> {
    let org = cx.org();
    let name = group.principal_name.as_deref();
    let refused = "it cannot be adopted, renamed or deleted here";
    refuse_protected(&org.spec, &org.client, &group.descriptor, name, refused).await
}

/// For cleanup: whether the group is protected now, in which case the caller must leave it
/// alone (an Event and a log say so). A failed read is an error (the cleanup is retried).
pub async fn leave_protected<K>(
    cx: &Cx<'_>,
    obj: &K,
    descriptor: &str,
    principal_name: Option<&str>,
    left: &str,
) -> Result<bool, Error>
where
    K: Resource<DynamicType = ()>,
{
    let org = cx.org();
    let found = protection(&org.spec, &org.client, descriptor, principal_name)
        .await
        .map_err(|e| Error::ado("checking whether the group is protected", e))?;
    let Some(why) = found else {
        return Ok(false);
    };
    let group = principal_name.unwrap_or(descriptor);
    let note = format!("{group} is protected in {}: {why}; {left}", org.spec.key);
    tracing::warn!(group, %why, "protected group left alone at cleanup");
    cx.publish(obj, EventType::Warning, Reason::ProtectedGroup, note)
        .await;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ado::Ancestor;
    use crate::api::ClusterDevOpsOrganization;

    fn org(list: Option<&[&str]>) -> OrgSpec {
        let mut spec = serde_json::json!({"url": "https://dev.azure.com/contoso", "auth": {}});
        if let Some(list) = list {
            spec["protectedGroups"] = serde_json::json!(list);
        }
        let org: ClusterDevOpsOrganization = serde_json::from_value(serde_json::json!({
            "apiVersion": "azdo.io/v1alpha1",
            "kind": "ClusterDevOpsOrganization",
            "metadata": {"name": "contoso"},
            "spec": spec,
        }))
        .unwrap();
        OrgSpec::from_cluster(&org)
    }

    fn up(descriptor: &str, name: Option<&str>, depth: usize, via: &str) -> Ancestor {
        Ancestor {
            descriptor: descriptor.to_string(),
            principal_name: name.map(str::to_string),
            depth,
            via: via.to_string(),
        }
    }

    fn ancestry(containers: Vec<Ancestor>, truncated: bool) -> Ancestry {
        Ancestry {
            subject: "s".to_string(),
            containers,
            truncated,
        }
    }

    #[test]
    fn the_default_list_matches_with_or_without_a_scope() {
        let org = org(None);
        for name in [
            "Project Collection Administrators",
            "[contoso]\\project collection build administrators",
            "[contoso]\\Project Collection Service Accounts",
            "[contoso]\\Project Collection Proxy Service Accounts",
            "[contoso]\\Project Collection Test Service Accounts",
            "[contoso]\\Project Collection Valid Users",
            "[contoso]\\Security Service Group",
            "[Storefront]\\Project Administrators",
            "[Storefront]\\BUILD ADMINISTRATORS",
            "[Storefront]\\Release Administrators",
            "[Storefront]\\Endpoint Administrators",
            "[Storefront]\\Endpoint Creators",
            "[Storefront]\\Project Valid Users",
            "  Security Service Group ",
        ] {
            assert!(org.is_protected(name), "{name}");
        }
        for name in [
            "[Storefront]\\Contributors",
            "[Storefront]\\Readers",
            "[contoso]\\Platform Admins",
            "Project Collection Administrators Helpers",
        ] {
            assert!(!org.is_protected(name), "{name}");
        }
    }

    #[test]
    fn a_group_below_a_protected_one_is_protected_with_its_chain() {
        let org = org(None);
        let walk = ancestry(
            vec![
                up("a", Some("[contoso]\\Team"), 1, "s"),
                up("x", Some("[contoso]\\Unrelated"), 1, "s"),
                up("b", Some("[contoso]\\Middle"), 2, "a"),
                up(
                    "p",
                    Some("[contoso]\\Project Collection Administrators"),
                    3,
                    "b",
                ),
            ],
            false,
        );
        let why = judge(&org, &walk).unwrap();
        assert_eq!(
            why,
            Protection::Nested {
                protected: "[contoso]\\Project Collection Administrators".to_string(),
                through: vec![
                    "[contoso]\\Team".to_string(),
                    "[contoso]\\Middle".to_string()
                ],
            }
        );
        assert_eq!(
            why.to_string(),
            "it is a member of [contoso]\\Project Collection Administrators through [contoso]\\Team, then [contoso]\\Middle"
        );
        let direct = ancestry(
            vec![up("p", Some("[Platform]\\Project Administrators"), 1, "s")],
            false,
        );
        assert_eq!(
            judge(&org, &direct).unwrap().to_string(),
            "it is a member of [Platform]\\Project Administrators"
        );
    }

    #[test]
    fn nothing_protected_above_means_not_protected_unless_the_walk_was_cut() {
        let org = org(None);
        let plain = vec![
            up("a", Some("[contoso]\\Team"), 1, "s"),
            up("gone", None, 2, "a"),
        ];
        assert_eq!(judge(&org, &ancestry(plain.clone(), false)), None);
        assert_eq!(
            judge(&org, &ancestry(plain, true)),
            Some(Protection::TooDeep)
        );
        assert!(Protection::TooDeep.to_string().contains("cannot tell"));
    }

    #[test]
    fn implicit_membership_groups_protect_themselves_but_not_their_members() {
        let org = org(None);
        assert!(org.is_protected("[contoso]\\Project Collection Valid Users"));
        let walk = ancestry(
            vec![
                up(
                    "v",
                    Some("[contoso]\\Project Collection Valid Users"),
                    1,
                    "s",
                ),
                up("pv", Some("[Storefront]\\Project Valid Users"), 1, "s"),
                up("ssg", Some("[contoso]\\Security Service Group"), 1, "s"),
            ],
            false,
        );
        assert_eq!(judge(&org, &walk), None);
    }

    #[test]
    fn a_custom_list_replaces_the_default_and_an_empty_one_protects_nothing() {
        let custom = org(Some(&["[contoso]\\Release Managers"]));
        let walk = ancestry(
            vec![
                up(
                    "p",
                    Some("[contoso]\\Project Collection Administrators"),
                    1,
                    "s",
                ),
                up("r", Some("[contoso]\\release managers"), 2, "p"),
            ],
            false,
        );
        assert_eq!(
            judge(&custom, &walk).unwrap().to_string(),
            "it is a member of [contoso]\\release managers through [contoso]\\Project Collection Administrators"
        );
        assert!(protects_nothing(&org(Some(&[]))));
        assert!(!protects_nothing(&custom));
        assert!(!protects_nothing(&org(None)));
        assert_eq!(
            Protection::Listed {
                name: "[contoso]\\Project Collection Administrators".to_string()
            }
            .to_string(),
            "[contoso]\\Project Collection Administrators is a protected group"
        );
    }
}
