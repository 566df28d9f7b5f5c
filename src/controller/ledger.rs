//! The operator's own record of what each object did in Azure DevOps: which group it created or
//! adopted, which members it added, which pipelines it authorized and what `allPipelines` was
//! before it changed it, which security roles it assigned and the inheritance it set, which
//! checks it created (and which creates it sent whose answer it has not seen). Cleanup and
//! Additive removals undo only what this record holds, never what an object's status says:
//! status is writable by anyone granted `*/status`, the ledger only by the operator.
//!
//! One ConfigMap per object (`azdo-ledger-<uid>`) in the operator's own namespace, where tenants
//! get no access (the chart's tenant roles grant none). It is read live at each reconcile of the
//! object (a cache could be behind the operator's own last write) and written only when it
//! changes.

use std::collections::{BTreeMap, BTreeSet};

use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{DeleteParams, Patch, PatchParams};
use kube::{Api, Resource, ResourceExt};
use serde_json::json;

use super::error::Error;
use super::status::FIELD_MANAGER;

/// How the object came to manage its group.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// The operator created the group for this object.
    Created,
    /// The group existed; this object took it over.
    Adopted,
    /// An Entra group the operator materialized in the organization for this object.
    Materialized,
    /// Only observed (`managementPolicy: Observe`): found, never written, never this object's.
    /// It only says which group the object reads (for `groupRef`s to it); `Manage` looks again.
    Observed,
}

impl Origin {
    fn as_str(self) -> &'static str {
        match self {
            Origin::Created => "created",
            Origin::Adopted => "adopted",
            Origin::Materialized => "materialized",
            Origin::Observed => "observed",
        }
    }

    fn parse(text: &str) -> Option<Self> {
        match text {
            "created" => Some(Origin::Created),
            "adopted" => Some(Origin::Adopted),
            "materialized" => Some(Origin::Materialized),
            "observed" => Some(Origin::Observed),
            _ => None,
        }
    }
}

/// What one object did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Entry {
    /// Groups: the group it manages and how it came to.
    pub group: Option<(String, Origin)>,
    /// Memberships: the group whose members it manages; authorizations: the resource.
    pub target: Option<String>,
    /// Memberships: the descriptors it added; authorizations: the pipeline ids it authorized.
    pub added: BTreeSet<String>,
    /// Authorizations: `allPipelines` before this object first changed it.
    pub all_pipelines_before: Option<bool>,
    /// Role assignments: the inheritance this object last set on its resource.
    pub inheritance: Option<bool>,
    /// The ownership claims it holds (see `claims.rs`), by key.
    pub claims: BTreeSet<String>,
    /// Groups: the name (its claim key) this object set out to create, recorded before the
    /// create is sent: a group of that name found afterwards (the create's answer was lost) is
    /// the one it created, since the scope was listed empty just before.
    pub creating: Option<String>,
    /// Resource checks: the creates sent whose answer was not seen yet, one line each,
    /// `key|id,id,...` (the ids the resource carried when the create was planned), recorded
    /// before the create is sent: a single check found afterwards that holds exactly what that
    /// create sent, and that the resource did not carry then, is the one it created.
    pub pending_creates: BTreeSet<String>,
}

impl Entry {
    fn from_data(data: &BTreeMap<String, String>) -> Self {
        let group = data
            .get("group")
            .zip(data.get("origin"))
            .and_then(|(d, o)| Origin::parse(o).map(|o| (d.clone(), o)));
        let lines = |field: &str| -> BTreeSet<String> {
            data.get(field)
                .map(|a| {
                    a.lines()
                        .filter(|l| !l.is_empty())
                        .map(str::to_string)
                        .collect()
                })
                .unwrap_or_default()
        };
        Self {
            group,
            target: data.get("target").cloned(),
            added: lines("added"),
            all_pipelines_before: data.get("allPipelinesBefore").and_then(|v| v.parse().ok()),
            inheritance: data.get("inheritance").and_then(|v| v.parse().ok()),
            claims: lines("claims"),
            creating: data.get("creating").cloned(),
            pending_creates: lines("pendingCreates"),
        }
    }

    fn to_data(&self) -> BTreeMap<String, String> {
        let mut data = BTreeMap::new();
        if let Some((descriptor, origin)) = &self.group {
            data.insert("group".into(), descriptor.clone());
            data.insert("origin".into(), origin.as_str().into());
        }
        if let Some(target) = &self.target {
            data.insert("target".into(), target.clone());
        }
        for (field, set) in [
            ("added", &self.added),
            ("claims", &self.claims),
            ("pendingCreates", &self.pending_creates),
        ] {
            if !set.is_empty() {
                let lines: Vec<&str> = set.iter().map(String::as_str).collect();
                data.insert(field.into(), lines.join("\n"));
            }
        }
        if let Some(creating) = &self.creating {
            data.insert("creating".into(), creating.clone());
        }
        if let Some(before) = self.all_pipelines_before {
            data.insert("allPipelinesBefore".into(), before.to_string());
        }
        if let Some(inheritance) = self.inheritance {
            data.insert("inheritance".into(), inheritance.to_string());
        }
        data
    }
}

/// The ledger: ConfigMaps in the operator's namespace.
#[derive(Clone)]
pub struct Ledger {
    api: Api<ConfigMap>,
}

impl Ledger {
    pub fn new(kube: kube::Client, namespace: &str) -> Self {
        Self {
            api: Api::namespaced(kube, namespace),
        }
    }

    /// What `obj` did so far (empty for an object that did nothing yet).
    pub async fn read<K: Resource>(&self, obj: &K) -> Result<Entry, Error> {
        self.read_uid(obj.meta().uid.as_deref().unwrap_or("no-uid"))
            .await
    }

    /// What the object with this uid did so far.
    pub async fn read_uid(&self, uid: &str) -> Result<Entry, Error> {
        let found = self.api.get_opt(&format!("azdo-ledger-{uid}")).await?;
        Ok(found
            .and_then(|cm| cm.data)
            .map(|data| Entry::from_data(&data))
            .unwrap_or_default())
    }

    /// Record what `obj` did, if it changed since `before`.
    pub async fn write<K: Resource<DynamicType = ()>>(
        &self,
        obj: &K,
        before: &Entry,
        now: &Entry,
    ) -> Result<(), Error> {
        if before == now {
            return Ok(());
        }
        let ns = obj.meta().namespace.clone().unwrap_or_default();
        let record = json!({
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {
                "name": name_of(obj),
                "labels": {
                    "app.kubernetes.io/managed-by": "azdo-operator",
                    "azdo.io/ledger": "true",
                    "azdo.io/kind": K::kind(&()),
                },
                "annotations": {
                    "azdo.io/object": format!("{}/{}", ns, obj.name_any()),
                },
            },
            "data": now.to_data(),
        });
        self.api
            .patch(
                &name_of(obj),
                &PatchParams::apply(FIELD_MANAGER).force(),
                &Patch::Apply(&record),
            )
            .await?;
        Ok(())
    }

    /// Forget `obj` once what it did is undone (or deliberately left).
    pub async fn forget<K: Resource>(&self, obj: &K) -> Result<(), Error> {
        match self
            .api
            .delete(&name_of(obj), &DeleteParams::default())
            .await
        {
            Ok(_) => Ok(()),
            Err(kube::Error::Api(e)) if e.code == 404 => Ok(()),
            Err(e) => Err(e.into()),
        }
    }
}

/// `azdo-ledger-<uid>`: one record per object, never reused by a recreated object of the same
/// name.
fn name_of<K: Resource>(obj: &K) -> String {
    format!(
        "azdo-ledger-{}",
        obj.meta().uid.as_deref().unwrap_or("no-uid")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_survive_the_configmap() {
        let entry = Entry {
            group: Some(("vssgp.abc".into(), Origin::Adopted)),
            target: Some("vssgp.container".into()),
            added: ["aad.x".to_string(), "aad.y".to_string()].into(),
            all_pipelines_before: Some(false),
            inheritance: Some(false),
            claims: ["group|https://x/o|vssgp.abc".to_string()].into(),
            creating: Some("group-name|https://x/o|p|team".into()),
            pending_creates: ["approval#1|3,5".to_string()].into(),
        };
        assert_eq!(Entry::from_data(&entry.to_data()), entry);
        assert_eq!(Entry::from_data(&BTreeMap::new()), Entry::default());
    }

    #[test]
    fn unknown_text_is_ignored_not_trusted() {
        let data: BTreeMap<String, String> = [
            ("group".to_string(), "vssgp.abc".to_string()),
            ("origin".to_string(), "stolen".to_string()),
            ("allPipelinesBefore".to_string(), "maybe".to_string()),
        ]
        .into();
        assert_eq!(Entry::from_data(&data), Entry::default());
    }
}
