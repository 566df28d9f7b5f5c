//! Shared test harness: an in-process simulator over TLS and clients pointed at it.

use azdo_operator::ado::{
    AdoClient, AdoMetrics, BackoffPolicy, ClientLimits, HttpClients, OrganizationEndpoint,
    RetryLimits, ThrottleConfig,
};
use azdo_operator::auth::{
    parse_authority, token_source, AuthConfig, AuthEnvironment, OperatorIdentity, SecretString,
    TokenSource,
};
use azdo_sim::{SimOptions, Simulator};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

pub const ORG: &str = "contoso";
pub const TENANT_ID: &str = "8d3c5f4e-2b1a-4c6d-9e8f-7a6b5c4d3e2f";
pub const OPERATOR_CLIENT_ID: &str = "0b1c2d3e-4f5a-4b6c-8d7e-9f0a1b2c3d4e";
pub const OPERATOR_SECRET: &str = "sim-operator-secret";
pub const OPERATOR_PAT: &str = "simoperatorpat0000000000000000000000000000000000000000";
pub const STOREFRONT_CLIENT_ID: &str = "3c4d5e6f-7a8b-4c9d-8e0f-1a2b3c4d5e6f";
pub const STOREFRONT_SECRET: &str = "sim-storefront-secret";
pub const AUDITOR_CLIENT_ID: &str = "6a7b8c9d-0e1f-4a2b-8c3d-4e5f6a7b8c9d";
pub const AUDITOR_SECRET: &str = "sim-auditor-secret";
pub const OUTSIDER_CLIENT_ID: &str = "1d2e3f4a-5b6c-4d7e-8f9a-0b1c2d3e4f5a";
pub const OUTSIDER_SECRET: &str = "sim-outsider-secret";
pub const PLATFORM_MI_CLIENT_ID: &str = "9f8e7d6c-5b4a-4392-8180-7f6e5d4c3b2a";
pub const K8S_ISSUER: &str = "https://kubernetes.default.svc.cluster.local";

/// Short backoffs so retry tests stay fast; the shapes are the production ones.
pub fn fast_limits() -> ClientLimits {
    ClientLimits {
        throttle: ThrottleConfig {
            max_concurrency: 4,
            ..ThrottleConfig::default()
        },
        retry: RetryLimits {
            max_attempts: 6,
            max_elapsed: Duration::from_secs(30),
            backoff: BackoffPolicy {
                base: Duration::from_millis(20),
                max: Duration::from_millis(200),
            },
            request_timeout: Duration::from_secs(10),
        },
        ..ClientLimits::default()
    }
}

pub struct Harness {
    pub sim: Simulator,
    pub http: reqwest::Client,
    pub metrics: Arc<AdoMetrics>,
}

impl Harness {
    pub async fn start() -> Self {
        Self::with_options(SimOptions::default()).await
    }

    pub async fn with_options(options: SimOptions) -> Self {
        init_tracing();
        let sim = Simulator::start(azdo_sim::Seed::default_seed(), options)
            .await
            .expect("simulator starts");
        let http = HttpClients::new()
            .get(Some(&sim.ca_pem()))
            .expect("http client with the simulator CA");
        Self {
            sim,
            http,
            metrics: Arc::new(AdoMetrics::unregistered()),
        }
    }

    pub fn endpoint(&self) -> OrganizationEndpoint {
        OrganizationEndpoint::new(
            ORG,
            &format!("{}/{ORG}", self.sim.dev_url()),
            &format!("{}/{ORG}", self.sim.vssps_url()),
        )
        .and_then(|e| e.with_entitlement_url(Some(&format!("{}/{ORG}", self.sim.vsaex_url()))))
        .expect("endpoint")
    }

    pub fn client(&self, credential: Arc<dyn TokenSource>, limits: ClientLimits) -> AdoClient {
        AdoClient::new(
            self.endpoint(),
            self.http.clone(),
            credential,
            limits,
            self.metrics.clone(),
        )
    }

    /// The operator identity over its PAT (no Entra round trip).
    pub async fn pat_client(&self) -> AdoClient {
        self.client(self.pat(OPERATOR_PAT).await, fast_limits())
    }

    pub async fn pat(&self, pat: &str) -> Arc<dyn TokenSource> {
        token_source(
            AuthConfig::Pat {
                token: SecretString::new(pat),
            },
            &self.auth_env(),
        )
        .await
        .expect("pat source")
    }

    pub async fn secret(&self, client_id: &str, secret: &str) -> Arc<dyn TokenSource> {
        token_source(
            AuthConfig::ClientSecret {
                tenant_id: TENANT_ID.to_string(),
                client_id: client_id.to_string(),
                secret: SecretString::new(secret),
            },
            &self.auth_env(),
        )
        .await
        .expect("client secret source")
    }

    pub fn auth_env(&self) -> AuthEnvironment {
        AuthEnvironment {
            authority_host: parse_authority(&self.sim.login_url()).expect("https authority"),
            operator_identity: OperatorIdentity::default(),
            http: self.http.clone(),
            kube: None,
            metrics: self.metrics.clone(),
        }
    }

    /// Requests the simulator saw for `method` + route template.
    pub fn count(&self, method: &str, route: &str) -> u64 {
        self.sim.control().requests().count(method, route)
    }

    pub fn token_requests(&self) -> u64 {
        self.count("POST", "/{tenant}/oauth2/v2.0/token")
    }

    /// A subject of the organization in the simulator's state.
    pub fn subject(&self, principal_name: &str) -> azdo_sim::model::subjects::Subject {
        self.sim.control().with_state(|state| {
            state
                .organization(ORG)
                .and_then(|org| {
                    org.subjects
                        .iter()
                        .find(|s| s.principal_name.eq_ignore_ascii_case(principal_name))
                        .cloned()
                })
                .unwrap_or_else(|| panic!("{principal_name} is not a subject of {ORG}"))
        })
    }

    /// Whether the simulator holds the membership.
    pub fn has_membership(&self, container: &str, member: &str) -> bool {
        self.sim.control().with_state(|state| {
            state
                .organization(ORG)
                .is_some_and(|org| org.has_membership(container, member))
        })
    }

    /// Entra object id of a directory user.
    pub fn directory_user(&self, upn: &str) -> String {
        self.sim.control().with_state(|state| {
            state
                .directory
                .users
                .iter()
                .find(|u| u.upn.eq_ignore_ascii_case(upn))
                .map(|u| u.object_id.to_string())
                .unwrap_or_else(|| panic!("{upn} is not in the directory"))
        })
    }

    /// Entra object id of a directory group.
    pub fn directory_group(&self, display_name: &str) -> String {
        self.sim.control().with_state(|state| {
            state
                .directory
                .groups
                .iter()
                .find(|g| g.display_name.eq_ignore_ascii_case(display_name))
                .map(|g| g.object_id.to_string())
                .unwrap_or_else(|| panic!("{display_name} is not in the directory"))
        })
    }

    /// Entra object id of a directory service principal.
    pub fn directory_service_principal(&self, display_name: &str) -> String {
        self.sim.control().with_state(|state| {
            state
                .directory
                .service_principals
                .iter()
                .find(|g| g.display_name.eq_ignore_ascii_case(display_name))
                .map(|g| g.object_id.to_string())
                .unwrap_or_else(|| panic!("{display_name} is not in the directory"))
        })
    }
}

/// A fresh directory under the system temp dir.
pub fn temp_dir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("azdo-client-{tag}-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

fn init_tracing() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("TEST_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("off")),
        )
        .with_test_writer()
        .try_init();
}
