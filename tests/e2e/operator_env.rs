//! An end-to-end environment around the real operator binary: the shared control plane, an
//! in-process azdo-sim that trusts the control plane's service-account issuer, and
//! `azdo-operator run` as a child process with the operator's own workload identity (a real
//! TokenRequest token exchanged at the simulator's Entra endpoint).
//!
//! Tests that run an operator hold [`OperatorEnv::lock`] for their whole duration: operators
//! reconcile cluster-scoped organizations, so two at once would fight over them.

use std::future::Future;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use azdo_sim::{JwksSource, Seed, SimOptions, Simulator, TrustedIssuer};
use kube::api::{Api, DynamicObject, ListParams};
use serde_yaml::Value;
use tokio::process::{Child, Command};
use tokio::sync::{Mutex, MutexGuard};

use crate::support::kit::{self, Check, Fixtures, Ready};
use crate::support::{self, ControlPlane};

/// The seed's operator identity (ServiceAccount azdo-operator/azdo-operator).
pub const OPERATOR_CLIENT_ID: &str = "0b1c2d3e-4f5a-4b6c-8d7e-9f0a1b2c3d4e";
/// A tenant identity the tests add, federated with `<namespace>:azdo`.
pub const TEAM_CLIENT_ID: &str = "4f6a8b0c-2d4e-4f6a-8b0c-2d4e6f8a0b1c";
pub const OPERATOR_NAMESPACE: &str = "azdo-operator";

static LOCK: Mutex<()> = Mutex::const_new(());

pub use crate::support::kit::TestResult;

pub struct OperatorEnv {
    pub cp: &'static ControlPlane,
    pub sim: Simulator,
    pub namespace: String,
    pub dir: PathBuf,
    pub tenant_id: String,
    operators: Vec<Child>,
    _guard: MutexGuard<'static, ()>,
}

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The default seed as a YAML document, with federated credentials that trust this control
/// plane's issuer and a tenant identity for `<namespace>:azdo`.
fn seed_value_for(cp: &ControlPlane, namespace: &str) -> TestResult<Value> {
    let text = std::fs::read_to_string(repo().join("sim/seeds/default.yaml"))?;
    let mut seed: Value = serde_yaml::from_str(&text)?;
    let identities = seed["identities"]
        .as_sequence_mut()
        .ok_or("seed has no identities")?;
    for identity in identities.iter_mut() {
        if let Some(creds) = identity
            .get_mut("federatedCredentials")
            .and_then(Value::as_sequence_mut)
        {
            for cred in creds {
                cred["issuer"] = Value::from(cp.issuer());
            }
        }
    }
    let team = serde_yaml::to_value(serde_json::json!({
        "name": format!("team-{namespace}"),
        "displayName": format!("team-{namespace}"),
        "clientId": TEAM_CLIENT_ID,
        "federatedCredentials": [{
            "name": "kubernetes",
            "issuer": cp.issuer(),
            "subject": format!("system:serviceaccount:{namespace}:azdo"),
            "audiences": [support::AZURE_TOKEN_EXCHANGE_AUDIENCE],
        }],
        "access": [{"organization": kit::ORGANIZATION, "projects": "all"}],
    }))?;
    identities.push(team);
    Ok(seed)
}

impl OperatorEnv {
    /// Control plane (shared), CRDs, a fresh namespace, and a simulator for this test.
    pub async fn start(prefix: &str) -> TestResult<Self> {
        Self::boot(prefix, false).await
    }

    /// The same with exactly this namespace (created if missing), for the demo.
    pub async fn start_in_namespace(namespace: &str) -> TestResult<Self> {
        Self::boot(namespace, true).await
    }

    /// A fresh namespace named after `prefix` and a simulator whose seed is the default one
    /// changed by `customize` (for benchmarks that need a bigger directory or more projects).
    pub async fn start_with_seed(
        prefix: &str,
        customize: impl FnOnce(&mut Value) -> TestResult,
    ) -> TestResult<Self> {
        Self::boot_with(prefix, false, customize).await
    }

    /// The same on a control plane of the test's own (see [`private_control_plane`]), for tests
    /// that restart the apiserver or change a CRD, which would disturb tests sharing one.
    pub async fn start_on(cp: &'static ControlPlane, prefix: &str) -> TestResult<Self> {
        Self::boot_on(Some(cp), prefix, false, |_| Ok(())).await
    }

    async fn boot(name: &str, exact: bool) -> TestResult<Self> {
        Self::boot_with(name, exact, |_| Ok(())).await
    }

    async fn boot_with(
        name: &str,
        exact: bool,
        customize: impl FnOnce(&mut Value) -> TestResult,
    ) -> TestResult<Self> {
        Self::boot_on(None, name, exact, customize).await
    }

    async fn boot_on(
        cp: Option<&'static ControlPlane>,
        name: &str,
        exact: bool,
        customize: impl FnOnce(&mut Value) -> TestResult,
    ) -> TestResult<Self> {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new("info,azdo_sim=debug"))
            .with_test_writer()
            .try_init();
        let guard = LOCK.lock().await;
        let cp = match cp {
            Some(cp) => cp,
            None => support::shared().await?,
        };
        cp.install_crds(&repo().join("crds")).await?;
        let namespace = if exact {
            ensure_namespace(&cp.client().await?, name).await?;
            name.to_string()
        } else {
            cp.new_namespace(name).await?
        };
        let mut seed_value = seed_value_for(cp, &namespace)?;
        customize(&mut seed_value)?;
        let seed = Seed::from_yaml(&serde_yaml::to_string(&seed_value)?)?;
        let tenant_id = seed_tenant(&seed)?;
        let options = SimOptions {
            trusted_issuers: vec![TrustedIssuer {
                issuer: cp.issuer().to_string(),
                jwks: Some(JwksSource::Discovery),
            }],
            issuer_ca_pem: Some(cp.ca_pem()),
            ..SimOptions::default()
        };
        let sim = Simulator::start(seed, options).await?;
        let dir = cp.work_dir().join(format!("operator-{namespace}"));
        std::fs::create_dir_all(&dir)?;
        std::fs::write(dir.join("sim-ca.pem"), sim.ca_pem())?;
        Ok(Self {
            cp,
            sim,
            namespace,
            dir,
            tenant_id,
            operators: Vec::new(),
            _guard: guard,
        })
    }

    pub async fn client(&self) -> TestResult<kube::Client> {
        Ok(self.cp.client().await?)
    }

    pub fn org_url(&self) -> String {
        format!("{}/contoso", self.sim.dev_url())
    }

    pub fn graph_url(&self) -> String {
        format!("{}/contoso", self.sim.vssps_url())
    }

    /// Create a namespace's tenant ServiceAccount `azdo`, annotated with the team identity.
    pub async fn create_team_service_account(&self) -> TestResult {
        let client = self.client().await?;
        let api: Api<k8s_openapi::api::core::v1::ServiceAccount> =
            Api::namespaced(client, &self.namespace);
        let sa: k8s_openapi::api::core::v1::ServiceAccount =
            serde_json::from_value(serde_json::json!({
                "metadata": {"name": "azdo", "annotations": {
                    "azure.workload.identity/client-id": TEAM_CLIENT_ID,
                    "azure.workload.identity/tenant-id": self.tenant_id,
                }}
            }))?;
        api.create(&Default::default(), &sa).await?;
        Ok(())
    }

    /// Start `azdo-operator run` against the control plane and the simulator.
    /// Starts an operator replica that takes part in leader election (its Lease in this test's
    /// namespace) as `identity`, with `extra_args`.
    pub async fn start_replica(&mut self, identity: &str, extra_args: &[&str]) -> TestResult {
        let ns = self.namespace.clone();
        let mut args = vec![
            "--leader-election",
            "true",
            "--leader-election-namespace",
            &ns,
            "--identity",
            identity,
        ];
        args.extend_from_slice(extra_args);
        self.start_operator(&args).await
    }

    pub async fn start_operator(&mut self, extra_args: &[&str]) -> TestResult {
        let mut args = defaults_unless_given(
            extra_args,
            &[
                ("--metrics-addr", "127.0.0.1:0"),
                ("--log-format", "text"),
                ("--leader-election", "false"),
                ("--log-level", "info,azdo_operator=debug"),
                ("--resync-interval", "30s"),
            ],
        );
        args.extend(extra_args.iter().map(|a| a.to_string()));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        self.start_operator_with(&operator_binary()?, &args)
            .await
            .map(|_| ())
    }

    /// Start `binary run` with the kubeconfig, the operator's workload identity and the
    /// simulator's CA, followed by exactly `args` (no defaults added). Returns the process id.
    pub async fn start_operator_with(&mut self, binary: &Path, args: &[&str]) -> TestResult<u32> {
        let client = self.client().await?;
        let ns_api: Api<k8s_openapi::api::core::v1::Namespace> = Api::all(client.clone());
        if ns_api.get_opt(OPERATOR_NAMESPACE).await?.is_none() {
            let ns = serde_json::from_value(
                serde_json::json!({"metadata": {"name": OPERATOR_NAMESPACE}}),
            )?;
            ns_api.create(&Default::default(), &ns).await?;
        }
        let sa_api: Api<k8s_openapi::api::core::v1::ServiceAccount> =
            Api::namespaced(client, OPERATOR_NAMESPACE);
        if sa_api.get_opt("azdo-operator").await?.is_none() {
            self.cp
                .create_service_account(OPERATOR_NAMESPACE, "azdo-operator")
                .await?;
        }
        let token = self
            .cp
            .service_account_token(
                OPERATOR_NAMESPACE,
                "azdo-operator",
                &[support::AZURE_TOKEN_EXCHANGE_AUDIENCE],
            )
            .await?;
        let token_file = self.dir.join("azure-identity-token");
        std::fs::write(&token_file, token)?;
        let log_name = if self.operators.is_empty() {
            "operator.log".to_string()
        } else {
            format!("operator-{}.log", self.operators.len())
        };
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.join(log_name))?;
        let mut command = Command::new(binary);
        command
            .arg("run")
            .args([
                "--kubeconfig",
                self.cp.kubeconfig_path().to_str().ok_or("path")?,
            ])
            .args(args)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("AZURE_CLIENT_ID", OPERATOR_CLIENT_ID)
            .env("AZURE_TENANT_ID", &self.tenant_id)
            .env("AZURE_FEDERATED_TOKEN_FILE", &token_file)
            .env("AZURE_AUTHORITY_HOST", self.sim.login_url())
            .env("AZDO_EXTRA_CA_FILE", self.dir.join("sim-ca.pem"))
            .stdout(Stdio::from(log.try_clone()?))
            .stderr(Stdio::from(log))
            .kill_on_drop(true);
        let child = command.spawn()?;
        let pid = child.id().ok_or("the operator exited at once")?;
        self.operators.push(child);
        Ok(pid)
    }

    /// The process id of the operator started `index`-th (0-based), while it runs.
    pub fn operator_pid(&self, index: usize) -> Option<u32> {
        self.operators.get(index).and_then(Child::id)
    }

    /// Stop every operator this environment started (SIGKILL) and wait for them.
    pub async fn kill_operator(&mut self) {
        for mut child in self.operators.drain(..) {
            let _ = child.kill().await;
        }
    }

    /// How the operator started `index`-th (0-based) exited, or `None` while it runs.
    pub fn operator_exit(&mut self, index: usize) -> Option<std::process::ExitStatus> {
        self.operators
            .get_mut(index)
            .and_then(|child| child.try_wait().ok().flatten())
    }

    /// SIGKILL the operator started `index`-th (0-based); the others keep running.
    pub async fn kill_operator_at(&mut self, index: usize) {
        if let Some(child) = self.operators.get_mut(index) {
            let _ = child.kill().await;
        }
    }

    /// SIGTERM the operator started `index`-th and wait until it has exited (graceful shutdown).
    pub async fn terminate_operator_at(&mut self, index: usize) -> TestResult {
        if let Some(child) = self.operators.get_mut(index) {
            if let Some(pid) = child.id() {
                // SAFETY: sending a signal to our own child process.
                unsafe { libc::kill(pid as i32, libc::SIGTERM) };
            }
            tokio::time::timeout(Duration::from_secs(20), child.wait()).await??;
        }
        Ok(())
    }

    /// Every operator's log (the first one's, then the others' in start order).
    pub fn operator_log_all(&self) -> String {
        let mut all = self.operator_log();
        for i in 1..self.operators.len() {
            all.push_str(
                &std::fs::read_to_string(self.dir.join(format!("operator-{i}.log")))
                    .unwrap_or_default(),
            );
        }
        all
    }

    pub fn operator_log(&self) -> String {
        std::fs::read_to_string(self.dir.join("operator.log")).unwrap_or_default()
    }

    /// Where this test's fixtures go: its namespace and its simulator.
    pub fn fixtures(&self) -> Fixtures {
        Fixtures::new(&self.namespace, &self.org_url(), &self.graph_url())
            .with_entitlement_url(&format!("{}/contoso", self.sim.vsaex_url()))
            .isolated()
    }

    /// The samples under config/samples, pointed at this test's namespace and simulator.
    pub fn samples(&self) -> TestResult<Vec<DynamicObject>> {
        self.fixtures().samples()
    }

    /// Server-side apply objects (as the admin).
    pub async fn apply(&self, objs: &[DynamicObject]) -> TestResult {
        kit::apply(&self.client().await?, objs).await
    }

    /// The object as stored now.
    pub async fn get(&self, obj: &DynamicObject) -> TestResult<DynamicObject> {
        kit::get(&self.client().await?, obj).await
    }

    /// The object's Ready condition now.
    pub async fn ready(&self, obj: &DynamicObject) -> TestResult<Option<Ready>> {
        Ok(Ready::of(&self.get(obj).await?))
    }

    /// Delete objects and wait until they are gone (finalizers done).
    pub async fn delete_and_wait(&self, objs: &[DynamicObject], timeout: Duration) -> TestResult {
        let client = self.client().await?;
        self.with_tail(kit::delete_and_wait(&client, objs, timeout).await)
    }

    /// Delete objects dependants first (see [`kit::delete_in_order`]), all within `timeout`.
    pub async fn delete_in_order(&self, objs: &[DynamicObject], timeout: Duration) -> TestResult {
        let client = self.client().await?;
        self.with_tail(kit::delete_in_order(&client, objs, timeout).await)
    }

    /// Wait until every object reports Ready=`status` for its generation.
    pub async fn wait_ready(
        &self,
        objs: &[DynamicObject],
        status: &str,
        timeout: Duration,
    ) -> TestResult<Vec<DynamicObject>> {
        let client = self.client().await?;
        self.with_tail(kit::wait_ready(&client, objs, status, timeout).await)
    }

    /// Wait until the object's Ready condition has `reason`; returns the condition.
    pub async fn wait_for_reason(
        &self,
        obj: &DynamicObject,
        reason: azdo_operator::reason::Reason,
        timeout: Duration,
    ) -> TestResult<Ready> {
        let client = self.client().await?;
        self.with_tail(kit::wait_for_reason(&client, obj, reason, timeout).await)
    }

    /// [`kit::eventually`], with the operator's log on failure.
    pub async fn eventually<F, Fut>(&self, what: &str, timeout: Duration, check: F) -> TestResult
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = TestResult<bool>>,
    {
        self.with_tail(kit::eventually(what, timeout, check).await)
    }

    /// [`kit::until`], with the operator's log on failure.
    pub async fn until<T, F, Fut>(&self, what: &str, timeout: Duration, check: F) -> TestResult<T>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = TestResult<Check<T>>>,
    {
        self.with_tail(kit::until(what, timeout, check).await)
    }

    /// A failure with the last lines of the operator's log appended.
    fn with_tail<T>(&self, result: TestResult<T>) -> TestResult<T> {
        result.map_err(|e| format!("{e}\n{}", self.tail()).into())
    }

    /// The last lines of the operator's log, for failure messages.
    pub fn tail(&self) -> String {
        let log = self.operator_log();
        let lines: Vec<&str> = log.lines().collect();
        format!(
            "--- operator log (tail) ---\n{}",
            lines[lines.len().saturating_sub(60)..].join("\n")
        )
    }
}

impl Drop for OperatorEnv {
    fn drop(&mut self) {
        for child in self.operators.iter_mut() {
            let _ = child.start_kill();
        }
    }
}

/// `flag value` pairs for every default whose flag `given` does not set itself.
fn defaults_unless_given(given: &[&str], defaults: &[(&str, &str)]) -> Vec<String> {
    defaults
        .iter()
        .filter(|(flag, _)| !given.contains(flag))
        .flat_map(|(flag, value)| [flag.to_string(), value.to_string()])
        .collect()
}

/// The operator binary: Cargo's for tests, else next to the running executable.
/// A control plane for one test, alive until the test process exits unless the test calls
/// [`ControlPlane::stop`] (it is leaked so that an [`OperatorEnv`] can borrow it like the shared
/// one).
pub async fn private_control_plane() -> TestResult<&'static ControlPlane> {
    Ok(Box::leak(Box::new(ControlPlane::start().await?)))
}

pub fn operator_binary() -> TestResult<PathBuf> {
    if let Some(path) = option_env!("CARGO_BIN_EXE_azdo-operator") {
        return Ok(PathBuf::from(path));
    }
    let exe = std::env::current_exe()?;
    for dir in exe.ancestors().skip(1).take(3) {
        let candidate = dir.join("azdo-operator");
        if candidate.is_file() {
            return Ok(candidate);
        }
    }
    Err("azdo-operator binary not found: run `cargo build --bins`".into())
}

async fn ensure_namespace(client: &kube::Client, name: &str) -> TestResult {
    let api: Api<k8s_openapi::api::core::v1::Namespace> = Api::all(client.clone());
    if api.get_opt(name).await?.is_none() {
        let ns = serde_json::from_value(serde_json::json!({"metadata": {"name": name}}))?;
        api.create(&Default::default(), &ns).await?;
    }
    Ok(())
}

fn seed_tenant(seed: &Seed) -> TestResult<String> {
    let value = serde_json::to_value(seed)?;
    value["tenant"]["id"]
        .as_str()
        .map(str::to_string)
        .ok_or_else(|| "seed has no tenant id".into())
}

/// Everything under test in the simulator: groups, memberships, pipeline authorizations,
/// security role assignments.
pub fn sim_snapshot(sim: &Simulator) -> serde_json::Value {
    sim.control().with_state(|state| {
        let org = state.organization("contoso").expect("seed has contoso");
        let name = |d: &str| org.subject(d).map(|s| s.principal_name.clone()).unwrap_or_else(|| d.to_string());
        let mut groups: Vec<String> = org
            .subjects
            .iter()
            .filter(|s| s.is_group() && !s.deleted)
            .map(|s| s.principal_name.clone())
            .collect();
        groups.sort();
        let mut memberships: Vec<String> = org
            .memberships
            .iter()
            .map(|m| format!("{} <- {}", name(&m.container), name(&m.member)))
            .collect();
        memberships.sort();
        let mut permissions = Vec::new();
        for project in &org.projects {
            for resource in &project.permissions {
                let mut ids: Vec<u32> = resource
                    .pipelines
                    .iter()
                    .filter(|p| p.history.latest().is_some_and(|v| v.authorized))
                    .map(|p| p.pipeline_id)
                    .collect();
                ids.sort();
                let all = resource.all_pipelines.latest().is_some_and(|v| v.authorized);
                if ids.is_empty() && !all {
                    continue; // nothing authorized: the same as no record
                }
                permissions.push(format!("{}/{}/{}: {ids:?} all={all}", project.name, resource.resource_type.wire_name(), resource.resource_id));
            }
        }
        permissions.sort();
        let mut roles = Vec::new();
        for resource in &org.role_assignments {
            let mut held: Vec<String> = resource
                .assignments
                .iter()
                .map(|a| {
                    let who = org
                        .subjects
                        .iter()
                        .find(|s| s.storage_key == a.identity_id)
                        .map_or_else(|| a.identity_id.to_string(), |s| s.principal_name.clone());
                    format!("{who}={}", a.role)
                })
                .collect();
            if held.is_empty() && resource.inherit {
                continue; // nothing assigned, inheriting: the same as no record
            }
            held.sort();
            roles.push(format!(
                "{:?}/{}: {held:?} inherit={}",
                resource.scope, resource.resource_id, resource.inherit
            ));
        }
        roles.sort();
        let mut checks: Vec<String> = org
            .projects
            .iter()
            .flat_map(|p| {
                p.checks.iter().map(move |c| {
                    format!(
                        "{}/{}/{} #{} {:?} timeout={} {}",
                        p.name,
                        c.resource_type.wire_name(),
                        c.resource_id,
                        c.id,
                        c.kind,
                        c.timeout,
                        c.settings
                    )
                })
            })
            .collect();
        checks.sort();
        let mut entitlements: Vec<String> = org
            .entitlements
            .members
            .iter()
            .map(|m| format!("{}={:?} {:?}", name(&m.descriptor), m.licence, m.projects))
            .chain(org.entitlements.rules.iter().map(|r| {
                format!("rule {}={:?} {:?}", name(&r.group), r.licence, r.projects)
            }))
            .collect();
        entitlements.sort();
        serde_json::json!({"groups": groups, "memberships": memberships, "permissions": permissions, "roles": roles, "checks": checks, "entitlements": entitlements})
    })
}

/// `(reason, message)` of the Events about the object `name` in the test's namespace.
pub async fn events_for(env: &OperatorEnv, name: &str) -> TestResult<Vec<(String, String)>> {
    let api: Api<k8s_openapi::api::core::v1::Event> =
        Api::namespaced(env.client().await?, &env.namespace);
    let events = api
        .list(&ListParams::default().fields(&format!("involvedObject.name={name}")))
        .await?;
    Ok(events
        .items
        .into_iter()
        .map(|e| (e.reason.unwrap_or_default(), e.message.unwrap_or_default()))
        .collect())
}
