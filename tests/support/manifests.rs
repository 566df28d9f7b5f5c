//! Server-side apply of YAML manifests, and CRD installation.

use super::error::{HarnessError, HarnessResult};
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{Api, DynamicObject, Patch, PatchParams};
use kube::discovery::{self, Scope};
use kube::runtime::wait::{await_condition, conditions};
use serde::Deserialize as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

pub const FIELD_MANAGER: &str = "azdo-e2e";
const CRD_ESTABLISHED_TIMEOUT: Duration = Duration::from_secs(30);

/// An object that was applied.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AppliedObject {
    pub api_version: String,
    pub kind: String,
    pub namespace: Option<String>,
    pub name: String,
}

/// The `*.yaml`/`*.yml` files of `dir` in name order; none if `dir` does not exist.
pub fn manifest_files(dir: &Path) -> HarnessResult<Vec<PathBuf>> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(HarnessError::io(format!("reading {}", dir.display()), e)),
    };
    let mut files = Vec::new();
    for entry in entries {
        let path = entry
            .map_err(|e| HarnessError::io(format!("reading {}", dir.display()), e))?
            .path();
        let is_yaml = matches!(
            path.extension().and_then(|e| e.to_str()),
            Some("yaml" | "yml")
        );
        if is_yaml && path.is_file() {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}

/// The objects in a (multi-document) YAML file; empty documents are skipped.
pub fn read_manifest(path: &Path) -> HarnessResult<Vec<DynamicObject>> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| HarnessError::io(format!("reading {}", path.display()), e))?;
    let invalid = |reason: String| HarnessError::Manifest {
        path: path.to_path_buf(),
        reason,
    };
    let mut objects = Vec::new();
    for document in serde_yaml::Deserializer::from_str(&text) {
        let value = serde_yaml::Value::deserialize(document).map_err(|e| invalid(e.to_string()))?;
        if value.is_null() {
            continue;
        }
        let object: DynamicObject =
            serde_yaml::from_value(value).map_err(|e| invalid(e.to_string()))?;
        if object.types.is_none() || object.metadata.name.is_none() {
            return Err(invalid(
                "a document lacks apiVersion, kind or metadata.name".into(),
            ));
        }
        objects.push(object);
    }
    Ok(objects)
}

/// Server-side applies every object of `files` (forcing ownership), putting namespaced objects
/// without a namespace into `default_namespace`.
pub async fn apply_files(
    client: &kube::Client,
    files: &[PathBuf],
    default_namespace: Option<&str>,
) -> HarnessResult<Vec<AppliedObject>> {
    let mut applied = Vec::new();
    for path in files {
        for object in read_manifest(path)? {
            applied.push(apply_object(client, path, object, default_namespace).await?);
        }
    }
    Ok(applied)
}

async fn apply_object(
    client: &kube::Client,
    path: &Path,
    object: DynamicObject,
    default_namespace: Option<&str>,
) -> HarnessResult<AppliedObject> {
    let invalid = |reason: String| HarnessError::Manifest {
        path: path.to_path_buf(),
        reason,
    };
    let types = object.types.clone().unwrap_or_default();
    let gvk = kube::api::GroupVersionKind::try_from(&types).map_err(|e| invalid(e.to_string()))?;
    let (resource, capabilities) = discovery::pinned_kind(client, &gvk).await?;
    let name = object.metadata.name.clone().unwrap_or_default();
    let namespace = match capabilities.scope {
        Scope::Cluster => None,
        Scope::Namespaced => Some(
            object
                .metadata
                .namespace
                .clone()
                .or_else(|| default_namespace.map(str::to_string))
                .ok_or_else(|| invalid(format!("{} {name} needs a namespace", gvk.kind)))?,
        ),
    };
    let api: Api<DynamicObject> = match &namespace {
        Some(namespace) => Api::namespaced_with(client.clone(), namespace, &resource),
        None => Api::all_with(client.clone(), &resource),
    };
    api.patch(
        &name,
        &PatchParams::apply(FIELD_MANAGER).force(),
        &Patch::Apply(&object),
    )
    .await?;
    Ok(AppliedObject {
        api_version: types.api_version,
        kind: types.kind,
        namespace,
        name,
    })
}

/// Applies every manifest in `dir` (a missing or empty dir installs nothing) and waits until each
/// CustomResourceDefinition among them is Established. Returns the CRD names.
pub async fn install_crds(client: &kube::Client, dir: &Path) -> HarnessResult<Vec<String>> {
    let files = manifest_files(dir)?;
    let applied = apply_files(client, &files, None).await?;
    let crds: Api<CustomResourceDefinition> = Api::all(client.clone());
    let mut names = Vec::new();
    for object in applied
        .into_iter()
        .filter(|o| o.kind == "CustomResourceDefinition")
    {
        let established =
            await_condition(crds.clone(), &object.name, conditions::is_crd_established());
        match tokio::time::timeout(CRD_ESTABLISHED_TIMEOUT, established).await {
            Ok(Ok(_)) => names.push(object.name),
            Ok(Err(e)) => {
                return Err(HarnessError::Invalid(format!(
                    "watching CRD {}: {e}",
                    object.name
                )))
            }
            Err(_) => {
                return Err(HarnessError::Timeout {
                    after: CRD_ESTABLISHED_TIMEOUT,
                    what: format!("CRD {} to be Established", object.name),
                })
            }
        }
    }
    Ok(names)
}
