//! Launching etcd, kube-apiserver and kube-controller-manager with the flags the tests rely on.

use super::binaries::{ETCD, KUBE_APISERVER, KUBE_CONTROLLER_MANAGER};
use super::certs::Pki;
use super::controlplane::AZURE_TOKEN_EXCHANGE_AUDIENCE;
use super::error::{HarnessError, HarnessResult};
use super::http::https_client;
use super::ports::free_loopback_ports;
use super::process::ManagedProcess;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

const START_ATTEMPTS: u32 = 3;
const READY_TIMEOUT: Duration = Duration::from_secs(90);

#[derive(Debug, Clone, Copy)]
pub struct Ports {
    pub etcd_client: u16,
    pub etcd_peer: u16,
    pub apiserver: u16,
    /// Which start attempt these ports belong to (it names the etcd data dir, the apiserver's
    /// etcd prefix and the log files).
    pub attempt: u32,
}

/// Starts etcd and kube-apiserver on free ports and waits until the apiserver is ready, choosing
/// other ports when one was taken between choosing and binding.
pub async fn etcd_and_apiserver(
    bin_dir: &Path,
    dir: &Path,
    pki: &Pki,
) -> HarnessResult<(ManagedProcess, ManagedProcess, Ports)> {
    let mut attempt = 1;
    loop {
        let ports = choose_ports(attempt)?;
        match start_etcd_and_apiserver(bin_dir, dir, pki, &ports).await {
            Ok((etcd, apiserver)) => return Ok((etcd, apiserver, ports)),
            Err(StartFailure::PortTaken(reason)) if attempt < START_ATTEMPTS => {
                eprintln!("e2e harness: {reason}; retrying with other ports");
                attempt += 1;
            }
            Err(StartFailure::PortTaken(reason)) => {
                return Err(HarnessError::Invalid(format!(
                    "gave up after {START_ATTEMPTS} attempts: {reason}"
                )))
            }
            Err(StartFailure::Other(error)) => return Err(error),
        }
    }
}

enum StartFailure {
    PortTaken(String),
    Other(HarnessError),
}

impl From<HarnessError> for StartFailure {
    fn from(error: HarnessError) -> Self {
        Self::Other(error)
    }
}

fn choose_ports(attempt: u32) -> HarnessResult<Ports> {
    let ports = free_loopback_ports(3).map_err(|e| HarnessError::io("choosing ports", e))?;
    Ok(Ports {
        etcd_client: ports[0],
        etcd_peer: ports[1],
        apiserver: ports[2],
        attempt,
    })
}

async fn start_etcd_and_apiserver(
    bin_dir: &Path,
    dir: &Path,
    pki: &Pki,
    ports: &Ports,
) -> Result<(ManagedProcess, ManagedProcess), StartFailure> {
    let etcd = start_etcd(bin_dir, dir, ports)?;
    let apiserver = match start_apiserver(bin_dir, dir, ports) {
        Ok(apiserver) => apiserver,
        Err(error) => {
            etcd.kill();
            return Err(error.into());
        }
    };
    match wait_until_ready(pki, ports, &etcd, &apiserver).await {
        Ok(()) => Ok((etcd, apiserver)),
        Err(failure) => {
            apiserver.kill();
            etcd.kill();
            Err(failure)
        }
    }
}

fn start_etcd(bin_dir: &Path, dir: &Path, ports: &Ports) -> HarnessResult<ManagedProcess> {
    let attempt = ports.attempt;
    let client_url = format!("http://127.0.0.1:{}", ports.etcd_client);
    let peer_url = format!("http://127.0.0.1:{}", ports.etcd_peer);
    let mut command = Command::new(bin_dir.join(ETCD));
    command
        .arg("--name=e2e")
        .arg(format!(
            "--data-dir={}",
            dir.join(format!("etcd-{attempt}")).display()
        ))
        .arg(format!("--listen-client-urls={client_url}"))
        .arg(format!("--advertise-client-urls={client_url}"))
        .arg(format!("--listen-peer-urls={peer_url}"))
        .arg(format!("--initial-advertise-peer-urls={peer_url}"))
        .arg(format!("--initial-cluster=e2e={peer_url}"))
        // Throw-away data: durability buys nothing and costs every write an fsync.
        .arg("--unsafe-no-fsync")
        .arg("--log-level=warn");
    ManagedProcess::spawn(ETCD, command, &dir.join(format!("etcd-{attempt}.log")))
}

fn start_apiserver(bin_dir: &Path, dir: &Path, ports: &Ports) -> HarnessResult<ManagedProcess> {
    ManagedProcess::spawn(
        KUBE_APISERVER,
        apiserver_command(bin_dir, dir, ports),
        &dir.join(format!("kube-apiserver-{}.log", ports.attempt)),
    )
}

/// The kube-apiserver command line for these ports: the same every time, so a restarted
/// apiserver serves the same URL, certificates and etcd keys.
pub fn apiserver_command(bin_dir: &Path, dir: &Path, ports: &Ports) -> Command {
    let attempt = ports.attempt;
    let server_url = format!("https://127.0.0.1:{}", ports.apiserver);
    let file = |name: &str| dir.join(name).display().to_string();
    let mut command = Command::new(bin_dir.join(KUBE_APISERVER));
    command
        .arg(format!(
            "--etcd-servers=http://127.0.0.1:{}",
            ports.etcd_client
        ))
        // Should another control plane's etcd win the race for our port, our keys stay apart
        // from its keys until the exited etcd is noticed and the start is retried.
        .arg(format!(
            "--etcd-prefix=/registry-{}-{attempt}",
            std::process::id()
        ))
        .arg("--bind-address=127.0.0.1")
        .arg("--advertise-address=127.0.0.1")
        .arg(format!("--secure-port={}", ports.apiserver))
        .arg(format!("--cert-dir={}", file("apiserver-certs")))
        .arg(format!("--tls-cert-file={}", file("apiserver.crt")))
        .arg(format!("--tls-private-key-file={}", file("apiserver.key")))
        .arg(format!("--client-ca-file={}", file("ca.crt")))
        .arg("--authorization-mode=RBAC,Node")
        .arg("--anonymous-auth=true")
        .arg(format!("--service-account-issuer={server_url}"))
        .arg(format!(
            "--service-account-jwks-uri={server_url}/openid/v1/jwks"
        ))
        .arg(format!(
            "--service-account-key-file={}",
            file("service-account.key")
        ))
        .arg(format!(
            "--service-account-signing-key-file={}",
            file("service-account.key")
        ))
        // The first audience is the default for tokens requested without one.
        .arg(format!(
            "--api-audiences={server_url},{}",
            AZURE_TOKEN_EXCHANGE_AUDIENCE
        ))
        .arg("--service-cluster-ip-range=10.96.0.0/24")
        // Off unless asked for (`AZDO_APISERVER_PROFILING=1`, to read /debug/pprof while
        // finding out where the apiserver spends its time in a benchmark).
        .arg(format!(
            "--profiling={}",
            std::env::var("AZDO_APISERVER_PROFILING").is_ok_and(|v| v == "1")
        ))
        .arg("--v=1");
    command
}

pub fn controller_manager(
    bin_dir: &Path,
    dir: &Path,
    kubeconfig: &Path,
) -> HarnessResult<ManagedProcess> {
    let mut command = Command::new(bin_dir.join(KUBE_CONTROLLER_MANAGER));
    command
        .arg(format!("--kubeconfig={}", kubeconfig.display()))
        // No serving endpoint: nothing scrapes it, and it would need another port.
        .arg("--secure-port=0")
        .arg("--leader-elect=false")
        .arg("--use-service-account-credentials=false")
        .arg("--controllers=namespace-controller,garbage-collector-controller,serviceaccount-controller")
        .arg("--v=1");
    ManagedProcess::spawn(
        KUBE_CONTROLLER_MANAGER,
        command,
        &dir.join("kube-controller-manager.log"),
    )
}

/// Waits until a (re)started apiserver answers /readyz.
pub async fn wait_apiserver_ready(
    pki: &Pki,
    ports: &Ports,
    etcd: &ManagedProcess,
    apiserver: &ManagedProcess,
) -> HarnessResult<()> {
    wait_until_ready(pki, ports, etcd, apiserver)
        .await
        .map_err(|failure| match failure {
            StartFailure::PortTaken(reason) => HarnessError::Invalid(reason),
            StartFailure::Other(error) => error,
        })
}

async fn wait_until_ready(
    pki: &Pki,
    ports: &Ports,
    etcd: &ManagedProcess,
    apiserver: &ManagedProcess,
) -> Result<(), StartFailure> {
    let client = https_client(&pki.ca_pem(), Some(&pki.admin))?;
    let readyz = format!("https://127.0.0.1:{}/readyz", ports.apiserver);
    let deadline = Instant::now() + READY_TIMEOUT;
    loop {
        for process in [etcd, apiserver] {
            if let Some(status) = process.exit_status() {
                let tail = process.log_tail(40);
                if tail.contains("address already in use") {
                    return Err(StartFailure::PortTaken(format!(
                        "{} could not bind its port",
                        process.name()
                    )));
                }
                return Err(process
                    .startup_error(format!(
                        "exited with {status} before the apiserver was ready"
                    ))
                    .into());
            }
        }
        if let Ok(response) = client.get(&readyz).send().await {
            if response.status().is_success() {
                return Ok(());
            }
        }
        if Instant::now() > deadline {
            return Err(apiserver
                .startup_error(format!("/readyz not ready after {READY_TIMEOUT:?}"))
                .into());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
