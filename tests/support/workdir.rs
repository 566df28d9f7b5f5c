//! The temporary directory of one control plane: certificates, etcd data, kubeconfigs, logs.

use super::certs::Pki;
use super::error::{HarnessError, HarnessResult};
use super::process::{remove_dir_at_exit, sweep_stale_dirs};
use std::path::{Path, PathBuf};

/// Set to keep the work dir after the tests (for reading the logs): it is then named
/// `kept-cp-...` and neither removed at exit nor swept by later runs.
pub const KEEP_ENV: &str = "AZDO_E2E_KEEP";
/// Work dirs of test processes that no longer run are swept by the next start.
const SWEPT_PREFIX: &str = "cp-";
const KEPT_PREFIX: &str = "kept-cp-";

pub fn create_work_dir() -> HarnessResult<PathBuf> {
    let base = std::env::temp_dir().join("azdo-e2e");
    std::fs::create_dir_all(&base)
        .map_err(|e| HarnessError::io(format!("creating {}", base.display()), e))?;
    sweep_stale_dirs(&base, SWEPT_PREFIX);
    let keep = std::env::var_os(KEEP_ENV).is_some_and(|v| !v.is_empty());
    let prefix = if keep { KEPT_PREFIX } else { SWEPT_PREFIX };
    let dir = base.join(format!(
        "{prefix}{}-{:08x}",
        std::process::id(),
        rand::random::<u32>()
    ));
    std::fs::create_dir(&dir)
        .map_err(|e| HarnessError::io(format!("creating {}", dir.display()), e))?;
    if !keep {
        remove_dir_at_exit(&dir);
    }
    Ok(dir)
}

pub fn write_file(path: &Path, contents: &str) -> HarnessResult<()> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .and_then(|mut file| file.write_all(contents.as_bytes()))
        .map_err(|e| HarnessError::io(format!("writing {}", path.display()), e))
}

/// Writes the CA, the serving certificate and key, and the service-account key into `dir`.
pub fn write_pki_files(dir: &Path, pki: &Pki) -> HarnessResult<()> {
    write_file(&dir.join("ca.crt"), &pki.ca_pem())?;
    write_file(&dir.join("apiserver.crt"), &pki.serving.cert_pem)?;
    write_file(&dir.join("apiserver.key"), &pki.serving.key_pem)?;
    write_file(
        &dir.join("service-account.key"),
        &pki.service_account_key_pem,
    )
}
