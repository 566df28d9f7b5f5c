//! Least privilege, proven: the chart installed into namespace azdo-operator, and the real
//! operator running as the chart's ServiceAccount (a TokenRequest token in its kubeconfig, not
//! the admin's) with the chart's Deployment environment. The samples go Ready and their
//! deletion completes with nothing else granted; per-namespace identities need the chart's
//! perNamespaceIdentities switch, and work once it is on.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::events::v1::Event;
use kube::api::{Api, DynamicObject, ListParams, Patch, PatchParams};
use kube::ResourceExt;
use serde_json::json;
use tokio::process::{Child, Command};

use crate::operator_env::{OperatorEnv, TestResult, OPERATOR_CLIENT_ID};
use crate::packaging::tools::{chart_dir, documents, ensure_namespace, find, run, TOOL_TIMEOUT};
use crate::support::kit::objects::kind_of;
use crate::support::kit::{api_for, Ready};
use crate::support::{self, ControlPlane};

const NAMESPACE: &str = "azdo-operator";
const RELEASE: &str = "azdo-operator";
const SERVICE_ACCOUNT: &str = "azdo-operator";
const POD_NAME: &str = "azdo-operator-rbac-test";
const CONVERGE: Duration = Duration::from_secs(90);

async fn helm(cp: &ControlPlane, args: &[&str]) -> TestResult<String> {
    let mut helm = cp.helm();
    helm.args(args);
    run(helm, None, TOOL_TIMEOUT).await
}

/// The operator container's plain environment in the installed release's Deployment.
async fn chart_environment(cp: &ControlPlane) -> TestResult<Vec<(String, String)>> {
    let manifest = helm(cp, &["get", "manifest", RELEASE, "--namespace", NAMESPACE]).await?;
    let docs = documents(&manifest)?;
    let deployment = find(&docs, "Deployment", RELEASE)?;
    let container = &deployment["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(
        deployment["spec"]["template"]["spec"]["serviceAccountName"],
        SERVICE_ACCOUNT
    );
    Ok(container["env"]
        .as_array()
        .ok_or("the container has no env")?
        .iter()
        .filter_map(|e| {
            Some((
                e["name"].as_str()?.to_string(),
                e["value"].as_str()?.to_string(),
            ))
        })
        .collect())
}

/// Start `azdo-operator run` as the chart's ServiceAccount. What a pod gets from Kubernetes and
/// the workload identity webhook is supplied by hand: POD_NAME/POD_NAMESPACE, the federated
/// token file and the AZURE_* variables (pointing at the simulator).
async fn start_operator(env: &OperatorEnv, kubeconfig: &Path) -> TestResult<Child> {
    let cp = env.cp;
    let federated = cp
        .service_account_token(
            NAMESPACE,
            SERVICE_ACCOUNT,
            &[support::AZURE_TOKEN_EXCHANGE_AUDIENCE],
        )
        .await?;
    let token_file = env.dir.join("rbac-azure-identity-token");
    std::fs::write(&token_file, federated)?;
    let log = std::fs::File::create(env.dir.join("operator.log"))?;
    let mut command = Command::new(env!("CARGO_BIN_EXE_azdo-operator"));
    command
        .arg("run")
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .envs(chart_environment(cp).await?)
        .env("KUBECONFIG", kubeconfig)
        .env("POD_NAME", POD_NAME)
        .env("POD_NAMESPACE", NAMESPACE)
        .env("AZDO_METRICS_ADDR", "127.0.0.1:0")
        .env("AZDO_LOG_FORMAT", "text")
        .env("AZDO_LOG_LEVEL", "info,azdo_operator=debug")
        .env("AZDO_RESYNC_INTERVAL", "30s")
        .env("AZDO_EXTRA_CA_FILE", env.dir.join("sim-ca.pem"))
        .env("AZURE_CLIENT_ID", OPERATOR_CLIENT_ID)
        .env("AZURE_TENANT_ID", &env.tenant_id)
        .env("AZURE_FEDERATED_TOKEN_FILE", &token_file)
        .env("AZURE_AUTHORITY_HOST", env.sim.login_url())
        .stdout(Stdio::from(log.try_clone()?))
        .stderr(Stdio::from(log))
        .kill_on_drop(true);
    Ok(command.spawn()?)
}

fn named(objs: &[DynamicObject], kind: &str, name: &str) -> TestResult<DynamicObject> {
    objs.iter()
        .find(|o| kind_of(o) == kind && o.name_any() == name)
        .cloned()
        .ok_or_else(|| format!("no sample {kind} {name}").into())
}

/// The samples that do not depend on the namespace's own identity (DevOpsOrganization contoso).
fn independent_of_namespace_identity(objs: &[DynamicObject]) -> Vec<DynamicObject> {
    let uses_namespaced_org = |o: &DynamicObject| {
        o.data["spec"]["organizationRef"]["kind"].as_str() == Some("DevOpsOrganization")
            || kind_of(o) == "DevOpsOrganization"
    };
    // The exclusive membership lists the Entra group, which uses the namespaced organization.
    objs.iter()
        .filter(|o| !uses_namespaced_org(o))
        .filter(|o| {
            !(kind_of(o) == "DevOpsMembership"
                && o.data["spec"]["mode"].as_str() == Some("Exclusive"))
        })
        .cloned()
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operator_with_only_the_chart_rbac_converges_and_cleans_up_the_samples() -> TestResult {
    let env = OperatorEnv::start("rbac").await?;
    let cp = env.cp;
    env.create_team_service_account().await?;
    ensure_namespace(cp, NAMESPACE).await?;
    let chart = chart_dir();
    let chart = chart.to_str().ok_or("chart path")?;
    let client_id = format!("workloadIdentity.clientId={OPERATOR_CLIENT_ID}");
    let tenant_id = format!("workloadIdentity.tenantId={}", env.tenant_id);
    // The harness installed the CRDs; a ServiceAccount azdo-operator may exist from another test.
    helm(
        cp,
        &[
            "upgrade",
            "--install",
            RELEASE,
            chart,
            "--namespace",
            NAMESPACE,
            "--take-ownership",
            "--set",
            "crds.install=false",
            "--set",
            &client_id,
            "--set",
            &tenant_id,
        ],
    )
    .await?;
    let result = run_as_chart_service_account(&env).await;
    let uninstall = helm(cp, &["uninstall", RELEASE, "--namespace", NAMESPACE]).await;
    result?;
    uninstall?;
    Ok(())
}

async fn run_as_chart_service_account(env: &OperatorEnv) -> TestResult {
    let cp = env.cp;
    let token = cp
        .service_account_token(NAMESPACE, SERVICE_ACCOUNT, &[])
        .await?;
    let kubeconfig: PathBuf = env.dir.join("operator-sa.kubeconfig");
    cp.kubeconfig_for_token(&token, &kubeconfig)?;
    let mut operator = start_operator(env, &kubeconfig).await?;
    let outcome = exercise(env).await;
    let _ = operator.kill().await;
    outcome
}

async fn exercise(env: &OperatorEnv) -> TestResult {
    let cp = env.cp;
    let samples = env.samples()?;

    // Without perNamespaceIdentities the operator may not use the team's ServiceAccount.
    let started = Instant::now();
    env.apply(&samples).await?;
    let independent = independent_of_namespace_identity(&samples);
    env.wait_ready(&independent, "True", CONVERGE).await?;
    let team_org = named(&samples, "DevOpsOrganization", "contoso")?;
    let refused = env
        .wait_ready(std::slice::from_ref(&team_org), "False", CONVERGE)
        .await?;
    let Ready {
        reason, message, ..
    } = Ready::of(&refused[0]).ok_or("no Ready condition")?;
    assert!(
        message.contains("forbidden") && message.contains("serviceaccounts"),
        "{reason}: {message}"
    );
    eprintln!(
        "{} samples Ready as the chart's ServiceAccount in {:?}; the team organization refused: {reason}",
        independent.len(),
        started.elapsed()
    );

    // Turn the switch on; touch the organization so it is retried at once.
    let chart = chart_dir();
    helm(
        cp,
        &[
            "upgrade",
            RELEASE,
            chart.to_str().ok_or("chart path")?,
            "--namespace",
            NAMESPACE,
            "--reuse-values",
            "--set",
            "perNamespaceIdentities.enabled=true",
        ],
    )
    .await?;
    let client = env.client().await?;
    api_for(&client, &team_org)?
        .patch(
            "contoso",
            &PatchParams::default(),
            &Patch::Merge(json!({"metadata": {"annotations": {"azdo-e2e/retry": "rbac"}}})),
        )
        .await?;
    let started = Instant::now();
    env.wait_ready(&samples, "True", CONVERGE).await?;
    eprintln!(
        "every sample Ready {:?} after enabling perNamespaceIdentities",
        started.elapsed()
    );

    // Leader election used the chart's Lease, in the chart's namespace.
    let leases: Api<Lease> = Api::namespaced(client.clone(), NAMESPACE);
    let lease = leases.get("azdo-operator-leader").await?;
    assert_eq!(
        lease.spec.and_then(|s| s.holder_identity).as_deref(),
        Some(POD_NAME)
    );
    // Events were published for namespaced objects and for the cluster organization.
    for namespace in [env.namespace.as_str(), "default"] {
        let events: Api<Event> = Api::namespaced(client.clone(), namespace);
        let ours = events
            .list(&ListParams::default())
            .await?
            .items
            .into_iter()
            .filter(|e| e.reporting_instance.as_deref() == Some(POD_NAME))
            .count();
        assert!(ours > 0, "no Events from the operator in {namespace}");
    }

    // Deleting the samples runs every finalizer (organizations last).
    env.delete_in_order(&samples, Duration::from_secs(90))
        .await?;

    // Nothing else was refused: the only RBAC denials in the log are the ServiceAccount reads
    // before the switch (and the organization status quoting them).
    let log = env.operator_log();
    let refusals: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("forbidden") || l.contains("cannot publish event"))
        .filter(|l| !l.contains("resource \"serviceaccounts\""))
        .collect();
    assert!(
        refusals.is_empty(),
        "the operator was refused something: {refusals:#?}"
    );
    Ok(())
}
