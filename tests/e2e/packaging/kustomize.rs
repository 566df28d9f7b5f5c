//! The kustomize bases: `config/default` builds the same objects as the chart's defaults
//! (release azdo-operator in namespace azdo-operator) apart from Helm's own labels and
//! annotations, plus the Namespace; the per-namespace-identities component matches
//! perNamespaceIdentities.enabled=true; and the apiserver accepts the result.

use serde_json::Value;

use super::tools::{
    difference, documents, ensure_namespace, helm_template, key, keys, relative, repo, run,
    server_side_dry_run, TOOL_TIMEOUT,
};
use crate::operator_env::TestResult;
use crate::support::{self, ControlPlane};

const NAMESPACE: &str = "azdo-operator";

/// Labels and annotations only Helm adds.
const HELM_LABELS: [&str; 3] = [
    "helm.sh/chart",
    "app.kubernetes.io/managed-by",
    "app.kubernetes.io/version",
];
const HELM_ANNOTATIONS: [&str; 1] = ["helm.sh/resource-policy"];

fn without_helm_metadata(mut obj: Value) -> Value {
    let metadata = &mut obj["metadata"];
    for (field, names) in [
        ("labels", &HELM_LABELS[..]),
        ("annotations", &HELM_ANNOTATIONS[..]),
    ] {
        if let Some(map) = metadata[field].as_object_mut() {
            for name in names {
                map.remove(*name);
            }
            if map.is_empty() {
                metadata.as_object_mut().map(|m| m.remove(field));
            }
        }
    }
    obj
}

async fn kustomize(cp: &ControlPlane, dir: &std::path::Path) -> TestResult<String> {
    let mut kubectl = cp.kubectl();
    kubectl.arg("kustomize").arg(dir);
    run(kubectl, None, TOOL_TIMEOUT).await
}

/// Assert that kustomize built what the chart renders: the same keys (the Namespace aside) and
/// the same objects once Helm's labels are gone.
fn assert_same_objects(kustomized: &[Value], rendered: &[Value]) {
    let kustomized: Vec<Value> = kustomized
        .iter()
        .filter(|o| o["kind"] != "Namespace")
        .cloned()
        .map(without_helm_metadata)
        .collect();
    let rendered: Vec<Value> = rendered
        .iter()
        .cloned()
        .map(without_helm_metadata)
        .collect();
    assert_eq!(
        keys(&kustomized),
        keys(&rendered),
        "the same kinds and names"
    );
    for object in &rendered {
        let twin = kustomized
            .iter()
            .find(|k| key(k) == key(object))
            .expect("keys are equal");
        if let Some(difference) = difference(twin, object) {
            panic!(
                "{} differs between kustomize and the chart at {difference}",
                key(object)
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kustomize_default_builds_the_chart_defaults() -> TestResult {
    let cp = support::shared().await?;
    let kustomized = documents(&kustomize(cp, &repo().join("config/default")).await?)?;
    let namespace = kustomized
        .iter()
        .find(|o| o["kind"] == "Namespace")
        .ok_or("config/default has no Namespace")?;
    assert_eq!(namespace["metadata"]["name"], NAMESPACE);
    assert_eq!(
        namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"],
        "restricted"
    );
    let rendered = documents(&helm_template(cp, "azdo-operator", NAMESPACE, &[]).await?)?;
    assert_same_objects(&kustomized, &rendered);

    // The component for per-namespace identities, in an overlay as a user would write it.
    let overlay = cp.work_dir().join("kustomize-per-namespace-identities");
    std::fs::create_dir_all(&overlay)?;
    std::fs::write(
        overlay.join("kustomization.yaml"),
        format!(
            "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n\
             resources: [{}]\ncomponents: [{}]\n",
            relative(&repo().join("config/default"), &overlay).display(),
            relative(
                &repo().join("config/components/per-namespace-identities"),
                &overlay
            )
            .display()
        ),
    )?;
    let kustomized = documents(&kustomize(cp, &overlay).await?)?;
    let rendered = documents(
        &helm_template(
            cp,
            "azdo-operator",
            NAMESPACE,
            &["--set", "perNamespaceIdentities.enabled=true"],
        )
        .await?,
    )?;
    assert_same_objects(&kustomized, &rendered);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kustomize_default_passes_a_server_side_dry_run() -> TestResult {
    let cp = support::shared().await?;
    let manifest = kustomize(cp, &repo().join("config/default")).await?;
    let objects = documents(&manifest)?.len();
    // A dry run creates nothing, so the objects' namespace must exist already.
    ensure_namespace(cp, NAMESPACE).await?;
    let (out, _) = server_side_dry_run(cp, &manifest).await?;
    assert_eq!(out.lines().count(), objects, "{out}");
    Ok(())
}
