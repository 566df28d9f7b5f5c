//! Core resources: projects, build definitions, queues, pools, environments, variable groups,
//! secure files, service endpoints, repositories.

use reqwest::Method;

use crate::support::*;

async fn get(h: &Harness, path: &str, query: &[(&str, &str)]) -> serde_json::Value {
    json(
        h.core_request(Method::GET, path, OPERATOR, "7.1")
            .query(query)
            .send()
            .await
            .unwrap(),
        200,
    )
    .await
}

fn names(body: &serde_json::Value) -> Vec<String> {
    assert_eq!(body["count"], body["value"].as_array().unwrap().len());
    body["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["name"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn projects_by_list_name_and_id() {
    let h = Harness::start().await;
    let list = get(&h, "_apis/projects", &[]).await;
    assert_eq!(names(&list), vec!["Storefront", "Payments", "Platform"]);
    let by_name = get(&h, "_apis/projects/storefront", &[]).await;
    assert_eq!(by_name["id"], STOREFRONT_ID);
    assert_eq!(by_name["state"], "wellFormed");
    let by_id = get(&h, &format!("_apis/projects/{STOREFRONT_ID}"), &[]).await;
    assert_eq!(by_id["name"], "Storefront");
    let missing = h
        .core_request(Method::GET, "_apis/projects/Nope", OPERATOR, "7.1")
        .send()
        .await
        .unwrap();
    vss_error(missing, 404, "ProjectDoesNotExistWithNameException").await;
    // Older released versions are accepted too.
    for version in ["6.0", "7.0", "7.2-preview.1"] {
        let response = h
            .core_request(Method::GET, "_apis/projects", OPERATOR, version)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{version}");
    }
}

#[tokio::test]
async fn build_definitions_by_name_path_and_id() {
    let h = Harness::start().await;
    let by_name = get(
        &h,
        "Storefront/_apis/build/definitions",
        &[("name", "storefront-deploy")],
    )
    .await;
    assert_eq!(names(&by_name), vec!["storefront-deploy"]);
    let definition = &by_name["value"][0];
    assert_eq!(definition["id"], 18);
    assert_eq!(definition["path"], "\\Deploy\\Production");
    assert_eq!(definition["uri"], "vstfs:///Build/Definition/18");
    assert_eq!(definition["project"]["id"], STOREFRONT_ID);
    let in_folder = get(
        &h,
        "Storefront/_apis/build/definitions",
        &[("path", "\\CI")],
    )
    .await;
    assert_eq!(names(&in_folder), vec!["storefront-ci", "storefront-pr"]);
    let wildcard = get(
        &h,
        "Storefront/_apis/build/definitions",
        &[("name", "storefront-deploy*")],
    )
    .await;
    assert_eq!(names(&wildcard).len(), 2);
    let by_id = get(&h, "Storefront/_apis/build/definitions/20", &[]).await;
    assert_eq!(by_id["name"], "nightly-e2e");
    assert_eq!(by_id["path"], "\\");
    let missing = h
        .core_request(
            Method::GET,
            "Storefront/_apis/build/definitions/999",
            OPERATOR,
            "7.1",
        )
        .send()
        .await
        .unwrap();
    vss_error(missing, 404, "DefinitionNotFoundException").await;
}

#[tokio::test]
async fn task_agent_queues_and_pools_by_name() {
    let h = Harness::start().await;
    let queues = get(
        &h,
        "Storefront/_apis/distributedtask/queues",
        &[("queueName", "linux-x64")],
    )
    .await;
    assert_eq!(names(&queues), vec!["linux-x64"]);
    assert_eq!(queues["value"][0]["id"], 33);
    assert_eq!(queues["value"][0]["pool"]["id"], 12);
    assert_eq!(queues["value"][0]["projectId"], STOREFRONT_ID);
    let pools = get(
        &h,
        "_apis/distributedtask/pools",
        &[("poolName", "Azure Pipelines")],
    )
    .await;
    assert_eq!(names(&pools), vec!["Azure Pipelines"]);
    assert_eq!(pools["value"][0]["isHosted"], true);
    let none = get(
        &h,
        "Storefront/_apis/distributedtask/queues",
        &[("queueName", "windows-x64")],
    )
    .await;
    assert_eq!(none["count"], 0);
}

#[tokio::test]
async fn environments_variable_groups_secure_files_endpoints_repositories() {
    let h = Harness::start().await;
    let environments = get(
        &h,
        "Storefront/_apis/distributedtask/environments",
        &[("name", "storefront-production")],
    )
    .await;
    assert_eq!(environments["value"][0]["id"], 2);
    assert_eq!(environments["value"][0]["project"]["id"], STOREFRONT_ID);
    let groups = get(
        &h,
        "Storefront/_apis/distributedtask/variablegroups",
        &[("groupName", "storefront-common")],
    )
    .await;
    assert_eq!(groups["value"][0]["id"], 5);
    assert_eq!(
        groups["value"][0]["variables"]["region"]["value"],
        "westeurope"
    );
    // Secure files are a preview resource.
    let released = h
        .core_request(
            Method::GET,
            "Storefront/_apis/distributedtask/securefiles",
            OPERATOR,
            "7.1",
        )
        .send()
        .await
        .unwrap();
    vss_error(released, 400, "VssInvalidPreviewVersionException").await;
    let files = json(
        h.core_request(
            Method::GET,
            "Storefront/_apis/distributedtask/securefiles",
            OPERATOR,
            PREVIEW,
        )
        .send()
        .await
        .unwrap(),
        200,
    )
    .await;
    assert_eq!(names(&files), vec!["signing.pfx", "apple-distribution.p12"]);
    assert_eq!(
        files["value"][0]["id"],
        "0e9d8c7b-6a5f-4e3d-2c1b-0a9f8e7d6c5b"
    );
    let endpoints = get(
        &h,
        "Storefront/_apis/serviceendpoint/endpoints",
        &[("endpointNames", "azure-prod,github-contoso")],
    )
    .await;
    assert_eq!(names(&endpoints), vec!["azure-prod", "github-contoso"]);
    assert_eq!(
        endpoints["value"][0]["id"],
        "4a3b2c1d-0e9f-4a8b-7c6d-5e4f3a2b1c0d"
    );
    assert_eq!(endpoints["value"][0]["type"], "azurerm");
    let repo = get(&h, "Storefront/_apis/git/repositories/storefront", &[]).await;
    assert_eq!(repo["id"], "9a8b7c6d-5e4f-4a3b-2c1d-0e9f8a7b6c5d");
    assert_eq!(repo["project"]["id"], STOREFRONT_ID);
    let missing = h
        .core_request(
            Method::GET,
            "Storefront/_apis/git/repositories/nope",
            OPERATOR,
            "7.1",
        )
        .send()
        .await
        .unwrap();
    let body = vss_error(missing, 404, "GitRepositoryNotFoundException").await;
    assert!(body["message"].as_str().unwrap().starts_with("TF401019"));
}
