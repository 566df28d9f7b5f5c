//! Graph subjects: users and service principals (materialized on demand, descriptors cached
//! with a TTL; concurrent lookups of one subject share one request), groups by principal name,
//! batch lookup, storage keys.

use super::api_version;
use super::client::{same_name, AdoClient};
use super::error::ApiErrorDetail;
use super::graph_groups::SUBJECT_QUERY_LIMIT;
use super::transport::Call;
use super::types::{GraphGroup, GraphSubject, ListResponse, ValueResponse};
use super::AdoError;
use reqwest::Method;
use serde_json::json;
use std::collections::HashMap;

/// Keys per `subjectlookup` request: the service refuses more than 500 (`TF400049`).
pub const LOOKUP_BATCH: usize = 500;

impl AdoClient {
    /// The descriptor of a user by principal name (UPN), materialized if needed. Uncached: 1
    /// call; cached: 0.
    pub async fn resolve_user(&self, principal_name: &str) -> Result<String, AdoError> {
        self.materialize_subject(
            format!("user:upn:{}", principal_name.to_lowercase()),
            "graph.users.materialize",
            "users",
            json!({"principalName": principal_name}),
        )
        .await
    }

    /// A user already in the organization, by principal name (UPN) or mail, without
    /// materializing one (Observe's lookup: materializing is a write). 1 call (`subjectquery`).
    pub async fn find_user(&self, principal_name: &str) -> Result<Option<GraphSubject>, AdoError> {
        let url = self.graph_url(&["subjectquery"])?;
        let body = json!({"query": principal_name, "subjectKind": ["User"]});
        let call = Call::get("graph.subjects.query", url, api_version::GRAPH)
            .query()
            .with_json(body);
        let page: ListResponse<GraphSubject> = self.execute(&call).await?.json()?;
        let same = |v: &Option<String>| v.as_deref().is_some_and(|v| same_name(v, principal_name));
        Ok(page
            .value
            .into_iter()
            .find(|s| same(&s.principal_name) || same(&s.mail_address)))
    }

    /// The descriptor of a user by Entra object id (`originId`), materialized if needed.
    /// Uncached: 1; cached: 0.
    pub async fn resolve_entra_user(&self, object_id: &str) -> Result<String, AdoError> {
        self.materialize_subject(
            format!("user:oid:{}", object_id.to_lowercase()),
            "graph.users.materialize",
            "users",
            json!({"originId": object_id}),
        )
        .await
    }

    /// The descriptor of a service principal by Entra object id, materialized if needed.
    /// Uncached: 1; cached: 0.
    pub async fn resolve_service_principal(&self, object_id: &str) -> Result<String, AdoError> {
        self.materialize_subject(
            format!("sp:oid:{}", object_id.to_lowercase()),
            "graph.service_principals.materialize",
            "serviceprincipals",
            json!({"originId": object_id}),
        )
        .await
    }

    /// Materialization POSTs return the existing subject when there is one: idempotent. Only
    /// the descriptor is kept (all a membership needs): at 20,000 users the whole subject would
    /// cost about three times the memory.
    async fn materialize_subject(
        &self,
        cache_key: String,
        operation: &'static str,
        collection: &str,
        body: serde_json::Value,
    ) -> Result<String, AdoError> {
        let cache = &self.inner.caches.subjects;
        if let Some(subject) = cache.get(&cache_key) {
            return Ok(subject);
        }
        // Memberships listing the same user reconcile at once: materialize it once.
        let _fetch = cache.fetching(&cache_key).await;
        if let Some(subject) = cache.get(&cache_key) {
            return Ok(subject);
        }
        let url = self.graph_url(&[collection])?;
        let call = Call::get(operation, url, api_version::GRAPH)
            .with_method(Method::POST)
            .with_json(body)
            .entra_lookup();
        let subject: GraphSubject = self.execute(&call).await?.json()?;
        self.inner.transport.note_created(&subject.descriptor);
        cache.insert(cache_key, subject.descriptor.clone());
        Ok(subject.descriptor)
    }

    /// A group by principal name: `[Project]\Name`, `[Org]\Name` or `[TEAM FOUNDATION]\Name`.
    /// Uncached: 1 call for organization groups, 1 + scope lookup (0–2, cached) for project
    /// groups; cached (TTL): 0.
    pub async fn resolve_group_by_principal_name(
        &self,
        principal_name: &str,
    ) -> Result<GraphGroup, AdoError> {
        let key = principal_name.to_lowercase();
        let cache = &self.inner.caches.groups_by_principal;
        if let Some(group) = cache.get(&key) {
            return Ok(group);
        }
        let _fetch = cache.fetching(&key).await;
        if let Some(group) = cache.get(&key) {
            return Ok(group);
        }
        let (container, name) = split_principal_name(principal_name).ok_or_else(|| {
            AdoError::InvalidInput(ApiErrorDetail {
                operation: "graph.subjects.query",
                status: None,
                type_key: None,
                message: format!(
                    "{principal_name:?} is not a group principal name like [Project]\\Name"
                ),
            })
        })?;
        let organization_level =
            same_name(container, self.organization()) || same_name(container, "TEAM FOUNDATION");
        let scope = if organization_level {
            None
        } else {
            Some(self.project_scope_descriptor(container).await?)
        };
        let named = |g: &GraphGroup| {
            !g.is_deleted
                && g.principal_name
                    .as_deref()
                    .is_some_and(|p| same_name(p, principal_name))
        };
        let candidates = self.query_groups(name, scope.as_deref()).await?;
        // subjectquery stops at 100 results: a full answer without the group may hide it.
        let saturated = candidates.len() >= SUBJECT_QUERY_LIMIT;
        let mut found = candidates.into_iter().find(named);
        if found.is_none() && saturated {
            found = self
                .list_groups(scope.as_deref())
                .await?
                .into_iter()
                .find(named);
        }
        let group = found.ok_or_else(|| {
            AdoError::NotFound(ApiErrorDetail {
                operation: "graph.subjects.query",
                status: None,
                type_key: None,
                message: format!("no group with principal name {principal_name}"),
            })
        })?;
        cache.insert(key, group.clone());
        Ok(group)
    }

    /// Subjects by descriptor, in batches of `LOOKUP_BATCH` (1 call per batch). Unknown descriptors are
    /// simply absent from the map.
    pub async fn lookup_subjects(
        &self,
        descriptors: &[String],
    ) -> Result<HashMap<String, GraphSubject>, AdoError> {
        let mut found = HashMap::with_capacity(descriptors.len());
        for chunk in descriptors.chunks(LOOKUP_BATCH) {
            let url = self.graph_url(&["subjectlookup"])?;
            let keys: Vec<_> = chunk.iter().map(|d| json!({"descriptor": d})).collect();
            let call = Call::get("graph.subjects.lookup", url, api_version::GRAPH)
                .query()
                .with_json(json!({"lookupKeys": keys}));
            let reply: LookupResponse = self.execute(&call).await?.json()?;
            found.extend(reply.value);
        }
        Ok(found)
    }

    /// The storage key (GUID) of a subject; never derived from the descriptor.
    /// Uncached: 1 call; cached (no TTL, it never changes): 0.
    pub async fn storage_key(&self, descriptor: &str) -> Result<String, AdoError> {
        let cache = &self.inner.caches.storage_keys;
        if let Some(key) = cache.get(&descriptor.to_string()) {
            return Ok(key);
        }
        let url = self.graph_url(&["storagekeys", descriptor])?;
        let key: ValueResponse = self
            .execute(&Call::get(
                "graph.storage_keys.get",
                url,
                api_version::GRAPH_STORAGE_KEYS,
            ))
            .await?
            .json()?;
        cache.insert(descriptor.to_string(), key.value.clone());
        Ok(key.value)
    }

    /// Forget cached subjects (e.g. after a membership call said a descriptor is unknown).
    pub fn forget_subject(&self, descriptor: &str) {
        let caches = &self.inner.caches;
        caches
            .subjects
            .remove_where(|_, cached| cached == descriptor);
        caches
            .groups_by_principal
            .remove_where(|_, g| g.descriptor == descriptor);
    }
}

#[derive(Debug, serde::Deserialize)]
struct LookupResponse {
    #[serde(default)]
    value: HashMap<String, GraphSubject>,
}

/// `[Container]\Name` -> (`Container`, `Name`).
pub(super) fn split_principal_name(principal_name: &str) -> Option<(&str, &str)> {
    let rest = principal_name.trim().strip_prefix('[')?;
    let (container, name) = rest.split_once("]\\")?;
    let (container, name) = (container.trim(), name.trim());
    (!container.is_empty() && !name.is_empty()).then_some((container, name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn principal_names_split_into_container_and_name() {
        assert_eq!(
            split_principal_name("[Web]\\Readers"),
            Some(("Web", "Readers"))
        );
        assert_eq!(
            split_principal_name("[TEAM FOUNDATION]\\Platform Admins"),
            Some(("TEAM FOUNDATION", "Platform Admins"))
        );
        assert_eq!(split_principal_name("Readers"), None);
        assert_eq!(split_principal_name("[Web]Readers"), None);
        assert_eq!(split_principal_name("[]\\Readers"), None);
        assert_eq!(split_principal_name("[Web]\\"), None);
    }
}
