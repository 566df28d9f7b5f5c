//! What the packaging tests share: running tools with a time limit, rendering the chart,
//! reading multi-document YAML, and comparing Kubernetes objects.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use serde_json::Value;
use tokio::io::AsyncWriteExt;

use crate::operator_env::TestResult;
use crate::support::ControlPlane;

/// The chart under test.
pub const CHART: &str = "charts/azdo-operator";

/// Time limit of one helm or kubectl call.
pub const TOOL_TIMEOUT: Duration = Duration::from_secs(120);

pub fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

pub fn chart_dir() -> PathBuf {
    repo().join(CHART)
}

/// Run `command` (feeding it `stdin`) and return its stdout; fails on a non-zero exit or when
/// it runs longer than `timeout` (the child is killed).
pub async fn run(
    command: std::process::Command,
    stdin: Option<&[u8]>,
    timeout: Duration,
) -> TestResult<String> {
    Ok(run_capture(command, stdin, timeout).await?.0)
}

/// Like [`run`], returning stdout and stderr (warnings).
pub async fn run_capture(
    command: std::process::Command,
    stdin: Option<&[u8]>,
    timeout: Duration,
) -> TestResult<(String, String)> {
    let description = format!("{command:?}");
    let mut command = tokio::process::Command::from(command);
    command
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let mut child = command
        .spawn()
        .map_err(|e| format!("cannot start {description}: {e}"))?;
    if let (Some(input), Some(mut pipe)) = (stdin, child.stdin.take()) {
        pipe.write_all(input).await?;
        drop(pipe);
    }
    let output = tokio::time::timeout(timeout, child.wait_with_output())
        .await
        .map_err(|_| format!("{description} ran longer than {timeout:?}"))??;
    if !output.status.success() {
        return Err(format!(
            "{description} failed with {}:\n{}\n{}",
            output.status,
            String::from_utf8_lossy(&output.stderr),
            String::from_utf8_lossy(&output.stdout)
        )
        .into());
    }
    Ok((
        String::from_utf8(output.stdout)?,
        String::from_utf8_lossy(&output.stderr).into_owned(),
    ))
}

/// Like [`run`], but returns the error text when the command fails (for negative tests).
pub async fn run_expecting_failure(
    command: std::process::Command,
    timeout: Duration,
) -> TestResult<String> {
    match run(command, None, timeout).await {
        Ok(stdout) => Err(format!("expected a failure, got:\n{stdout}").into()),
        Err(err) => Ok(err.to_string()),
    }
}

/// `helm template <release> charts/azdo-operator --namespace <namespace> <args...>`.
pub async fn helm_template(
    cp: &ControlPlane,
    release: &str,
    namespace: &str,
    args: &[&str],
) -> TestResult<String> {
    let mut helm = cp.helm();
    helm.arg("template")
        .arg(release)
        .arg(chart_dir())
        .args(["--namespace", namespace])
        .args(args);
    run(helm, None, TOOL_TIMEOUT).await
}

/// The objects of a multi-document YAML stream (empty documents skipped).
pub fn documents(yaml: &str) -> TestResult<Vec<Value>> {
    let mut docs = Vec::new();
    for document in serde_yaml::Deserializer::from_str(yaml) {
        let value: Value = serde::Deserialize::deserialize(document)?;
        if !value.is_null() {
            docs.push(value);
        }
    }
    Ok(docs)
}

/// `kind/namespace/name` of an object.
pub fn key(obj: &Value) -> String {
    format!(
        "{}/{}/{}",
        obj["kind"].as_str().unwrap_or(""),
        obj["metadata"]["namespace"].as_str().unwrap_or(""),
        obj["metadata"]["name"].as_str().unwrap_or("")
    )
}

/// The one object of `kind` named `name`.
pub fn find<'a>(docs: &'a [Value], kind: &str, name: &str) -> TestResult<&'a Value> {
    docs.iter()
        .find(|d| d["kind"] == kind && d["metadata"]["name"] == name)
        .ok_or_else(|| format!("no {kind} {name} among {:?}", keys(docs)).into())
}

pub fn keys(docs: &[Value]) -> Vec<String> {
    let mut keys: Vec<String> = docs.iter().map(key).collect();
    keys.sort();
    keys
}

/// Every rule of the ClusterRoles and Roles in `docs`, as `group/resource:verb` strings (with
/// `[names]` when the rule names resources).
pub fn granted(docs: &[Value]) -> Vec<String> {
    let mut grants = Vec::new();
    for role in docs
        .iter()
        .filter(|d| d["kind"] == "ClusterRole" || d["kind"] == "Role")
    {
        for rule in role["rules"].as_array().into_iter().flatten() {
            let names = strings(&rule["resourceNames"]);
            let names = if names.is_empty() {
                String::new()
            } else {
                format!("[{}]", names.join(","))
            };
            for group in strings(&rule["apiGroups"]) {
                for resource in strings(&rule["resources"]) {
                    for verb in strings(&rule["verbs"]) {
                        grants.push(format!("{group}/{resource}{names}:{verb}"));
                    }
                }
            }
        }
    }
    grants.sort();
    grants
}

pub fn strings(value: &Value) -> Vec<String> {
    value
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|v| v.as_str().map(str::to_string))
        .collect()
}

/// Where two JSON values first differ (numbers compare by value: YAML's `1.0` equals `1`), as
/// `path: left != right`; `None` when they are equal.
pub fn difference(left: &Value, right: &Value) -> Option<String> {
    fn walk(left: &Value, right: &Value, path: &str) -> Option<String> {
        match (left, right) {
            (Value::Object(l), Value::Object(r)) => {
                let mut keys: Vec<&String> = l.keys().chain(r.keys()).collect();
                keys.sort();
                keys.dedup();
                keys.into_iter().find_map(|k| {
                    walk(
                        l.get(k).unwrap_or(&Value::Null),
                        r.get(k).unwrap_or(&Value::Null),
                        &format!("{path}.{k}"),
                    )
                })
            }
            (Value::Array(l), Value::Array(r)) if l.len() == r.len() => l
                .iter()
                .zip(r)
                .enumerate()
                .find_map(|(i, (l, r))| walk(l, r, &format!("{path}[{i}]"))),
            (Value::Number(l), Value::Number(r)) if l.as_f64() == r.as_f64() => None,
            (l, r) if l == r => None,
            (l, r) => Some(format!("{path}: {l} != {r}")),
        }
    }
    walk(left, right, "")
}

/// `path` relative to the directory `from` (both absolute), as kustomize wants its resources.
pub fn relative(path: &Path, from: &Path) -> PathBuf {
    let path: Vec<_> = path.components().collect();
    let from: Vec<_> = from.components().collect();
    let common = path.iter().zip(&from).take_while(|(a, b)| a == b).count();
    let mut relative = PathBuf::new();
    for _ in common..from.len() {
        relative.push("..");
    }
    for component in &path[common..] {
        relative.push(component);
    }
    relative
}

/// Create namespace `name` unless it exists (kubectl server-side apply, as the harness's field
/// manager).
pub async fn ensure_namespace(cp: &ControlPlane, name: &str) -> TestResult {
    let mut create = cp.kubectl();
    create.args([
        "create",
        "namespace",
        name,
        "--dry-run=client",
        "-o",
        "yaml",
    ]);
    let manifest = run(create, None, TOOL_TIMEOUT).await?;
    let mut apply = cp.kubectl();
    apply.args([
        "apply",
        "--server-side",
        "--field-manager",
        "azdo-e2e",
        "-f",
        "-",
    ]);
    run(apply, Some(manifest.as_bytes()), TOOL_TIMEOUT).await?;
    Ok(())
}

/// `kubectl apply --dry-run=server` of a manifest: the names of the objects the apiserver would
/// accept (stdout) and its warnings (stderr).
pub async fn server_side_dry_run(
    cp: &ControlPlane,
    manifest: &str,
) -> TestResult<(String, String)> {
    let mut kubectl = cp.kubectl();
    kubectl.args([
        "apply",
        "--dry-run=server",
        "--server-side",
        // A dry run changes nothing; do not fail on fields other tests' objects own.
        "--force-conflicts",
        "-o",
        "name",
        "-f",
        "-",
    ]);
    run_capture(kubectl, Some(manifest.as_bytes()), TOOL_TIMEOUT).await
}
