//! Where the pinned control-plane binaries are, and which versions they are.

use super::error::{HarnessError, HarnessResult};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

/// A directory holding the binaries; when unset, `hack/controlplane.sh ensure` provides one.
pub const BIN_DIR_ENV: &str = "AZDO_CONTROLPLANE_BIN";

pub const ETCD: &str = "etcd";
pub const KUBE_APISERVER: &str = "kube-apiserver";
pub const KUBE_CONTROLLER_MANAGER: &str = "kube-controller-manager";
pub const KUBECTL: &str = "kubectl";
pub const HELM: &str = "helm";
const REQUIRED: [&str; 5] = [ETCD, KUBE_APISERVER, KUBE_CONTROLLER_MANAGER, KUBECTL, HELM];

pub fn repo_root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The bin dir, resolved once per process (a cold `ensure` builds for many minutes, so this
/// blocks; call it from a blocking context).
pub fn bin_dir() -> HarnessResult<PathBuf> {
    static BIN_DIR: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    BIN_DIR
        .get_or_init(|| resolve_bin_dir().map_err(|e| e.to_string()))
        .clone()
        .map_err(HarnessError::Binaries)
}

fn resolve_bin_dir() -> HarnessResult<PathBuf> {
    let dir = match std::env::var_os(BIN_DIR_ENV) {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => run_ensure()?,
    };
    let missing: Vec<&str> = REQUIRED
        .into_iter()
        .filter(|name| !dir.join(name).is_file())
        .collect();
    if missing.is_empty() {
        Ok(dir)
    } else {
        Err(HarnessError::Binaries(format!(
            "{} lacks {} (run hack/controlplane.sh ensure)",
            dir.display(),
            missing.join(", ")
        )))
    }
}

fn run_ensure() -> HarnessResult<PathBuf> {
    let script = repo_root().join("hack/controlplane.sh");
    eprintln!(
        "e2e harness: {BIN_DIR_ENV} is unset; running {} ensure",
        script.display()
    );
    // stderr stays on the terminal so a cold build shows its progress.
    let output = Command::new(&script)
        .arg("ensure")
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| HarnessError::io(format!("running {}", script.display()), e))?;
    if !output.status.success() {
        return Err(HarnessError::Binaries(format!(
            "{} ensure failed with {}",
            script.display(),
            output.status
        )));
    }
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .last()
        .map(|line| PathBuf::from(line.trim()))
        .ok_or_else(|| HarnessError::Binaries("hack/controlplane.sh printed no bin dir".into()))
}

/// The Kubernetes version pinned in `hack/controlplane/kubernetes/go.mod`, e.g. `v1.34.10`.
pub fn pinned_kubernetes_version() -> HarnessResult<String> {
    pinned_version("hack/controlplane/kubernetes/go.mod", "k8s.io/kubernetes")
}

/// The helm version pinned in `hack/controlplane/helm/go.mod`, e.g. `v4.3.1`.
pub fn pinned_helm_version() -> HarnessResult<String> {
    pinned_version("hack/controlplane/helm/go.mod", "helm.sh/helm/v4")
}

fn pinned_version(go_mod: &str, module: &str) -> HarnessResult<String> {
    let path = repo_root().join(go_mod);
    let text = std::fs::read_to_string(&path)
        .map_err(|e| HarnessError::io(format!("reading {}", path.display()), e))?;
    text.lines()
        .map(|line| line.split_whitespace().collect::<Vec<_>>())
        .find_map(|words| match words.as_slice() {
            ["require", m, version] | [m, version] if *m == module => Some(version.to_string()),
            _ => None,
        })
        .ok_or_else(|| HarnessError::Binaries(format!("{module} is not required in {go_mod}")))
}
