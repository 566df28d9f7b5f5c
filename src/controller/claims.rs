//! Ownership claims: who, cluster-wide, manages a group, an Exclusive membership's container or
//! a resource's `allPipelines` switch. A claim is keyed by the resolved Azure DevOps identity
//! (organization URL + descriptor, project id, resource id), never by the spelling in a spec,
//! so naming a project by id or an Entra group by mail claims the same thing.
//!
//! A claim is a ConfigMap in the operator's namespace (`azdo-claim-<sha256 of the key>`),
//! created through the apiserver: the create is the lock. Two objects racing for one identity
//! both POST; exactly one gets 201, the other 409 AlreadyExists and reports `Conflict` before it
//! writes anything to Azure DevOps. A claim whose owner no longer exists (deleted without its
//! cleanup, or recreated with a new uid) is taken over: deleted with a precondition on the
//! claim's uid and resourceVersion, so two takers cannot both win.
//!
//! Which claims an object holds is recorded in its ledger entry: a claim the ledger lists costs
//! no apiserver call at resync, claims the object no longer needs are released when it
//! converges, and all of them when it is deleted.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{DeleteParams, ObjectMeta, PostParams, Preconditions};
use kube::{Api, Resource, ResourceExt};
use sha2::{Digest, Sha256};

use super::error::{Error, Retry};
use super::ledger::Entry;
use super::object_context::Cx;
use crate::reason::Reason;

/// What is claimed: a resolved Azure DevOps identity in one organization.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Key(String);

impl Key {
    /// A group, by descriptor.
    pub fn group(org_url: &str, descriptor: &str) -> Self {
        Self::of("group", org_url, &[descriptor])
    }

    /// A group name in a scope (a project id, or the organization): taken before a group is
    /// looked up or created, so two objects cannot both create it. Group names are
    /// case-insensitive in Azure DevOps.
    pub fn group_name(org_url: &str, project_id: Option<&str>, display_name: &str) -> Self {
        let scope = project_id.unwrap_or("organization").to_lowercase();
        Self::of(
            "group-name",
            org_url,
            &[&scope, &display_name.trim().to_lowercase()],
        )
    }

    /// The members of a group, managed in Exclusive mode.
    pub fn exclusive_members(org_url: &str, descriptor: &str) -> Self {
        Self::of("exclusive-members", org_url, &[descriptor])
    }

    /// The explicit security role assignments of a resource, managed in Exclusive mode: by
    /// scope id and the API's resource id (which holds the project id).
    pub fn exclusive_roles(org_url: &str, scope_id: &str, resource_id: &str) -> Self {
        Self::of(
            "exclusive-roles",
            org_url,
            &[&scope_id.to_lowercase(), &resource_id.to_lowercase()],
        )
    }

    /// A pipeline resource's `allPipelines` switch.
    pub fn all_pipelines(
        org_url: &str,
        project_id: &str,
        resource_type: &str,
        resource_id: &str,
    ) -> Self {
        Self::of(
            "all-pipelines",
            org_url,
            &[
                &project_id.to_lowercase(),
                &resource_type.to_lowercase(),
                &resource_id.to_lowercase(),
            ],
        )
    }

    fn of(what: &str, org_url: &str, parts: &[&str]) -> Self {
        let org = org_url.trim().trim_end_matches('/').to_lowercase();
        Self(format!("{what}|{org}|{}", parts.join("|")))
    }

    /// The key as the ledger records it.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn from_recorded(text: &str) -> Self {
        Self(text.to_string())
    }

    /// `azdo-claim-<first 40 hex digits of sha256(key)>`: a valid name whatever the key holds.
    fn record_name(&self) -> String {
        let digest = Sha256::digest(self.0.as_bytes());
        let hex: String = digest.iter().take(20).map(|b| format!("{b:02x}")).collect();
        format!("azdo-claim-{hex}")
    }
}

/// Who holds a claim.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holder {
    pub kind: String,
    pub namespace: String,
    pub name: String,
    pub uid: String,
}

impl std::fmt::Display for Holder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}/{}", self.kind, self.namespace, self.name)
    }
}

impl Holder {
    fn of<K: Resource<DynamicType = ()>>(obj: &K) -> Self {
        Self {
            kind: K::kind(&()).into_owned(),
            namespace: obj.namespace().unwrap_or_default(),
            name: obj.name_any(),
            uid: obj.uid().unwrap_or_default(),
        }
    }

    fn from_data(data: &BTreeMap<String, String>) -> Option<Self> {
        Some(Self {
            kind: data.get("ownerKind")?.clone(),
            namespace: data.get("ownerNamespace")?.clone(),
            name: data.get("ownerName")?.clone(),
            uid: data.get("ownerUid")?.clone(),
        })
    }
}

/// The claims: ConfigMaps in the operator's namespace.
#[derive(Clone)]
pub struct Claims {
    kube: kube::Client,
    api: Api<ConfigMap>,
}

impl Claims {
    pub fn new(kube: kube::Client, namespace: &str) -> Self {
        Self {
            api: Api::namespaced(kube.clone(), namespace),
            kube,
        }
    }

    /// Claim `key` for `obj`, recording it in `entry`; `Conflict` when another live object
    /// holds it. A claim the ledger already lists is not read again.
    pub async fn take<K>(&self, obj: &K, entry: &mut Entry, key: &Key) -> Result<(), Error>
    where
        K: Resource<DynamicType = (), Scope = k8s_openapi::NamespaceResourceScope>
            + Clone
            + serde::de::DeserializeOwned
            + std::fmt::Debug,
    {
        if entry.claims.contains(key.as_str()) {
            return Ok(());
        }
        let me = Holder::of(obj);
        for _attempt in 0..2 {
            match self
                .api
                .create(&PostParams::default(), &record(key, &me))
                .await
            {
                Ok(_) => {
                    entry.claims.insert(key.as_str().to_string());
                    return Ok(());
                }
                Err(kube::Error::Api(e)) if e.code == 409 => {}
                Err(e) => return Err(e.into()),
            }
            let Some(existing) = self.api.get_opt(&key.record_name()).await? else {
                continue; // released meanwhile: try again
            };
            let holder = existing
                .data
                .as_ref()
                .filter(|d| d.get("key").map(String::as_str) == Some(key.as_str()))
                .and_then(Holder::from_data);
            match holder {
                Some(h) if h.uid == me.uid => {
                    entry.claims.insert(key.as_str().to_string());
                    return Ok(());
                }
                Some(h) if !self.is_alive::<K>(&h).await? => {
                    self.delete_exactly(&existing).await?;
                    tracing::info!(claim = key.as_str(), previous = %h, "took over a claim whose owner is gone");
                }
                Some(h) => return Err(conflict(key, &h)),
                None => {
                    return Err(Error::new(
                        Reason::Conflict,
                        format!(
                            "the claim record {} does not hold {:?}; leaving it alone",
                            key.record_name(),
                            key.as_str()
                        ),
                        Retry::Backoff,
                    ))
                }
            }
        }
        Err(Error::new(
            Reason::Conflict,
            format!(
                "another object is claiming {:?} at the same time",
                key.as_str()
            ),
            Retry::Backoff,
        ))
    }

    /// `Conflict` when another live object holds `key` (taking nothing).
    pub async fn refuse_held<K>(&self, obj: &K, key: &Key) -> Result<(), Error>
    where
        K: Resource<DynamicType = (), Scope = k8s_openapi::NamespaceResourceScope>
            + Clone
            + serde::de::DeserializeOwned
            + std::fmt::Debug,
    {
        match self.holder(key).await? {
            Some(h)
                if Some(h.uid.as_str()) != obj.meta().uid.as_deref()
                    && self.is_alive::<K>(&h).await? =>
            {
                Err(conflict(key, &h))
            }
            _ => Ok(()),
        }
    }

    /// Who holds `key`, if anyone still alive (a holder of kind `K` that no longer exists holds
    /// nothing).
    pub async fn live_holder<K>(&self, key: &Key) -> Result<Option<Holder>, Error>
    where
        K: Resource<DynamicType = (), Scope = k8s_openapi::NamespaceResourceScope>
            + Clone
            + serde::de::DeserializeOwned
            + std::fmt::Debug,
    {
        match self.holder(key).await? {
            Some(h) if self.is_alive::<K>(&h).await? => Ok(Some(h)),
            _ => Ok(None),
        }
    }

    /// Who holds `key`, if anyone.
    pub async fn holder(&self, key: &Key) -> Result<Option<Holder>, Error> {
        Ok(self
            .api
            .get_opt(&key.record_name())
            .await?
            .and_then(|cm| cm.data)
            .filter(|d| d.get("key").map(String::as_str) == Some(key.as_str()))
            .and_then(|d| Holder::from_data(&d)))
    }

    /// Release the claims `entry` lists that are not in `keep`.
    pub async fn release_others<K: Resource>(
        &self,
        obj: &K,
        entry: &mut Entry,
        keep: &[&Key],
    ) -> Result<(), Error> {
        let stale: Vec<String> = entry
            .claims
            .iter()
            .filter(|c| !keep.iter().any(|k| k.as_str() == c.as_str()))
            .cloned()
            .collect();
        for claim in stale {
            self.release(obj, &Key::from_recorded(&claim)).await?;
            entry.claims.remove(&claim);
        }
        Ok(())
    }

    /// Release every claim `entry` lists (the object is gone).
    pub async fn release_all<K: Resource>(&self, obj: &K, entry: &Entry) -> Result<(), Error> {
        for claim in &entry.claims {
            self.release(obj, &Key::from_recorded(claim)).await?;
        }
        Ok(())
    }

    /// Delete the claim on `key` if `obj` holds it.
    async fn release<K: Resource>(&self, obj: &K, key: &Key) -> Result<(), Error> {
        let Some(existing) = self.api.get_opt(&key.record_name()).await? else {
            return Ok(());
        };
        let mine = existing
            .data
            .as_ref()
            .and_then(|d| d.get("ownerUid"))
            .is_some_and(|uid| Some(uid.as_str()) == obj.meta().uid.as_deref());
        if mine {
            self.delete_exactly(&existing).await?;
        }
        Ok(())
    }

    /// Delete this version of a claim record, and no other.
    async fn delete_exactly(&self, existing: &ConfigMap) -> Result<(), Error> {
        let params = DeleteParams {
            preconditions: Some(Preconditions {
                uid: existing.uid(),
                resource_version: existing.resource_version(),
            }),
            ..DeleteParams::default()
        };
        match self.api.delete(&existing.name_any(), &params).await {
            Ok(_) => Ok(()),
            // Gone already, or changed since it was read (someone else released or took it).
            Err(kube::Error::Api(e)) if e.code == 404 || e.code == 409 => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// Whether the object holding a claim still exists (same kind, same uid).
    async fn is_alive<K>(&self, holder: &Holder) -> Result<bool, Error>
    where
        K: Resource<DynamicType = (), Scope = k8s_openapi::NamespaceResourceScope>
            + Clone
            + serde::de::DeserializeOwned
            + std::fmt::Debug,
    {
        if holder.kind != K::kind(&()) {
            return Ok(true); // not ours to judge: keep it
        }
        let api: Api<K> = Api::namespaced(self.kube.clone(), &holder.namespace);
        Ok(api
            .get_metadata_opt(&holder.name)
            .await?
            .is_some_and(|o| o.uid().as_deref() == Some(holder.uid.as_str())))
    }
}

/// Make `obj` hold exactly the claims in `keep` (taking the new ones, releasing the others),
/// with the ledger written before anything is sent to Azure DevOps. The entry as now recorded.
pub async fn hold_only<K>(
    ctx: &Cx<'_>,
    obj: &K,
    before: Entry,
    keep: &[&Key],
) -> Result<Entry, Error>
where
    K: Resource<DynamicType = (), Scope = k8s_openapi::NamespaceResourceScope>
        + Clone
        + serde::de::DeserializeOwned
        + std::fmt::Debug,
{
    // An observer takes and releases nothing, but is refused what another object holds, as
    // it would be under Manage (it would read another team's Exclusive list otherwise).
    if ctx.observing() {
        for key in keep {
            ctx.claims.refuse_held(obj, key).await?;
        }
        return Ok(before);
    }
    let mut entry = before.clone();
    let claimed = async {
        for key in keep {
            ctx.claims.take(obj, &mut entry, key).await?;
        }
        ctx.claims.release_others(obj, &mut entry, keep).await
    }
    .await;
    ctx.ledger.write(obj, &before, &entry).await?;
    claimed.map(|()| entry)
}

fn conflict(key: &Key, holder: &Holder) -> Error {
    let what = key.as_str().split('|').next().unwrap_or("it");
    let noun = match what {
        "group" | "group-name" => "this group",
        "exclusive-members" => "this group's members in Exclusive mode",
        "all-pipelines" => "this resource's allPipelines switch",
        "exclusive-roles" => "this resource's role assignments in Exclusive mode",
        _ => "this",
    };
    Error::new(
        Reason::Conflict,
        format!("{holder} already manages {noun}; this object changes nothing until that one is deleted"),
        Retry::Backoff,
    )
}

fn record(key: &Key, owner: &Holder) -> ConfigMap {
    let labels = [
        ("app.kubernetes.io/managed-by", "azdo-operator"),
        ("azdo.io/claim", "true"),
    ];
    ConfigMap {
        metadata: ObjectMeta {
            name: Some(key.record_name()),
            labels: Some(
                labels
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
            ),
            annotations: Some(
                [("azdo.io/owner".to_string(), owner.to_string())]
                    .into_iter()
                    .collect(),
            ),
            ..ObjectMeta::default()
        },
        data: Some(
            [
                ("key", key.as_str()),
                ("ownerKind", owner.kind.as_str()),
                ("ownerNamespace", owner.namespace.as_str()),
                ("ownerName", owner.name.as_str()),
                ("ownerUid", owner.uid.as_str()),
            ]
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        ),
        ..ConfigMap::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_ignore_spelling_not_identity() {
        let org = "https://dev.azure.com/contoso/";
        assert_eq!(
            Key::group_name(org, Some("P-ID"), " Team A "),
            Key::group_name("https://DEV.azure.com/contoso", Some("p-id"), "team a")
        );
        assert_ne!(
            Key::group_name(org, Some("p1"), "Team A"),
            Key::group_name(org, Some("p2"), "Team A")
        );
        assert_ne!(
            Key::group_name(org, None, "Team A"),
            Key::group_name(org, Some("p1"), "Team A")
        );
        assert_ne!(
            Key::group(org, "vssgp.a"),
            Key::exclusive_members(org, "vssgp.a")
        );
        assert_eq!(
            Key::exclusive_roles(org, "DistributedTask.Library", "P$0"),
            Key::exclusive_roles(
                "https://dev.azure.com/Contoso",
                "distributedtask.library",
                "p$0"
            )
        );
        assert_ne!(
            Key::exclusive_roles(org, "distributedtask.library", "p$0"),
            Key::exclusive_roles(org, "distributedtask.variablegroup", "p$0")
        );
        assert_eq!(
            Key::all_pipelines(org, "P", "Endpoint", "ABC"),
            Key::all_pipelines(org, "p", "endpoint", "abc")
        );
    }

    #[test]
    fn record_names_are_valid_and_distinct() {
        let a = Key::group("https://x/o", "vssgp.a").record_name();
        let b = Key::group("https://x/o", "vssgp.b").record_name();
        assert_ne!(a, b);
        assert!(a.len() <= 63 && a.starts_with("azdo-claim-"));
        assert!(a
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'));
    }

    #[test]
    fn holders_need_every_field() {
        let me = Holder {
            kind: "DevOpsGroup".into(),
            namespace: "a".into(),
            name: "g".into(),
            uid: "u".into(),
        };
        let data = record(&Key::group("o", "d"), &me).data.unwrap();
        assert_eq!(Holder::from_data(&data), Some(me));
        let mut partial = data.clone();
        partial.remove("ownerUid");
        assert_eq!(Holder::from_data(&partial), None);
    }
}
