//! The Argo CD health checks (deploy/argocd/), run by a real Lua 5.1 interpreter (`lua5.1`, as
//! Argo CD embeds Lua 5.1) against the samples with every status that matters, and the argocd-cm
//! snippet and Application example that ship them.

use std::collections::BTreeSet;

use serde_json::{json, Value};

use super::tools::{self, documents, repo, run, TOOL_TIMEOUT};
use crate::operator_env::TestResult;
use crate::support::kit::crd_count;

const LUA: &str = "lua5.1";
const HEALTH_KEY_PREFIX: &str = "resource.customizations.health.azdo.io_";

/// The kinds the CRDs define.
fn crd_kinds() -> TestResult<BTreeSet<String>> {
    let mut kinds = BTreeSet::new();
    for entry in std::fs::read_dir(repo().join("crds"))? {
        let crd: Value = serde_yaml::from_str(&std::fs::read_to_string(entry?.path())?)?;
        assert_eq!(crd["spec"]["group"], "azdo.io");
        kinds.insert(
            crd["spec"]["names"]["kind"]
                .as_str()
                .ok_or("CRD without kind")?
                .to_string(),
        );
    }
    Ok(kinds)
}

/// The health scripts of argocd-cm.yaml, by kind.
fn health_scripts() -> TestResult<Vec<(String, String)>> {
    let cm: Value = serde_yaml::from_str(&std::fs::read_to_string(
        repo().join("deploy/argocd/argocd-cm.yaml"),
    )?)?;
    assert_eq!(cm["kind"], "ConfigMap");
    assert_eq!(cm["metadata"]["name"], "argocd-cm");
    let data = cm["data"].as_object().ok_or("argocd-cm has no data")?;
    let mut scripts = Vec::new();
    for (key, script) in data {
        let kind = key
            .strip_prefix(HEALTH_KEY_PREFIX)
            .ok_or_else(|| format!("unexpected key {key}"))?;
        scripts.push((
            kind.to_string(),
            script.as_str().ok_or("non-string script")?.to_string(),
        ));
    }
    Ok(scripts)
}

/// A JSON value as a Lua 5.1 table constructor (null members are left out, as Argo CD does).
fn lua_literal(value: &Value) -> String {
    match value {
        Value::Null => "nil".to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => lua_string(s),
        Value::Array(items) => format!(
            "{{{}}}",
            items.iter().map(lua_literal).collect::<Vec<_>>().join(", ")
        ),
        Value::Object(members) => format!(
            "{{{}}}",
            members
                .iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| format!("[{}] = {}", lua_string(k), lua_literal(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// A Lua string literal: printable ASCII as is, every other byte as a decimal escape.
fn lua_string(s: &str) -> String {
    let mut out = String::from("\"");
    for byte in s.bytes() {
        match byte {
            b'"' | b'\\' => {
                out.push('\\');
                out.push(byte as char);
            }
            0x20..=0x7e => out.push(byte as char),
            _ => out.push_str(&format!("\\{byte:03}")),
        }
    }
    out.push('"');
    out
}

/// Run `script` as Argo CD does (the live object in the global `obj`) and return
/// `(status, message)`.
async fn health(script: &str, obj: &Value) -> TestResult<(String, String)> {
    let program = format!(
        "obj = {}\nlocal hs = (function()\n{script}\nend)()\n\
         io.write(tostring(hs.status), \"\\n\", tostring(hs.message))\n",
        lua_literal(obj)
    );
    let mut lua = std::process::Command::new(LUA);
    lua.arg("-");
    let output = run(lua, Some(program.as_bytes()), TOOL_TIMEOUT)
        .await
        .map_err(|e| format!("{e}\n(is {LUA} installed? hack/ensure-tools.sh installs it)"))?;
    let (status, message) = output.split_once('\n').ok_or("no message line")?;
    Ok((status.to_string(), message.to_string()))
}

/// The sample object of each kind (the first one in file order).
fn samples_by_kind() -> TestResult<Vec<Value>> {
    let mut files: Vec<_> = std::fs::read_dir(repo().join("config/samples"))?
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<_, _>>()?;
    files.sort();
    let mut seen = BTreeSet::new();
    let mut samples = Vec::new();
    for file in files {
        if file.file_name().is_some_and(|n| n == "kustomization.yaml") {
            continue;
        }
        for doc in documents(&std::fs::read_to_string(&file)?)? {
            let kind = doc["kind"].as_str().unwrap_or_default().to_string();
            if seen.insert(kind) {
                samples.push(doc);
            }
        }
    }
    Ok(samples)
}

fn with_status(sample: &Value, generation: i64, status: Option<Value>) -> Value {
    let mut obj = sample.clone();
    obj["metadata"]["generation"] = json!(generation);
    if let Some(status) = status {
        obj["status"] = status;
    }
    obj
}

fn ready(status: &str, reason: &str, message: &str, observed: i64) -> Value {
    json!({
        "observedGeneration": observed,
        "conditions": [
            {"type": "Synced", "status": "True", "reason": "Other", "message": "not the one"},
            {"type": "Ready", "status": status, "reason": reason, "message": message,
             "observedGeneration": observed, "lastTransitionTime": "2025-01-01T00:00:00Z"},
        ],
    })
}

#[test]
fn argocd_cm_holds_health_lua_for_every_kind() -> TestResult {
    let script = std::fs::read_to_string(repo().join("deploy/argocd/health.lua"))?;
    let scripts = health_scripts()?;
    let kinds: BTreeSet<String> = scripts.iter().map(|(k, _)| k.clone()).collect();
    assert_eq!(kinds, crd_kinds()?, "one health check per CRD kind");
    for (kind, body) in &scripts {
        assert_eq!(
            body, &script,
            "{HEALTH_KEY_PREFIX}{kind} differs from deploy/argocd/health.lua"
        );
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_checks_report_progressing_healthy_and_degraded_for_every_kind() -> TestResult {
    let scripts = health_scripts()?;
    let samples = samples_by_kind()?;
    let mut checked = 0;
    for (kind, script) in &scripts {
        let sample = samples
            .iter()
            .find(|s| s["kind"] == kind.as_str())
            .ok_or_else(|| format!("no sample of {kind} in config/samples"))?;
        let cases = [
            (
                with_status(sample, 1, None),
                "Progressing",
                "Waiting for azdo-operator to reconcile",
            ),
            (
                with_status(sample, 3, Some(ready("True", "Synced", "old news", 2))),
                "Progressing",
                "generation 3",
            ),
            (
                with_status(sample, 3, Some(json!({"observedGeneration": 3}))),
                "Progressing",
                "Ready condition",
            ),
            (
                with_status(sample, 3, Some(ready("Unknown", "Pending", "checking", 3))),
                "Progressing",
                "Ready is Unknown: checking",
            ),
            (
                with_status(
                    sample,
                    3,
                    Some(ready("True", "Synced", "in sync with \"Azure DevOps\"", 3)),
                ),
                "Healthy",
                "in sync with \"Azure DevOps\"",
            ),
            (
                with_status(
                    sample,
                    3,
                    Some(ready(
                        "False",
                        "ProjectNotFound",
                        "project Storefront does not exist — check spec.project",
                        3,
                    )),
                ),
                "Degraded",
                "ProjectNotFound: project Storefront does not exist — check spec.project",
            ),
        ];
        for (obj, want_status, want_message) in cases {
            let (status, message) = health(script, &obj).await?;
            assert_eq!(status, want_status, "{kind}: {message}\n{obj:#}");
            assert!(
                message.contains(want_message),
                "{kind} {status}: {message:?} lacks {want_message:?}"
            );
            checked += 1;
        }
    }
    let kinds = crd_count();
    assert_eq!(
        checked,
        6 * kinds,
        "six cases for each of the {kinds} kinds"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_application_example_renders_the_chart() -> TestResult {
    let docs = documents(&std::fs::read_to_string(
        repo().join("deploy/argocd/application.yaml"),
    )?)?;
    let operator = docs
        .iter()
        .find(|d| d["kind"] == "Application" && d["spec"]["source"]["path"] == tools::CHART)
        .ok_or("no Application of the chart")?;
    let values = &operator["spec"]["source"]["helm"]["valuesObject"];
    let namespace = operator["spec"]["destination"]["namespace"]
        .as_str()
        .ok_or("no destination namespace")?;
    let cp = crate::support::shared().await?;
    let values_file = cp.work_dir().join("argocd-application-values.yaml");
    std::fs::write(&values_file, serde_yaml::to_string(values)?)?;
    let rendered = tools::helm_template(
        cp,
        "azdo-operator",
        namespace,
        &["--values", values_file.to_str().ok_or("path")?],
    )
    .await?;
    let rendered = documents(&rendered)?;
    let org = tools::find(&rendered, "ClusterDevOpsOrganization", "contoso")?;
    assert!(
        org["metadata"]["annotations"]["helm.sh/hook"].is_null(),
        "with Argo CD the organization is an ordinary object"
    );
    assert_eq!(
        org["metadata"]["annotations"]["argocd.argoproj.io/sync-wave"],
        "1"
    );
    for crd in rendered
        .iter()
        .filter(|d| d["kind"] == "CustomResourceDefinition")
    {
        assert_eq!(
            crd["metadata"]["annotations"]["argocd.argoproj.io/sync-wave"],
            "-1"
        );
    }
    Ok(())
}
