//! A real Kubernetes control plane (etcd, kube-apiserver, kube-controller-manager) on loopback.
//!
//! One control plane is shared by all tests of a test binary ([`shared`]); each test takes its
//! own namespace ([`ControlPlane::new_namespace`]).

use super::binaries::{self, HELM, KUBECTL};
use super::certs::{PemPair, Pki};
use super::error::{HarnessError, HarnessResult};
use super::http::https_client;
use super::kubeconfig::{client_from_kubeconfig, write_kubeconfig, Credentials};
use super::launch;
use super::manifests::{self, AppliedObject};
use super::process::ManagedProcess;
use super::service_account;
use super::workdir::{create_work_dir, write_pki_files};
use k8s_openapi::api::core::v1::{Namespace, ServiceAccount};
use k8s_openapi::api::rbac::v1::ClusterRoleBinding;
use kube::api::{Api, PostParams};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

/// Audience of the tokens Azure workload identity federation exchanges.
pub const AZURE_TOKEN_EXCHANGE_AUDIENCE: &str = "api://AzureADTokenExchange";

/// The control plane shared by every test in this process, started on first use. A failed start
/// is remembered, so the other tests fail at once with the same error.
pub async fn shared() -> HarnessResult<&'static ControlPlane> {
    static SHARED: tokio::sync::OnceCell<Result<ControlPlane, String>> =
        tokio::sync::OnceCell::const_new();
    SHARED
        .get_or_init(|| async { ControlPlane::start().await.map_err(|e| e.to_string()) })
        .await
        .as_ref()
        .map_err(|e| HarnessError::Invalid(format!("the shared control plane did not start: {e}")))
}

#[derive(Debug)]
pub struct ControlPlane {
    dir: PathBuf,
    bin_dir: PathBuf,
    pki: Pki,
    server_url: String,
    kubeconfig_path: PathBuf,
    startup: Duration,
    ports: launch::Ports,
    etcd: ManagedProcess,
    apiserver: ManagedProcess,
    controller_manager: ManagedProcess,
    namespaces_created: AtomicU32,
}
impl ControlPlane {
    /// Starts a new control plane. Prefer [`shared`] in tests.
    pub async fn start() -> HarnessResult<Self> {
        let started = Instant::now();
        let bin_dir = tokio::task::spawn_blocking(binaries::bin_dir)
            .await
            .map_err(|e| HarnessError::Invalid(format!("locating binaries: {e}")))??;
        let binaries_ready = started.elapsed();
        let started = Instant::now();
        let dir = create_work_dir()?;
        let pki = Pki::generate()?;
        write_pki_files(&dir, &pki)?;
        let (etcd, apiserver, ports) = launch::etcd_and_apiserver(&bin_dir, &dir, &pki).await?;

        let server_url = format!("https://127.0.0.1:{}", ports.apiserver);
        let kubeconfig_path = dir.join("admin.kubeconfig");
        write_kubeconfig(
            &kubeconfig_path,
            &server_url,
            &pki.ca_pem(),
            Credentials::ClientCert(&pki.admin),
        )?;
        let controller_manager = launch::controller_manager(&bin_dir, &dir, &kubeconfig_path)?;
        let plane = Self {
            dir,
            bin_dir,
            pki,
            server_url,
            kubeconfig_path,
            startup: started.elapsed(),
            ports,
            etcd,
            apiserver,
            controller_manager,
            namespaces_created: AtomicU32::new(0),
        };
        plane.allow_anonymous_oidc_discovery().await?;
        eprintln!(
            "e2e harness: control plane {} ready in {:.1}s (binaries located in {:.1}s), files in {}",
            plane.server_url,
            plane.startup.as_secs_f64(),
            binaries_ready.as_secs_f64(),
            plane.dir.display()
        );
        Ok(plane)
    }

    /// The admin kubeconfig (client certificate in `system:masters`).
    pub fn kubeconfig_path(&self) -> &Path {
        &self.kubeconfig_path
    }

    /// `https://127.0.0.1:<port>`.
    pub fn server_url(&self) -> &str {
        &self.server_url
    }

    /// The service-account token issuer; the apiserver serves its OIDC discovery document and
    /// JWKS anonymously (`/.well-known/openid-configuration`, `/openid/v1/jwks`).
    pub fn issuer(&self) -> &str {
        &self.server_url
    }

    /// The CA that signed the apiserver's serving certificate and the client certificates.
    pub fn ca_pem(&self) -> String {
        self.pki.ca_pem()
    }

    /// Where etcd, kube-apiserver, kube-controller-manager, kubectl and helm are.
    pub fn bin_dir(&self) -> &Path {
        &self.bin_dir
    }

    /// The temporary directory with certificates, data and logs (removed at process exit).
    pub fn work_dir(&self) -> &Path {
        &self.dir
    }

    /// Time from creating the work dir to a ready apiserver (excludes locating binaries).
    pub fn startup_duration(&self) -> Duration {
        self.startup
    }

    /// A new admin client. Clients are cheap; make one per test (each test has its own runtime).
    pub async fn client(&self) -> HarnessResult<kube::Client> {
        client_from_kubeconfig(&self.kubeconfig_path).await
    }

    /// A client certificate for `user` (and `group`) signed by the cluster CA.
    pub fn issue_client_cert(&self, user: &str, group: Option<&str>) -> HarnessResult<PemPair> {
        Ok(self.pki.issue_client_cert(user, group)?)
    }

    /// An HTTPS client trusting the cluster CA; anonymous unless `identity` is given.
    pub fn https_client(&self, identity: Option<&PemPair>) -> HarnessResult<reqwest::Client> {
        https_client(&self.ca_pem(), identity)
    }

    /// Writes a kubeconfig at `path` that authenticates with a bearer `token`.
    pub fn kubeconfig_for_token(&self, token: &str, path: &Path) -> HarnessResult<()> {
        write_kubeconfig(
            path,
            &self.server_url,
            &self.ca_pem(),
            Credentials::BearerToken(token),
        )
    }

    /// Creates a namespace `<prefix>-<n>-<random>` that no other test uses, and returns its name.
    pub async fn new_namespace(&self, prefix: &str) -> HarnessResult<String> {
        let sequence = self.namespaces_created.fetch_add(1, Ordering::Relaxed);
        let name = namespace_name(prefix, sequence, rand::random::<u16>());
        let namespace = Namespace {
            metadata: kube::api::ObjectMeta {
                name: Some(name.clone()),
                labels: Some([("azdo-e2e/test".to_string(), "true".to_string())].into()),
                ..Default::default()
            },
            ..Default::default()
        };
        Api::<Namespace>::all(self.client().await?)
            .create(&PostParams::default(), &namespace)
            .await?;
        Ok(name)
    }

    /// Applies every manifest in `dir` with server-side apply and waits until each CRD among them
    /// is Established; a missing or empty `dir` installs nothing. Returns the CRD names.
    pub async fn install_crds(&self, dir: &Path) -> HarnessResult<Vec<String>> {
        manifests::install_crds(&self.client().await?, dir).await
    }

    /// Server-side applies a YAML file, or every YAML file of a directory; namespaced objects
    /// without a namespace go to `default_namespace`.
    pub async fn apply_manifests(
        &self,
        path: &Path,
        default_namespace: Option<&str>,
    ) -> HarnessResult<Vec<AppliedObject>> {
        let files = if path.is_dir() {
            manifests::manifest_files(path)?
        } else {
            vec![path.to_path_buf()]
        };
        manifests::apply_files(&self.client().await?, &files, default_namespace).await
    }

    /// Creates the ServiceAccount `namespace/name`, with no RBAC.
    pub async fn create_service_account(
        &self,
        namespace: &str,
        name: &str,
    ) -> HarnessResult<ServiceAccount> {
        service_account::create_service_account(&self.client().await?, namespace, name).await
    }

    /// A one-hour token for `namespace/name` from the TokenRequest API, for `audiences` (empty:
    /// the apiserver's default audience).
    pub async fn service_account_token(
        &self,
        namespace: &str,
        name: &str,
        audiences: &[&str],
    ) -> HarnessResult<String> {
        service_account::request_token(&self.client().await?, namespace, name, audiences, 3600)
            .await
    }

    /// A command for one of the pinned tools (`kubectl`, `helm`, ...) using the admin kubeconfig;
    /// helm's cache, config and data stay inside the work dir.
    pub fn command(&self, tool: &str) -> Command {
        let mut command = Command::new(self.bin_dir.join(tool));
        command.env("KUBECONFIG", &self.kubeconfig_path);
        if tool == HELM {
            let helm_home = self.dir.join("helm");
            command
                .env("HELM_CACHE_HOME", helm_home.join("cache"))
                .env("HELM_CONFIG_HOME", helm_home.join("config"))
                .env("HELM_DATA_HOME", helm_home.join("data"));
        }
        command
    }

    pub fn kubectl(&self) -> Command {
        self.command(KUBECTL)
    }

    pub fn helm(&self) -> Command {
        self.command(HELM)
    }

    /// Whether kube-controller-manager (namespace deletion, garbage collection, default service
    /// accounts) is still running.
    pub fn controller_manager_running(&self) -> bool {
        self.controller_manager.exit_status().is_none()
    }

    /// Kills kube-apiserver (SIGKILL, as in a crash or a node loss). etcd keeps the data, so
    /// [`ControlPlane::start_apiserver_again`] brings back the same cluster. Only for a control
    /// plane of the test's own ([`ControlPlane::start`]): the shared one serves other tests.
    pub fn kill_apiserver(&self) {
        self.apiserver.kill();
    }

    /// Starts kube-apiserver again with the same command line (same port, certificates and etcd
    /// keys) and waits until it is ready. Returns how long that took.
    pub async fn start_apiserver_again(&self) -> HarnessResult<Duration> {
        let started = Instant::now();
        self.apiserver.respawn(launch::apiserver_command(
            &self.bin_dir,
            &self.dir,
            &self.ports,
        ))?;
        launch::wait_apiserver_ready(&self.pki, &self.ports, &self.etcd, &self.apiserver).await?;
        Ok(started.elapsed())
    }

    /// Stops every process of this control plane, for a control plane a test started for itself
    /// and is done with (the shared one lives until the test process exits).
    pub fn stop(&self) {
        self.controller_manager.kill();
        self.apiserver.kill();
        self.etcd.kill();
    }

    /// The last `lines` lines of the etcd, kube-apiserver and kube-controller-manager logs.
    pub fn log_tails(&self, lines: usize) -> String {
        [&self.etcd, &self.apiserver, &self.controller_manager]
            .iter()
            .map(|p| format!("--- {} ---\n{}", p.log_path().display(), p.log_tail(lines)))
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// Lets anyone read the OIDC discovery document and JWKS, as an external token verifier must.
    async fn allow_anonymous_oidc_discovery(&self) -> HarnessResult<()> {
        let binding: ClusterRoleBinding = serde_json::from_value(serde_json::json!({
            "metadata": { "name": "azdo-e2e:anonymous-oidc-discovery" },
            "roleRef": {
                "apiGroup": "rbac.authorization.k8s.io",
                "kind": "ClusterRole",
                "name": "system:service-account-issuer-discovery",
            },
            "subjects": [{
                "apiGroup": "rbac.authorization.k8s.io",
                "kind": "Group",
                "name": "system:unauthenticated",
            }],
        }))
        .map_err(|e| HarnessError::Invalid(format!("building the discovery binding: {e}")))?;
        Api::<ClusterRoleBinding>::all(self.client().await?)
            .create(&PostParams::default(), &binding)
            .await?;
        Ok(())
    }
}
/// `<prefix>-<sequence>-<suffix>`, a valid DNS label whatever `prefix` holds.
fn namespace_name(prefix: &str, sequence: u32, suffix: u16) -> String {
    let cleaned: String = prefix
        .to_ascii_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .take(40)
        .collect();
    let cleaned = cleaned.trim_matches('-');
    let cleaned = if cleaned.is_empty() { "test" } else { cleaned };
    format!("{cleaned}-{sequence}-{suffix:04x}")
}

#[cfg(test)]
mod tests {
    use super::namespace_name;

    #[test]
    fn namespace_names_are_dns_labels() {
        assert_eq!(namespace_name("My_Test", 3, 0xab), "my-test-3-00ab");
        assert_eq!(namespace_name("--", 0, 1), "test-0-0001");
        let long = namespace_name(&"x".repeat(100), 4_000_000_000, 0xffff);
        assert!(long.len() <= 63, "{long} is longer than a DNS label");
    }
}
