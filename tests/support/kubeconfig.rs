//! Kubeconfig files for the test control plane (admin client certificate or bearer token).

use super::certs::PemPair;
use super::error::{HarnessError, HarnessResult};
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use serde_json::{json, Value};
use std::io::Write as _;
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::Path;

pub const CONTEXT: &str = "azdo-e2e";

/// How a kubeconfig authenticates.
pub enum Credentials<'a> {
    ClientCert(&'a PemPair),
    BearerToken(&'a str),
}

/// Writes a kubeconfig (mode 0600) for `server`, trusting `ca_pem` and using `credentials`.
pub fn write_kubeconfig(
    path: &Path,
    server: &str,
    ca_pem: &str,
    credentials: Credentials<'_>,
) -> HarnessResult<()> {
    let user = match credentials {
        Credentials::ClientCert(pair) => json!({
            "client-certificate-data": BASE64.encode(&pair.cert_pem),
            "client-key-data": BASE64.encode(&pair.key_pem),
        }),
        Credentials::BearerToken(token) => json!({ "token": token }),
    };
    let config: Value = json!({
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{
            "name": CONTEXT,
            "cluster": {
                "server": server,
                "certificate-authority-data": BASE64.encode(ca_pem),
            },
        }],
        "users": [{ "name": CONTEXT, "user": user }],
        "contexts": [{
            "name": CONTEXT,
            "context": { "cluster": CONTEXT, "user": CONTEXT, "namespace": "default" },
        }],
        "current-context": CONTEXT,
    });
    let yaml = serde_yaml::to_string(&config)
        .map_err(|e| HarnessError::Kubeconfig(format!("serializing: {e}")))?;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| HarnessError::io(format!("creating {}", path.display()), e))?;
    file.write_all(yaml.as_bytes())
        .map_err(|e| HarnessError::io(format!("writing {}", path.display()), e))
}

/// An API client configured from a kubeconfig file.
pub async fn client_from_kubeconfig(path: &Path) -> HarnessResult<kube::Client> {
    let kubeconfig = kube::config::Kubeconfig::read_from(path)
        .map_err(|e| HarnessError::Kubeconfig(format!("reading {}: {e}", path.display())))?;
    let config = kube::Config::from_custom_kubeconfig(kubeconfig, &Default::default())
        .await
        .map_err(|e| HarnessError::Kubeconfig(format!("loading {}: {e}", path.display())))?;
    Ok(kube::Client::try_from(config)?)
}
