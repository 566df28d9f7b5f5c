//! The organizations every other kind uses: which organization object an object refers to,
//! whether its namespace may use it, and the authenticated [`AdoClient`] built from its spec.

use std::collections::hash_map::DefaultHasher;
use std::collections::{BTreeMap, HashMap};
use std::hash::{Hash, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use k8s_openapi::api::core::v1::Secret;
use kube::api::Api;
use kube::ResourceExt;
use tokio::sync::Mutex;

use crate::ado::{AdoClient, AdoMetrics, ClientLimits, HttpClients, OrganizationEndpoint};
use crate::api::{
    ClusterDevOpsOrganization, DevOpsOrganization, Grant, OrganizationAuth, OrganizationKind,
    OrganizationRef, DEFAULT_PROTECTED_GROUPS,
};
use crate::auth::{self, AuthConfig, AuthEnvironment, OperatorIdentity, SecretString};
use crate::reason::Reason;

use super::error::{Error, Retry};
use super::grants::Granted;

/// Identifies one organization object.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct OrgKey {
    pub kind: OrganizationKind,
    /// Set for `DevOpsOrganization`.
    pub namespace: Option<String>,
    pub name: String,
}

impl std::fmt::Display for OrgKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.namespace {
            Some(ns) => write!(f, "{} {ns}/{}", self.kind, self.name),
            None => write!(f, "{} {}", self.kind, self.name),
        }
    }
}

impl OrgKey {
    /// The organization an object in `namespace` refers to.
    pub fn for_ref(reference: &OrganizationRef, namespace: &str) -> Self {
        match reference.kind {
            OrganizationKind::ClusterDevOpsOrganization => Self {
                kind: reference.kind,
                namespace: None,
                name: reference.name.clone(),
            },
            OrganizationKind::DevOpsOrganization => Self {
                kind: reference.kind,
                namespace: Some(namespace.to_string()),
                name: reference.name.clone(),
            },
        }
    }
}

/// The parts of either organization kind the operator needs.
#[derive(Debug, Clone)]
pub struct OrgSpec {
    pub key: OrgKey,
    pub generation: Option<i64>,
    pub url: String,
    pub graph_url: Option<String>,
    /// Member Entitlement Management (vsaex); derived for dev.azure.com when unset.
    pub entitlement_url: Option<String>,
    pub auth: OrganizationAuth,
    pub ca_bundle: Option<String>,
    pub protected_groups: Option<Vec<String>>,
    /// The grants, with the deprecated `allowedNamespaces` read as one more grant of everything.
    pub grants: Vec<Grant>,
}

impl OrgSpec {
    pub fn from_cluster(org: &ClusterDevOpsOrganization) -> Self {
        Self {
            key: OrgKey {
                kind: OrganizationKind::ClusterDevOpsOrganization,
                namespace: None,
                name: org.name_any(),
            },
            generation: org.metadata.generation,
            url: org.spec.url.clone(),
            graph_url: org.spec.graph_url.clone(),
            entitlement_url: org.spec.entitlement_url.clone(),
            auth: org.spec.auth.clone(),
            ca_bundle: org.spec.ca_bundle.clone(),
            protected_groups: org.spec.protected_groups.clone(),
            grants: org
                .spec
                .grants
                .iter()
                .cloned()
                .chain(org.spec.allowed_namespaces.clone().map(|namespaces| Grant {
                    namespaces: Some(namespaces),
                    ..Granted::everything()
                }))
                .collect(),
        }
    }

    pub fn from_namespaced(org: &DevOpsOrganization) -> Self {
        Self {
            key: OrgKey {
                kind: OrganizationKind::DevOpsOrganization,
                namespace: org.namespace(),
                name: org.name_any(),
            },
            generation: org.metadata.generation,
            url: org.spec.url.clone(),
            graph_url: org.spec.graph_url.clone(),
            entitlement_url: org.spec.entitlement_url.clone(),
            auth: org.spec.auth.clone(),
            ca_bundle: org.spec.ca_bundle.clone(),
            protected_groups: org.spec.protected_groups.clone(),
            grants: org.spec.grants.clone(),
        }
    }

    /// The organization's name: the last path segment of its URL.
    pub fn organization_name(&self) -> Result<String, Error> {
        organization_name_of(&self.url).map_err(Error::invalid)
    }

    /// The Graph URL: explicit, or derived from a dev.azure.com URL.
    pub fn graph_url(&self) -> Result<String, Error> {
        graph_url_of(&self.url, self.graph_url.as_deref()).map_err(Error::invalid)
    }

    /// The Member Entitlement Management URL: explicit, derived from a dev.azure.com URL, or
    /// none (entitlement calls then fail with a clear error; other kinds are unaffected).
    pub fn entitlement_url(&self) -> Result<Option<String>, Error> {
        if let Some(url) = &self.entitlement_url {
            return Ok(Some(url.trim_end_matches('/').to_string()));
        }
        let name = self.organization_name()?;
        let url = self.url.trim_end_matches('/');
        Ok(url
            .eq_ignore_ascii_case(&format!("https://dev.azure.com/{name}"))
            .then(|| format!("https://vsaex.dev.azure.com/{name}")))
    }

    /// What an object in `namespace` (with these labels) may do in this organization.
    pub fn granted(&self, namespace: &str, labels: Option<&BTreeMap<String, String>>) -> Granted {
        Granted::for_namespace(
            self.key.to_string(),
            &self.grants,
            self.key.namespace.as_deref(),
            namespace,
            labels,
        )
    }

    /// Whether a group name is protected in this organization (case-insensitive; a
    /// `[Scope]\` prefix is ignored).
    pub fn is_protected(&self, group_name: &str) -> bool {
        let bare = group_name.rsplit('\\').next().unwrap_or(group_name).trim();
        match &self.protected_groups {
            Some(list) => list.iter().any(|p| {
                p.rsplit('\\')
                    .next()
                    .unwrap_or(p)
                    .trim()
                    .eq_ignore_ascii_case(bare)
            }),
            None => DEFAULT_PROTECTED_GROUPS
                .iter()
                .any(|p| p.eq_ignore_ascii_case(bare)),
        }
    }
}

/// An organization's name: the last path segment of its URL (also used by `export`).
pub(crate) fn organization_name_of(url: &str) -> Result<String, String> {
    url.trim_end_matches('/')
        .rsplit('/')
        .next()
        .filter(|s| !s.is_empty() && !s.contains(':'))
        .map(str::to_string)
        .ok_or_else(|| format!("url {url:?} names no organization"))
}

/// An organization's Graph URL: explicit, or derived from a dev.azure.com URL (also used by
/// `export`).
pub(crate) fn graph_url_of(url: &str, graph_url: Option<&str>) -> Result<String, String> {
    if let Some(graph) = graph_url {
        return Ok(graph.trim_end_matches('/').to_string());
    }
    let name = organization_name_of(url)?;
    let url = url.trim_end_matches('/');
    if url.eq_ignore_ascii_case(&format!("https://dev.azure.com/{name}")) {
        Ok(format!("https://vssps.dev.azure.com/{name}"))
    } else {
        Err(format!(
            "graphUrl is required when url is not https://dev.azure.com/<organization> (got {url})"
        ))
    }
}

/// An organization ready for use: its spec and an authenticated client.
pub struct OrgHandle {
    pub spec: OrgSpec,
    pub client: AdoClient,
    fingerprint: u64,
}

/// Builds and caches one [`AdoClient`] per organization object.
///
/// Reading Secrets and setting up credentials happen outside the lock on the cache (`entries`
/// is only held to look up or insert, never across an await), so a slow Secret read for one
/// organization does not hold up reconciles of the others. Resolutions of one organization
/// queue on that organization's own build lock, so concurrent ones build one client.
pub struct OrganizationRegistry {
    kube: kube::Client,
    http: HttpClients,
    metrics: Arc<AdoMetrics>,
    limits: ClientLimits,
    authority_host: Option<String>,
    extra_ca: Option<String>,
    entries: std::sync::Mutex<HashMap<OrgKey, Slot>>,
    /// Bumped by [`OrganizationRegistry::forget`]: a client whose build began before is handed
    /// to its caller but not cached.
    forgotten: AtomicU64,
}

/// One organization's cached client and its build lock.
#[derive(Default)]
struct Slot {
    current: Option<Arc<OrgHandle>>,
    /// Held while the client is being (re)built.
    building: Arc<Mutex<()>>,
}

impl OrganizationRegistry {
    pub fn new(
        kube: kube::Client,
        metrics: Arc<AdoMetrics>,
        limits: ClientLimits,
        authority_host: Option<String>,
        extra_ca: Option<String>,
    ) -> Self {
        Self {
            kube,
            http: HttpClients::new(),
            metrics,
            limits,
            authority_host,
            extra_ca,
            entries: std::sync::Mutex::new(HashMap::new()),
            forgotten: AtomicU64::new(0),
        }
    }

    fn entries(&self) -> std::sync::MutexGuard<'_, HashMap<OrgKey, Slot>> {
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The cached client of `key`, if `accept` takes it.
    fn cached(&self, key: &OrgKey, accept: impl Fn(&OrgHandle) -> bool) -> Option<Arc<OrgHandle>> {
        self.entries()
            .get(key)
            .and_then(|slot| slot.current.clone())
            .filter(|current| accept(current))
    }

    /// The client for an organization, built on first use and rebuilt when the organization's
    /// generation changed. `refresh` also re-reads referenced Secrets (the organization
    /// controller does that on every resync, so rotated credentials are picked up).
    pub async fn handle(&self, spec: &OrgSpec, refresh: bool) -> Result<Arc<OrgHandle>, Error> {
        let same_generation = |h: &OrgHandle| h.spec.generation == spec.generation;
        let building = {
            let mut entries = self.entries();
            let slot = entries.entry(spec.key.clone()).or_default();
            if let Some(current) = &slot.current {
                if !refresh && same_generation(current) {
                    return Ok(current.clone());
                }
            }
            slot.building.clone()
        };
        let _building = building.lock().await;
        if !refresh {
            // Built by the resolution this one waited for.
            if let Some(current) = self.cached(&spec.key, same_generation) {
                return Ok(current);
            }
        }
        let epoch = self.forgotten.load(Ordering::SeqCst);
        let (config, secret_versions) = self.auth_config(spec).await?;
        let fingerprint = fingerprint(spec, &secret_versions);
        if let Some(current) = self.cached(&spec.key, |h| h.fingerprint == fingerprint) {
            return Ok(current);
        }
        let handle = Arc::new(self.build(spec, config, fingerprint).await?);
        let mut entries = self.entries();
        if self.forgotten.load(Ordering::SeqCst) == epoch {
            entries.entry(spec.key.clone()).or_default().current = Some(handle.clone());
        }
        Ok(handle)
    }

    /// The organizations that have a client (or one being built).
    pub fn keys(&self) -> Vec<OrgKey> {
        self.entries().keys().cloned().collect()
    }

    /// Forget an organization's client (deleted organization, or credentials that stopped working).
    pub fn forget(&self, key: &OrgKey) {
        self.forgotten.fetch_add(1, Ordering::SeqCst);
        let mut entries = self.entries();
        if let Some(slot) = entries.get_mut(key) {
            slot.current = None;
            // Keep the build lock while a resolution holds or awaits it, so the next one queues
            // behind it; else the organization leaves no trace.
            if Arc::strong_count(&slot.building) == 1 {
                entries.remove(key);
            }
        }
    }

    async fn build(
        &self,
        spec: &OrgSpec,
        config: AuthConfig,
        fingerprint: u64,
    ) -> Result<OrgHandle, Error> {
        let name = spec.organization_name()?;
        let mut endpoint =
            OrganizationEndpoint::new(&name, spec.url.trim_end_matches('/'), &spec.graph_url()?)
                .map_err(|e| Error::invalid(e.to_string()))?
                .with_entitlement_url(spec.entitlement_url()?.as_deref())
                .map_err(|e| Error::invalid(e.to_string()))?;
        // A namespaced organization's URL is tenant text: never a metric label.
        if spec.key.kind == OrganizationKind::DevOpsOrganization {
            endpoint.metrics_label = "namespaced".into();
        }
        let ca = match (&self.extra_ca, &spec.ca_bundle) {
            (Some(a), Some(b)) => Some(format!("{a}\n{b}")),
            (Some(a), None) => Some(a.clone()),
            (None, Some(b)) => Some(b.clone()),
            (None, None) => None,
        };
        let http = self
            .http
            .get(ca.as_deref())
            .map_err(|e| Error::new(Reason::InvalidCABundle, e.to_string(), Retry::AwaitChange))?;
        let authority = self
            .authority_host
            .clone()
            .or_else(|| {
                std::env::var("AZURE_AUTHORITY_HOST")
                    .ok()
                    .filter(|v| !v.is_empty())
            })
            .unwrap_or_else(|| auth::AZURE_PUBLIC_AUTHORITY.to_string());
        let env = AuthEnvironment {
            authority_host: auth::parse_authority(&authority).map_err(|e| {
                Error::new(
                    Reason::InvalidConfiguration,
                    e.to_string(),
                    Retry::AwaitChange,
                )
            })?,
            operator_identity: OperatorIdentity::from_process_env(),
            http: http.clone(),
            kube: Some(self.kube.clone()),
            metrics: self.metrics.clone(),
        };
        let credential = auth::token_source(config, &env).await.map_err(|e| {
            Error::new(
                Reason::AuthenticationFailed,
                format!("cannot set up authentication: {e}"),
                Retry::Backoff,
            )
        })?;
        let client = AdoClient::new(
            endpoint,
            http,
            credential,
            self.limits,
            self.metrics.clone(),
        );
        Ok(OrgHandle {
            spec: spec.clone(),
            client,
            fingerprint,
        })
    }

    /// Map the spec's auth to an [`AuthConfig`], reading Secrets. Returns the Secrets'
    /// resourceVersions so a rotation rebuilds the client.
    async fn auth_config(&self, spec: &OrgSpec) -> Result<(AuthConfig, Vec<String>), Error> {
        let auth = &spec.auth;
        let own_ns = spec.key.namespace.as_deref();
        let pick_ns = |requested: Option<&String>, what: &str| -> Result<String, Error> {
            match (own_ns, requested) {
                (Some(own), None) => Ok(own.to_string()),
                (Some(own), Some(other)) if other == own => Ok(own.to_string()),
                (Some(_), Some(_)) => Err(Error::invalid(format!(
                    "a DevOpsOrganization may only use {what} of its own namespace"
                ))),
                (None, Some(ns)) => Ok(ns.clone()),
                (None, None) => Err(Error::invalid(format!(
                    "{what} of a ClusterDevOpsOrganization need a namespace"
                ))),
            }
        };
        if let Some(wi) = &auth.workload_identity {
            return match &wi.service_account_ref {
                Some(sa) => Ok((
                    AuthConfig::ServiceAccount {
                        namespace: pick_ns(sa.namespace.as_ref(), "ServiceAccounts")?,
                        name: sa.name.clone(),
                        client_id: wi.client_id.clone(),
                        tenant_id: wi.tenant_id.clone(),
                    },
                    vec![],
                )),
                None if own_ns.is_some() => Err(Error::invalid(
                    "a DevOpsOrganization cannot use the operator's own identity: set workloadIdentity.serviceAccountRef",
                )),
                None => Ok((
                    AuthConfig::WorkloadIdentity { client_id: wi.client_id.clone(), tenant_id: wi.tenant_id.clone() },
                    vec![],
                )),
            };
        }
        if let Some(mi) = &auth.managed_identity {
            if own_ns.is_some() {
                return Err(Error::invalid(
                    "a DevOpsOrganization cannot use managedIdentity",
                ));
            }
            return Ok((
                AuthConfig::ManagedIdentity {
                    client_id: mi.client_id.clone(),
                },
                vec![],
            ));
        }
        if let Some(cs) = &auth.client_secret {
            let ns = pick_ns(cs.secret_ref.namespace.as_ref(), "Secrets")?;
            let key = cs.secret_ref.key.as_deref().unwrap_or("clientSecret");
            let (secret, version) = self.read_secret(&ns, &cs.secret_ref.name, key).await?;
            return Ok((
                AuthConfig::ClientSecret {
                    tenant_id: cs.tenant_id.clone(),
                    client_id: cs.client_id.clone(),
                    secret,
                },
                vec![version],
            ));
        }
        if let Some(pat) = &auth.pat {
            let ns = pick_ns(pat.secret_ref.namespace.as_ref(), "Secrets")?;
            let key = pat.secret_ref.key.as_deref().unwrap_or("token");
            let (token, version) = self.read_secret(&ns, &pat.secret_ref.name, key).await?;
            return Ok((AuthConfig::Pat { token }, vec![version]));
        }
        Err(Error::invalid(
            "auth must set exactly one of workloadIdentity, managedIdentity, clientSecret or pat",
        ))
    }

    async fn read_secret(
        &self,
        namespace: &str,
        name: &str,
        key: &str,
    ) -> Result<(SecretString, String), Error> {
        let api: Api<Secret> = Api::namespaced(self.kube.clone(), namespace);
        let secret = match api.get_opt(name).await {
            Ok(Some(secret)) => secret,
            Ok(None) => {
                return Err(Error::new(
                    Reason::SecretNotFound,
                    format!("Secret {namespace}/{name} does not exist"),
                    Retry::Backoff,
                ))
            }
            Err(kube::Error::Api(status)) if status.code == 403 => {
                return Err(Error::new(
                    Reason::Forbidden,
                    format!("the operator may not read Secret {namespace}/{name}: grant it get on that Secret"),
                    Retry::Backoff,
                ))
            }
            Err(e) => return Err(e.into()),
        };
        let value = secret
            .data
            .as_ref()
            .and_then(|d| d.get(key))
            .map(|b| String::from_utf8_lossy(&b.0).trim().to_string())
            .filter(|v| !v.is_empty())
            .ok_or_else(|| {
                Error::new(
                    Reason::SecretKeyMissing,
                    format!("Secret {namespace}/{name} has no non-empty key {key:?}"),
                    Retry::Backoff,
                )
            })?;
        Ok((
            SecretString::new(value),
            secret.metadata.resource_version.unwrap_or_default(),
        ))
    }
}

fn fingerprint(spec: &OrgSpec, secret_versions: &[String]) -> u64 {
    let mut h = DefaultHasher::new();
    spec.generation.hash(&mut h);
    spec.url.hash(&mut h);
    secret_versions.hash(&mut h);
    h.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::AllowedNamespaces;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, LabelSelectorRequirement};

    fn spec(allowed: Option<AllowedNamespaces>, namespace: Option<&str>) -> OrgSpec {
        OrgSpec {
            key: OrgKey {
                kind: if namespace.is_some() {
                    OrganizationKind::DevOpsOrganization
                } else {
                    OrganizationKind::ClusterDevOpsOrganization
                },
                namespace: namespace.map(str::to_string),
                name: "contoso".into(),
            },
            generation: Some(1),
            url: "https://dev.azure.com/contoso".into(),
            graph_url: None,
            entitlement_url: None,
            auth: OrganizationAuth::default(),
            ca_bundle: None,
            protected_groups: None,
            grants: allowed
                .map(|namespaces| Grant {
                    namespaces: Some(namespaces),
                    ..Granted::everything()
                })
                .into_iter()
                .collect(),
        }
    }

    impl OrgSpec {
        fn allows(&self, namespace: &str, labels: Option<&BTreeMap<String, String>>) -> bool {
            self.granted(namespace, labels).any().is_ok()
        }
    }

    #[test]
    fn namespace_policy() {
        let labels: BTreeMap<String, String> =
            [("azdo.io/tenant".to_string(), "true".to_string())].into();
        assert!(
            !spec(None, None).allows("anything", None),
            "no grants: no namespace"
        );
        let by_name = spec(
            Some(AllowedNamespaces {
                names: vec!["team-a".into()],
                selector: None,
            }),
            None,
        );
        assert!(by_name.allows("team-a", None));
        assert!(!by_name.allows("team-b", Some(&labels)));
        let by_label = spec(
            Some(AllowedNamespaces {
                names: vec![],
                selector: Some(LabelSelector {
                    match_labels: Some([("azdo.io/tenant".to_string(), "true".to_string())].into()),
                    match_expressions: Some(vec![LabelSelectorRequirement {
                        key: "quarantine".into(),
                        operator: "DoesNotExist".into(),
                        values: None,
                    }]),
                }),
            }),
            None,
        );
        assert!(by_label.allows("team-b", Some(&labels)));
        assert!(!by_label.allows("team-b", Some(&BTreeMap::new())));
        let mut quarantined = labels.clone();
        quarantined.insert("quarantine".into(), "yes".into());
        assert!(!by_label.allows("team-b", Some(&quarantined)));
        let namespaced = spec(None, Some("team-a"));
        assert!(namespaced.allows("team-a", None));
        assert!(!namespaced.allows("team-b", None));
    }

    #[test]
    fn protected_groups_default_and_override() {
        let s = spec(None, None);
        assert!(s.is_protected("Project Collection Administrators"));
        assert!(s.is_protected("[Fabrikam]\\project administrators"));
        assert!(!s.is_protected("[Fabrikam]\\Contributors"));
        let mut custom = spec(None, None);
        custom.protected_groups = Some(vec!["[contoso]\\Release Managers".into()]);
        assert!(custom.is_protected("Release Managers"));
        assert!(!custom.is_protected("Project Administrators"));
        custom.protected_groups = Some(vec![]);
        assert!(!custom.is_protected("Project Collection Administrators"));
    }

    #[test]
    fn graph_url_is_derived_only_for_the_public_service() {
        assert_eq!(
            spec(None, None).graph_url().unwrap(),
            "https://vssps.dev.azure.com/contoso"
        );
        let mut private = spec(None, None);
        private.url = "https://127.0.0.1:8443/contoso".into();
        assert_eq!(private.graph_url().unwrap_err().reason, Reason::InvalidSpec);
        private.graph_url = Some("https://127.0.0.1:8444/contoso/".into());
        assert_eq!(
            private.graph_url().unwrap(),
            "https://127.0.0.1:8444/contoso"
        );
        assert_eq!(private.organization_name().unwrap(), "contoso");
    }

    /// A fake apiserver that serves Secrets `ops/<name>` holding a PAT, counts the reads of
    /// each, and holds a read of `slow` until `release` is notified.
    struct FakeApiserver {
        reads: Arc<std::sync::Mutex<HashMap<String, u32>>>,
        slow_arrived: Arc<tokio::sync::Notify>,
        release: Arc<tokio::sync::Notify>,
        registry: Arc<OrganizationRegistry>,
    }

    async fn fake_apiserver() -> FakeApiserver {
        use axum::extract::{Path, State};
        type Shared = (
            Arc<std::sync::Mutex<HashMap<String, u32>>>,
            Arc<tokio::sync::Notify>,
            Arc<tokio::sync::Notify>,
        );
        async fn secret(
            State((reads, arrived, release)): State<Shared>,
            Path((namespace, name)): Path<(String, String)>,
        ) -> axum::Json<serde_json::Value> {
            *reads.lock().unwrap().entry(name.clone()).or_default() += 1;
            if name == "slow" {
                arrived.notify_one();
                release.notified().await;
            }
            axum::Json(serde_json::json!({
                "apiVersion": "v1", "kind": "Secret",
                "metadata": {"name": name, "namespace": namespace, "resourceVersion": "1"},
                "data": {"token": "cGF0LXZhbHVl"}
            }))
        }
        let shared: Shared = Default::default();
        let app = axum::Router::new()
            .route(
                "/api/v1/namespaces/{namespace}/secrets/{name}",
                axum::routing::get(secret),
            )
            .with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        let config = kube::Config::new(url.parse().unwrap());
        let kube = kube::Client::try_from(config).unwrap();
        let metrics = Arc::new(AdoMetrics::register(
            &mut prometheus_client::registry::Registry::default(),
        ));
        let registry = OrganizationRegistry::new(
            kube,
            metrics,
            ClientLimits::default(),
            Some("https://login.microsoftonline.com".into()),
            None,
        );
        FakeApiserver {
            reads: shared.0,
            slow_arrived: shared.1,
            release: shared.2,
            registry: Arc::new(registry),
        }
    }

    /// A cluster organization `name` whose PAT is in Secret `ops/<secret>`.
    fn pat_org(name: &str, secret: &str) -> OrgSpec {
        let mut org = spec(None, None);
        org.key.name = name.into();
        org.url = format!("https://dev.azure.com/{name}");
        org.auth.pat = Some(crate::api::PatAuth {
            secret_ref: crate::api::SecretKeyRef {
                name: secret.into(),
                namespace: Some("ops".into()),
                ..Default::default()
            },
        });
        org
    }

    #[tokio::test]
    async fn concurrent_resolutions_of_one_organization_build_one_client() {
        let fake = fake_apiserver().await;
        let org = pat_org("contoso", "contoso-pat");
        let (a, b) = tokio::join!(
            fake.registry.handle(&org, false),
            fake.registry.handle(&org, false)
        );
        let (a, b) = (a.unwrap(), b.unwrap());
        assert!(Arc::ptr_eq(&a, &b), "both got the same client");
        assert_eq!(
            fake.reads.lock().unwrap()["contoso-pat"],
            1,
            "the Secret was read once"
        );

        // A refresh re-reads the Secret; the same resourceVersion keeps the same client.
        let refreshed = fake.registry.handle(&org, true).await.unwrap();
        assert!(Arc::ptr_eq(&a, &refreshed));
        assert_eq!(fake.reads.lock().unwrap()["contoso-pat"], 2);

        // Forgotten: the next resolution builds a new client.
        fake.registry.forget(&org.key);
        let rebuilt = fake.registry.handle(&org, false).await.unwrap();
        assert!(!Arc::ptr_eq(&a, &rebuilt));
        assert!(Arc::ptr_eq(
            &rebuilt,
            &fake.registry.handle(&org, false).await.unwrap()
        ));
    }

    #[tokio::test]
    async fn a_tenants_organization_url_is_never_a_metric_label() {
        let fake = fake_apiserver().await;
        let platform = pat_org("contoso", "contoso-pat");
        let mut tenant = pat_org("fabrikam-by-tenant", "contoso-pat");
        tenant.key.kind = OrganizationKind::DevOpsOrganization;
        tenant.key.namespace = Some("ops".into());
        let platform = fake.registry.handle(&platform, false).await.unwrap();
        let tenant = fake.registry.handle(&tenant, false).await.unwrap();
        assert_eq!(platform.client.endpoint().metrics_label, "contoso");
        assert_eq!(tenant.client.endpoint().metrics_label, "namespaced");
        assert_eq!(tenant.client.organization(), "fabrikam-by-tenant");
    }

    #[tokio::test]
    async fn a_slow_secret_read_holds_up_no_other_organization() {
        let fake = fake_apiserver().await;
        let slow = pat_org("slowpoke", "slow");
        let registry = fake.registry.clone();
        let waiting = tokio::spawn(async move { registry.handle(&slow, false).await.is_ok() });
        fake.slow_arrived.notified().await;

        // While slowpoke's Secret read hangs, contoso resolves.
        let other = pat_org("contoso", "contoso-pat");
        let resolved = tokio::time::timeout(
            std::time::Duration::from_secs(5),
            fake.registry.handle(&other, false),
        )
        .await
        .expect("not held up by the other organization's Secret read");
        assert!(resolved.is_ok());

        fake.release.notify_one();
        assert!(
            waiting.await.unwrap(),
            "the slow one finishes once its read returns"
        );
    }
}
