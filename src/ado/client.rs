//! [`AdoClient`]: the typed client of one organization. The operations live in one file per
//! API area (`graph_groups.rs`, `projects.rs`, ...); this file holds construction, URLs and the
//! shared helpers (paging).

use super::cache::TtlCache;
use super::metrics::AdoMetrics;
use super::project_listings::Listings;
use super::throttle::ThrottleConfig;
use super::transport::{Call, Reply, RetryLimits, Transport};
use super::types::{GraphGroup, ListResponse, PipelineRef, Project, ResourceRef};
use super::AdoError;
use crate::auth::TokenSource;
use reqwest::Url;
use serde::de::DeserializeOwned;
use std::sync::Arc;
use std::time::Duration;

/// Where an organization lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrganizationEndpoint {
    /// Organization name (`[Org]\Name` principal names).
    pub name: String,
    /// The `organization` label of this client's metrics: the name by default; a fixed word
    /// for organizations a tenant declares (their URL is tenant text, and labels must stay
    /// bounded).
    pub metrics_label: String,
    /// `https://dev.azure.com/{org}`.
    pub url: Url,
    /// `https://vssps.dev.azure.com/{org}` (Graph).
    pub graph_url: Url,
    /// `https://vsaex.dev.azure.com/{org}` (Member Entitlement Management); `None` when it
    /// cannot be derived and was not given.
    pub entitlement_url: Option<Url>,
}

impl OrganizationEndpoint {
    /// The public Azure DevOps service.
    pub fn azure_devops(name: &str) -> Result<Self, AdoError> {
        Self::new(
            name,
            &format!("https://dev.azure.com/{name}"),
            &format!("https://vssps.dev.azure.com/{name}"),
        )?
        .with_entitlement_url(Some(&format!("https://vsaex.dev.azure.com/{name}")))
    }

    /// The same with the Member Entitlement Management URL.
    pub fn with_entitlement_url(mut self, url: Option<&str>) -> Result<Self, AdoError> {
        self.entitlement_url = url.map(parse_endpoint_url).transpose()?;
        Ok(self)
    }

    /// Explicit URLs (simulator, proxies).
    pub fn new(name: &str, url: &str, graph_url: &str) -> Result<Self, AdoError> {
        Ok(Self {
            name: name.to_string(),
            metrics_label: name.to_string(),
            url: parse_endpoint_url(url)?,
            graph_url: parse_endpoint_url(graph_url)?,
            entitlement_url: None,
        })
    }
}

fn parse_endpoint_url(value: &str) -> Result<Url, AdoError> {
    let url = Url::parse(value)
        .map_err(|e| AdoError::Config(format!("invalid organization URL {value:?}: {e}")))?;
    if url.cannot_be_a_base() || !matches!(url.scheme(), "https" | "http") {
        return Err(AdoError::Config(format!(
            "invalid organization URL {value:?}"
        )));
    }
    Ok(url)
}

/// Bounds and cache lifetimes of one client.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ClientLimits {
    pub throttle: ThrottleConfig,
    pub retry: RetryLimits,
    /// How long resolved users, service principals and principal-name groups are reused.
    pub subject_ttl: Duration,
    /// How long a project's listing of pipelines or environments answers name lookups.
    pub listing_ttl: Duration,
    /// Entries per cache. Above the number of distinct subjects the objects name: a user met
    /// again after eviction is materialized again (a `POST graph/users`); 10× the documented
    /// workload names 20,000 users, each cached identity a few hundred bytes.
    pub cache_capacity: usize,
}

impl Default for ClientLimits {
    fn default() -> Self {
        Self {
            throttle: ThrottleConfig::default(),
            retry: RetryLimits::default(),
            subject_ttl: Duration::from_secs(600),
            listing_ttl: Duration::from_secs(60),
            cache_capacity: 50_000,
        }
    }
}

/// Upper bound on pages followed by one listing (guards against a token that never ends).
const MAX_PAGES: usize = 10_000;

pub(super) struct Caches {
    /// lower-cased project name or id -> project (no TTL: ids do not change; evicted on 404).
    pub projects: TtlCache<String, Project>,
    /// project id -> scope descriptor.
    pub scopes: TtlCache<String, String>,
    /// "kind:lower-cased key" -> descriptor (users, service principals).
    pub subjects: TtlCache<String, String>,
    /// lower-cased principal name -> group.
    pub groups_by_principal: TtlCache<String, GraphGroup>,
    /// descriptor -> storage key (never changes).
    pub storage_keys: TtlCache<String, String>,
    /// Lower-cased project -> its pipelines (short TTL; see `project_listings.rs`).
    pub pipelines: Listings<PipelineRef>,
    /// Lower-cased project -> its environments (short TTL).
    pub environments: Listings<ResourceRef>,
    /// security role scope id -> the roles it defines.
    pub role_definitions: TtlCache<String, Vec<super::security_roles::SecurityRole>>,
    /// Direct containers and group names for the ancestry walk (short TTL).
    pub ancestry: super::graph_ancestry::AncestryCaches,
    /// The organization's protected groups and what is nested in them (short TTL).
    pub protected: super::graph_protected::ProtectedCache,
    /// Scope descriptor ("" for the organization) -> its groups, as listed before a create
    /// (only listings begun after the caller asked are reused; see `fresh_listing.rs`).
    pub group_listings: super::fresh_listing::FreshListings<GraphGroup>,
    /// descriptor -> principal name of the groups this client created (for
    /// [`super::ANCESTRY_TTL`]: as long as a protection snapshot is trusted).
    pub created_groups: TtlCache<String, String>,
}

pub(super) struct ClientInner {
    pub endpoint: OrganizationEndpoint,
    pub transport: Transport,
    pub caches: Caches,
}

/// Typed async client of one Azure DevOps organization. Cheap to clone; all clones share the
/// connection pool, the throttle state and the caches.
#[derive(Clone)]
pub struct AdoClient {
    pub(super) inner: Arc<ClientInner>,
}

impl std::fmt::Debug for AdoClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AdoClient")
            .field("organization", &self.inner.endpoint.name)
            .finish_non_exhaustive()
    }
}

impl AdoClient {
    pub fn new(
        endpoint: OrganizationEndpoint,
        http: reqwest::Client,
        credential: Arc<dyn TokenSource>,
        limits: ClientLimits,
        metrics: Arc<AdoMetrics>,
    ) -> Self {
        let capacity = limits.cache_capacity;
        let caches = Caches {
            projects: TtlCache::new(None, capacity),
            scopes: TtlCache::new(None, capacity),
            subjects: TtlCache::new(Some(limits.subject_ttl), capacity),
            groups_by_principal: TtlCache::new(Some(limits.subject_ttl), capacity),
            storage_keys: TtlCache::new(None, capacity),
            pipelines: Listings::new(limits.listing_ttl, capacity),
            environments: Listings::new(limits.listing_ttl, capacity),
            role_definitions: TtlCache::new(Some(limits.subject_ttl), capacity),
            ancestry: super::graph_ancestry::AncestryCaches::new(limits.subject_ttl, capacity),
            protected: super::graph_protected::ProtectedCache::new(
                limits.subject_ttl.min(super::ANCESTRY_TTL),
            ),
            group_listings: super::fresh_listing::FreshListings::new(capacity),
            created_groups: TtlCache::new(Some(super::ANCESTRY_TTL), capacity),
        };
        let transport = Transport::new(
            endpoint.metrics_label.clone(),
            http,
            credential,
            limits.throttle,
            limits.retry,
            metrics,
        );
        Self {
            inner: Arc::new(ClientInner {
                endpoint,
                transport,
                caches,
            }),
        }
    }

    pub fn organization(&self) -> &str {
        &self.inner.endpoint.name
    }

    pub fn endpoint(&self) -> &OrganizationEndpoint {
        &self.inner.endpoint
    }

    pub fn metrics(&self) -> &AdoMetrics {
        self.inner.transport.metrics()
    }

    /// Drop every cached id (e.g. after the organization's configuration changed).
    pub fn clear_caches(&self) {
        let caches = &self.inner.caches;
        caches.projects.clear();
        caches.scopes.clear();
        caches.subjects.clear();
        caches.groups_by_principal.clear();
        caches.storage_keys.clear();
        caches.pipelines.clear();
        caches.environments.clear();
        caches.role_definitions.clear();
        caches.ancestry.clear();
        caches.protected.clear();
        caches.group_listings.clear();
        caches.created_groups.clear();
    }

    /// Cheap check that the credential works: one read (`GET _apis/projects?$top=1`).
    pub async fn check_access(&self) -> Result<(), AdoError> {
        let mut url = self.org_url(&["_apis", "projects"])?;
        url.query_pairs_mut().append_pair("$top", "1");
        self.execute(&Call::get(
            "projects.check_access",
            url,
            super::api_version::PROJECTS,
        ))
        .await
        .map(|_| ())
    }

    pub(super) async fn execute(&self, call: &Call) -> Result<Reply, AdoError> {
        self.inner.transport.execute(call).await
    }

    /// `{org url}/{segments...}`; each segment is percent-encoded.
    pub(super) fn org_url(&self, segments: &[&str]) -> Result<Url, AdoError> {
        join(&self.inner.endpoint.url, segments)
    }

    /// `{org url}/{project}/{segments...}`.
    pub(super) fn project_url(&self, project: &str, segments: &[&str]) -> Result<Url, AdoError> {
        let mut all = Vec::with_capacity(segments.len() + 1);
        all.push(project);
        all.extend_from_slice(segments);
        join(&self.inner.endpoint.url, &all)
    }

    /// `{graph url}/_apis/graph/{segments...}`.
    pub(super) fn graph_url(&self, segments: &[&str]) -> Result<Url, AdoError> {
        let mut all = vec!["_apis", "graph"];
        all.extend_from_slice(segments);
        join(&self.inner.endpoint.graph_url, &all)
    }

    /// GET every page of a `{"value": [...]}` listing, following `X-MS-ContinuationToken`
    /// (pages may be empty and still carry a token).
    pub(super) async fn get_all_pages<T: DeserializeOwned>(
        &self,
        operation: &'static str,
        url: Url,
        api_version: &'static str,
    ) -> Result<Vec<T>, AdoError> {
        let mut items = Vec::new();
        let mut token: Option<String> = None;
        for _ in 0..MAX_PAGES {
            let mut page_url = url.clone();
            if let Some(token) = &token {
                page_url
                    .query_pairs_mut()
                    .append_pair("continuationToken", token);
            }
            let reply = self
                .execute(&Call::get(operation, page_url, api_version))
                .await?;
            let page: ListResponse<T> = reply.json()?;
            items.extend(page.value);
            match reply.continuation_token() {
                Some(next) if Some(&next) == token.as_ref() => {
                    return Err(AdoError::Decode(super::error::ApiErrorDetail {
                        operation,
                        status: Some(reply.status),
                        type_key: None,
                        message: "the continuation token did not advance".to_string(),
                    }));
                }
                Some(next) => token = Some(next),
                None => return Ok(items),
            }
        }
        Err(AdoError::Decode(super::error::ApiErrorDetail {
            operation,
            status: None,
            type_key: None,
            message: format!("more than {MAX_PAGES} pages"),
        }))
    }
}

pub(super) fn join(base: &Url, segments: &[&str]) -> Result<Url, AdoError> {
    let mut url = base.clone();
    url.set_query(None);
    {
        let mut path = url
            .path_segments_mut()
            .map_err(|_| AdoError::Config(format!("{base} cannot be a base URL")))?;
        path.pop_if_empty();
        path.extend(segments);
    }
    Ok(url)
}

/// Case-insensitive equality for names (Azure DevOps names are case-insensitive).
pub(super) fn same_name(a: &str, b: &str) -> bool {
    a.to_lowercase() == b.to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_joined_with_encoded_segments() {
        let base = Url::parse("https://dev.azure.com/contoso/").unwrap();
        let url = join(
            &base,
            &["My Project", "_apis", "git", "repositories", "a/b"],
        )
        .unwrap();
        assert_eq!(
            url.as_str(),
            "https://dev.azure.com/contoso/My%20Project/_apis/git/repositories/a%2Fb"
        );
        let endpoint = OrganizationEndpoint::azure_devops("contoso").unwrap();
        assert_eq!(
            endpoint.graph_url.as_str(),
            "https://vssps.dev.azure.com/contoso"
        );
        assert!(OrganizationEndpoint::new("x", "mailto:a@b", "https://x").is_err());
    }

    #[test]
    fn names_compare_case_insensitively() {
        assert!(same_name("Project Readers", "project READERS"));
        assert!(!same_name("Readers", "Reader"));
    }
}
