//! Route discovery as the official SDKs use it: `_apis/ResourceAreas` and `OPTIONS _apis`, their
//! shapes, and that every published location's template, filled in the way the SDKs fill it,
//! lands on the route that implements it.

use std::collections::{BTreeSet, HashMap};

use azdo_sim::http::discovery::catalog::{self, Endpoint, Host};
use reqwest::Method;
use serde_json::Value;

use crate::support::*;

const RESOURCE_AREAS_VERSION: &str = "7.1-preview.1";
const GRAPH_AREA: &str = "bb1e7ec9-e901-4b68-999a-de7012b920f8";
const DEV_AREAS: [(&str, &str); 7] = [
    ("79134c72-4a58-4b42-976c-04e7115f32bf", "core"),
    ("965220d5-5bb9-42cf-8d67-9b146df2a5a4", "build"),
    ("a85b8835-c1a1-4aac-ae97-1c3d0ba72dbd", "distributedtask"),
    ("1814ab31-2f4f-4a9f-8761-f4d77dc5a5d7", "serviceendpoint"),
    ("4e080c62-fa21-4fbc-8fef-2a10a2b38049", "git"),
    (
        "a81a0441-de52-4000-aa15-ff0e07bfbbaa",
        "pipelinePermissions",
    ),
    ("4a933897-0488-45af-bd82-6fd3ad33f46a", "PipelinesChecks"),
];

fn base_url(h: &Harness, host: Host) -> String {
    match host {
        Host::Dev => h.sim.dev_url(),
        Host::Vssps => h.sim.vssps_url(),
        Host::Vsaex => h.sim.vsaex_url(),
    }
}

async fn resource_areas(h: &Harness, url: String) -> HashMap<String, (String, String)> {
    let response = h
        .client
        .get(url)
        .bearer_auth(h.token(OPERATOR))
        .header(
            "Accept",
            format!("application/json;api-version={RESOURCE_AREAS_VERSION}"),
        )
        .send()
        .await
        .unwrap();
    let body = json(response, 200).await;
    let values = body["value"].as_array().unwrap();
    assert_eq!(body["count"], values.len());
    values
        .iter()
        .map(|area| {
            let field = |name: &str| area[name].as_str().unwrap().to_string();
            (field("id"), (field("name"), field("locationUrl")))
        })
        .collect()
}

#[tokio::test]
async fn resource_areas_put_graph_on_vssps_entitlements_on_vsaex_and_the_rest_on_dev() {
    let h = Harness::start().await;
    let dev_org = format!("{}/{ORG}/", h.sim.dev_url());
    let vssps_org = format!("{}/{ORG}/", h.sim.vssps_url());
    for host in Host::ALL {
        // Asked on either host, with the route words in the service's own case.
        let url = format!("{}/{ORG}/_apis/ResourceAreas", base_url(&h, host));
        let areas = resource_areas(&h, url).await;
        assert_eq!(
            areas.len(),
            2 + DEV_AREAS.len() + catalog::KNOWN_AREAS.len(),
            "{host:?}: {areas:?}"
        );
        // Member entitlements: on the simulator's own vsaex host.
        assert_eq!(
            areas["68ddce18-2501-45f1-a17b-7931a9922690"],
            (
                "MemberEntitlementManagement".to_string(),
                format!("{}/{ORG}/", h.sim.vsaex_url())
            )
        );
        // Areas the official SDKs know but the simulator does not serve: on the real host.
        assert_eq!(
            areas["94ff054d-5ee1-413d-9341-3f4a7827de2e"],
            (
                "Audit".to_string(),
                format!("https://auditservice.dev.azure.com/{ORG}/")
            )
        );
        assert_eq!(
            areas["8a3d49b8-91f0-46ef-b33d-dda338c25db3"],
            ("IMS".to_string(), vssps_org.clone())
        );
        assert_eq!(
            areas["4a933897-0488-45af-bd82-6fd3ad33f46a"],
            ("PipelinesChecks".to_string(), dev_org.clone())
        );
        assert_eq!(
            areas[GRAPH_AREA],
            ("Graph".to_string(), vssps_org.clone()),
            "{host:?}"
        );
        for (id, name) in DEV_AREAS {
            assert_eq!(areas[id], (name.to_string(), dev_org.clone()), "{host:?}");
        }
    }

    let one = h
        .client
        .get(format!(
            "{}/{ORG}/_apis/resourceAreas/{}?api-version={RESOURCE_AREAS_VERSION}",
            h.sim.dev_url(),
            GRAPH_AREA.to_uppercase()
        ))
        .bearer_auth(h.token(OPERATOR))
        .send()
        .await
        .unwrap();
    let one = json(one, 200).await;
    assert_eq!(one["id"], GRAPH_AREA);
    assert_eq!(one["locationUrl"], vssps_org.as_str());

    let unknown_area = h
        .client
        .get(format!(
            "{}/{ORG}/_apis/resourceareas/00000000-0000-0000-0000-000000000001?api-version={RESOURCE_AREAS_VERSION}",
            h.sim.dev_url()
        ))
        .bearer_auth(h.token(OPERATOR))
        .send()
        .await
        .unwrap();
    vss_error(unknown_area, 404, "ResourceAreaNotFoundException").await;
}

#[tokio::test]
async fn deployment_level_resource_areas() {
    let h = Harness::start().await;
    let for_org = resource_areas(
        &h,
        format!(
            "{}/_apis/ResourceAreas?organizationName={ORG}",
            h.sim.dev_url()
        ),
    )
    .await;
    assert_eq!(
        for_org[GRAPH_AREA].1,
        format!("{}/{ORG}/", h.sim.vssps_url())
    );
    let by_account = resource_areas(
        &h,
        format!(
            "{}/_apis/ResourceAreas?accountName={ORG}",
            h.sim.vssps_url()
        ),
    )
    .await;
    assert_eq!(by_account, for_org);
    let deployment = resource_areas(&h, format!("{}/_apis/ResourceAreas", h.sim.dev_url())).await;
    assert_eq!(deployment[GRAPH_AREA].1, format!("{}/", h.sim.vssps_url()));
    assert_eq!(
        deployment[DEV_AREAS[0].0].1,
        format!("{}/", h.sim.dev_url())
    );
}

#[tokio::test]
async fn discovery_is_authenticated_and_versioned_like_the_rest() {
    let h = Harness::start().await;
    let url = format!(
        "{}/{ORG}/_apis/ResourceAreas?api-version={RESOURCE_AREAS_VERSION}",
        h.sim.dev_url()
    );
    let anonymous = h
        .client
        .get(&url)
        .header("X-TFS-FedAuthRedirect", "Suppress")
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);
    let options_anonymous = h
        .client
        .request(
            Method::OPTIONS,
            format!("{}/{ORG}/_apis", h.sim.vssps_url()),
        )
        .header("X-TFS-FedAuthRedirect", "Suppress")
        .send()
        .await
        .unwrap();
    assert_eq!(options_anonymous.status(), 401);
    let outsider = h
        .client
        .request(Method::OPTIONS, format!("{}/{ORG}/_apis", h.sim.dev_url()))
        .bearer_auth(h.token(OUTSIDER))
        .send()
        .await
        .unwrap();
    vss_error(outsider, 401, "UnauthorizedRequestException").await;
    let unknown_org = h
        .client
        .request(
            Method::OPTIONS,
            format!("{}/fabrikam/_apis", h.sim.dev_url()),
        )
        .bearer_auth(h.token(OPERATOR))
        .send()
        .await
        .unwrap();
    vss_error(unknown_org, 404, "HostNotFoundException").await;
    // Resource areas are a preview resource.
    let released = h
        .client
        .get(format!(
            "{}/{ORG}/_apis/ResourceAreas?api-version=7.1",
            h.sim.dev_url()
        ))
        .bearer_auth(h.token(OPERATOR))
        .send()
        .await
        .unwrap();
    vss_error(released, 400, "VssInvalidPreviewVersionException").await;
}

/// `OPTIONS {url}/_apis` as the SDKs send it (no api-version, JSON accepted).
async fn locations(h: &Harness, url: String) -> Vec<Value> {
    let response = h
        .client
        .request(Method::OPTIONS, format!("{url}/_apis"))
        .bearer_auth(h.token(OPERATOR))
        .header("Accept", "application/json")
        .header("X-TFS-FedAuthRedirect", "Suppress")
        .header("X-VSS-ForceMsaPassThrough", "true")
        .send()
        .await
        .unwrap();
    let body = json(response, 200).await;
    let values = body["value"].as_array().unwrap().clone();
    assert_eq!(body["count"], values.len());
    values
}

#[tokio::test]
async fn options_lists_every_location_with_the_sdk_fields() {
    let h = Harness::start().await;
    for host in Host::ALL {
        let published = locations(&h, format!("{}/{ORG}", base_url(&h, host))).await;
        let ids: BTreeSet<&str> = published
            .iter()
            .map(|l| l["id"].as_str().unwrap())
            .collect();
        let expected: BTreeSet<&str> = catalog::locations_of(host, false).map(|l| l.id).collect();
        assert_eq!(ids, expected, "{host:?}");
        assert_eq!(ids.len(), published.len(), "{host:?}: ids are unique");
        for location in &published {
            for field in ["id", "area", "resourceName", "routeTemplate"] {
                assert!(
                    location[field].as_str().is_some_and(|s| !s.is_empty()),
                    "{field} in {location}"
                );
            }
            assert!(location["resourceVersion"].as_u64().unwrap() >= 1);
            for field in ["minVersion", "maxVersion", "releasedVersion"] {
                let version = location[field].as_str().unwrap();
                let number: f64 = version.parse().unwrap();
                assert!((0.0..=7.2).contains(&number), "{field} {version}");
            }
            assert_eq!(location["maxVersion"], "7.2");
        }
    }

    let vssps = locations(&h, format!("{}/{ORG}", h.sim.vssps_url())).await;
    let by_id = |id: &str| {
        vssps
            .iter()
            .find(|l| l["id"] == id)
            .cloned()
            .unwrap_or_else(|| panic!("{id} published"))
    };
    let groups = by_id("ebbe6af8-0b91-4c13-8cf1-777c14858188");
    assert_eq!(groups["area"], "Graph");
    assert_eq!(groups["resourceName"], "Groups");
    assert_eq!(
        groups["routeTemplate"],
        "_apis/{area}/{resource}/{groupDescriptor}"
    );
    assert_eq!(groups["releasedVersion"], "0.0");
    let memberships = by_id("3fd2e6ca-fb30-443a-b579-95b19ed0934c");
    assert_eq!(
        memberships["routeTemplate"],
        "_apis/{area}/{resource}/{subjectDescriptor}/{containerDescriptor}"
    );

    let dev = locations(&h, format!("{}/{ORG}", h.sim.dev_url())).await;
    let permissions = dev
        .iter()
        .find(|l| l["id"] == "b5b9a4a4-e6cd-4096-853c-ab7d8b0c4eb2")
        .unwrap();
    assert_eq!(
        permissions["routeTemplate"],
        "{project}/_apis/pipelines/{resource}/{resourceType}/{resourceId}"
    );

    // The deployment level publishes the location service only.
    let deployment = locations(&h, h.sim.dev_url()).await;
    let ids: Vec<_> = deployment.iter().map(|l| l["id"].clone()).collect();
    assert_eq!(ids, vec!["e81700f7-3be2-46de-8624-2eb35882fcaa"]);
}

fn is_parameter(segment: &str) -> bool {
    segment.starts_with('{') && segment.ends_with('}')
}

/// The URL an SDK builds from a published location for the parameters `endpoint` takes: fixed
/// words as published (their case kept), `{area}`/`{resource}` filled in, each parameter given
/// a value when the endpoint's route has one at that place and dropped otherwise.
fn url_from_template(base: &str, location: &Value, endpoint: &Endpoint) -> String {
    let area = location["area"].as_str().unwrap();
    let resource = location["resourceName"].as_str().unwrap();
    let template = location["routeTemplate"].as_str().unwrap();
    let mut path = endpoint
        .relative_path()
        .split('/')
        .filter(|s| !s.is_empty())
        .peekable();
    let mut segments = Vec::new();
    for segment in template.split('/').filter(|s| !s.is_empty()) {
        match segment {
            "{area}" => {
                segments.push(area.to_string());
                path.next();
            }
            "{resource}" => {
                segments.push(resource.to_string());
                path.next();
            }
            "{project}" if path.peek().is_some_and(|p| is_parameter(p)) => {
                segments.push("Storefront".to_string());
                path.next();
            }
            parameter if is_parameter(parameter) => {
                if path.peek().is_some_and(|p| is_parameter(p)) {
                    segments.push("x1".to_string());
                    path.next();
                }
            }
            word => {
                segments.push(word.to_string());
                path.next();
            }
        }
    }
    let prefix = if endpoint.organization_level() {
        format!("{base}/{ORG}")
    } else {
        base.to_string()
    };
    format!("{prefix}/{}", segments.join("/"))
}

/// The version an SDK negotiates for a location when it asks for more than the server has:
/// the maximum, flagged as preview when the released version is lower.
fn negotiated_version(location: &Value) -> String {
    let version = |field: &str| -> f64 { location[field].as_str().unwrap().parse().unwrap() };
    let max = location["maxVersion"].as_str().unwrap();
    if version("releasedVersion") < version("maxVersion") {
        format!("{max}-preview")
    } else {
        max.to_string()
    }
}

#[tokio::test]
async fn every_published_template_lands_on_its_route() {
    let h = Harness::start().await;
    let token = h.token(OPERATOR);
    for endpoint in catalog::ENDPOINTS {
        for host in Host::ALL.into_iter().filter(|&h| endpoint.served_by(h)) {
            let base = base_url(&h, host);
            let published = if endpoint.organization_level() {
                locations(&h, format!("{base}/{ORG}")).await
            } else {
                locations(&h, base.clone()).await
            };
            let location = published
                .iter()
                .find(|l| l["id"] == endpoint.location.id)
                .unwrap_or_else(|| panic!("{} published on {host:?}", endpoint.location.id));
            let url = url_from_template(&base, location, endpoint);
            h.sim.control().clear_requests();
            let response = h
                .client
                .request(endpoint.verb.method(), &url)
                .bearer_auth(&token)
                .header(
                    "Accept",
                    format!(
                        "application/json;api-version={}",
                        negotiated_version(location)
                    ),
                )
                .header("X-TFS-FedAuthRedirect", "Suppress")
                .send()
                .await
                .unwrap();
            let status = response.status();
            let log = h.sim.control().requests();
            assert_eq!(
                log.count(endpoint.verb.method().as_str(), endpoint.path),
                1,
                "{:?} {url} ({host:?}) did not reach {}: {status}, log {:?}",
                endpoint.verb,
                endpoint.path,
                log.requests
            );
            // Neither the credentials, the method nor the negotiated version were refused
            // (the dummy ids may well be unknown or malformed).
            assert!(
                status != 401 && status != 405,
                "{:?} {url}: {status}",
                endpoint.verb
            );
            let body: Value = response.json().await.unwrap_or(Value::Null);
            let type_key = body["typeKey"].as_str().unwrap_or_default();
            assert!(
                !type_key.starts_with("VssVersion") && !type_key.starts_with("VssInvalid"),
                "{:?} {url}: {body}",
                endpoint.verb
            );
        }
    }
}
