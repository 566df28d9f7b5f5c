//! Any object as a `DynamicObject`, its API, and apply/get. The azdo.io kinds' plurals come from
//! the operator's own CRDs ([`azdo_operator::api::all_crds`]), not from a guess.

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{Api, DynamicObject, GroupVersionKind, Patch, PatchParams};
use kube::discovery::ApiResource;
use kube::{Resource, ResourceExt};
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::TestResult;

/// The field manager of the kit's server-side applies.
pub const FIELD_MANAGER: &str = "e2e-test";

/// A typed object (one of the crate's kinds, or any k8s-openapi type) as a `DynamicObject`.
pub trait ToObject {
    fn object(&self) -> DynamicObject;
}

impl<K: Resource<DynamicType = ()> + Serialize> ToObject for K {
    fn object(&self) -> DynamicObject {
        let value = serde_json::to_value(self).expect("a typed object serializes");
        serde_json::from_value(value).expect("a typed object is a DynamicObject")
    }
}

/// A `DynamicObject` as the typed object `K`.
pub fn typed<K: DeserializeOwned>(obj: &DynamicObject) -> TestResult<K> {
    Ok(serde_json::from_value(serde_json::to_value(obj)?)?)
}

/// The operator's CRDs, generated once per process: generating them (schemars and the
/// structural-schema rewrite) costs milliseconds, and the bench looks a kind up per object.
pub fn crds() -> &'static [CustomResourceDefinition] {
    static CRDS: std::sync::OnceLock<Vec<CustomResourceDefinition>> = std::sync::OnceLock::new();
    CRDS.get_or_init(azdo_operator::api::all_crds)
}

/// How many CRDs the operator serves (what `azdo-operator crds` writes).
pub fn crd_count() -> usize {
    crds().len()
}

/// The operator's CRD of `kind`.
pub fn crd_of(kind: &str) -> Option<CustomResourceDefinition> {
    crds()
        .iter()
        .find(|crd| crd.spec.names.kind == kind)
        .cloned()
}

/// The API resource of one of the operator's kinds, from its CRD.
pub fn resource_of(kind: &str) -> Option<ApiResource> {
    let crd = crds().iter().find(|crd| crd.spec.names.kind == kind)?;
    let version = crd.spec.versions.iter().find(|v| v.storage)?.name.clone();
    Some(ApiResource {
        group: crd.spec.group.clone(),
        api_version: format!("{}/{version}", crd.spec.group),
        version,
        kind: crd.spec.names.kind.clone(),
        plural: crd.spec.names.plural.clone(),
    })
}

/// `kind, namespace/name` of an object, for messages.
pub fn describe(obj: &DynamicObject) -> String {
    let kind = obj.types.as_ref().map(|t| t.kind.as_str()).unwrap_or("");
    match obj.namespace() {
        Some(ns) => format!("{kind} {ns}/{}", obj.name_any()),
        None => format!("{kind} {}", obj.name_any()),
    }
}

/// The kind of an object ("" without type information).
pub fn kind_of(obj: &DynamicObject) -> &str {
    obj.types.as_ref().map(|t| t.kind.as_str()).unwrap_or("")
}

/// The API of the object's kind, in its namespace (none: cluster-scoped).
pub fn api_for(client: &kube::Client, obj: &DynamicObject) -> TestResult<Api<DynamicObject>> {
    let types = obj
        .types
        .as_ref()
        .ok_or_else(|| format!("{} has no apiVersion/kind", obj.name_any()))?;
    let gvk = GroupVersionKind::try_from(types)?;
    let resource = resource_of(&gvk.kind)
        .filter(|r| r.api_version == types.api_version)
        .unwrap_or_else(|| ApiResource::from_gvk(&gvk));
    Ok(match obj.namespace() {
        Some(ns) => Api::namespaced_with(client.clone(), &ns, &resource),
        None => Api::all_with(client.clone(), &resource),
    })
}

/// The object as stored now.
pub async fn get(client: &kube::Client, obj: &DynamicObject) -> TestResult<DynamicObject> {
    Ok(api_for(client, obj)?.get(&obj.name_any()).await?)
}

/// Server-side apply every object (forcing ownership), in order.
pub async fn apply(client: &kube::Client, objs: &[DynamicObject]) -> TestResult {
    for obj in objs {
        api_for(client, obj)?
            .patch(
                &obj.name_any(),
                &PatchParams::apply(FIELD_MANAGER).force(),
                &Patch::Apply(obj),
            )
            .await?;
    }
    Ok(())
}

/// The object `name` of kind `K` (in `namespace` when it is namespaced) as a reference for
/// [`get`], waits and deletes: kind, namespace and name only, nothing to apply.
pub fn reference<K: Resource<DynamicType = ()>>(
    namespace: Option<&str>,
    name: &str,
) -> DynamicObject {
    let mut obj = DynamicObject::new(name, &ApiResource::erase::<K>(&()));
    obj.metadata.namespace = namespace.map(str::to_string);
    obj
}
