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

/// Every project-level kind: the list filters by its ids parameter (ids compared as GUIDs where
/// they are GUIDs), the get answers by id, and an unknown id gets that kind's own 404.
#[tokio::test]
async fn each_kind_lists_by_id_gets_by_id_and_has_its_own_not_found() {
    let h = Harness::start().await;
    // (list route, ids parameter or "", api-version, an id, its name, the 404's typeKey)
    let kinds = [
        (
            "Storefront/_apis/build/definitions",
            "definitionIds",
            "7.1",
            "18",
            "storefront-deploy",
            "DefinitionNotFoundException",
        ),
        (
            "Storefront/_apis/distributedtask/queues",
            "queueIds",
            "7.1",
            "33",
            "linux-x64",
            "TaskAgentQueueNotFoundException",
        ),
        (
            "Storefront/_apis/distributedtask/environments",
            "",
            "7.1",
            "2",
            "storefront-production",
            "EnvironmentNotFoundException",
        ),
        (
            "Storefront/_apis/distributedtask/variablegroups",
            "groupIds",
            "7.1",
            "5",
            "storefront-common",
            "VariableGroupNotFoundException",
        ),
        (
            "Storefront/_apis/distributedtask/securefiles",
            "secureFileIds",
            PREVIEW,
            "0E9D8C7B-6A5F-4E3D-2C1B-0A9F8E7D6C5B",
            "signing.pfx",
            "SecureFileNotFoundException",
        ),
        (
            "Storefront/_apis/serviceendpoint/endpoints",
            "endpointIds",
            "7.1",
            "4A3B2C1D-0E9F-4A8B-7C6D-5E4F3A2B1C0D",
            "azure-prod",
            "ServiceEndpointNotFoundException",
        ),
        (
            "Storefront/_apis/git/repositories",
            "",
            "7.1",
            "9a8b7c6d-5e4f-4a3b-2c1d-0e9f8a7b6c5d",
            "storefront",
            "GitRepositoryNotFoundException",
        ),
    ];
    for (route, ids_param, version, id, name, not_found) in kinds {
        let request = |path: String, query: Vec<(&'static str, String)>| {
            h.core_request(Method::GET, &path, OPERATOR, version)
                .query(&query)
                .send()
        };
        let all = json(request(route.to_string(), vec![]).await.unwrap(), 200).await;
        assert!(names(&all).len() > 1, "{route}: {all}");
        if !ids_param.is_empty() {
            let filtered = json(
                request(route.to_string(), vec![(ids_param, id.to_string())])
                    .await
                    .unwrap(),
                200,
            )
            .await;
            assert_eq!(names(&filtered), vec![name], "{route}?{ids_param}={id}");
        }
        let one = json(request(format!("{route}/{id}"), vec![]).await.unwrap(), 200).await;
        assert_eq!(one["name"], name, "{route}/{id}");
        let unknown = "00000000-0000-0000-0000-000000000999";
        let missing = request(format!("{route}/{unknown}"), vec![]).await.unwrap();
        let body = vss_error(missing, 404, not_found).await;
        assert!(
            body["message"].as_str().unwrap().contains(unknown),
            "{route}: {body}"
        );
    }
}
