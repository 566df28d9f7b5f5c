"""Pipelines and protected resources, looked up by name (the real filters) and by id."""

import pytest
from azure.devops.exceptions import AzureDevOpsServiceError

STOREFRONT = "Storefront"


def test_build_definitions_by_name_folder_and_id(clients):
    [deploy] = clients.build.get_definitions(STOREFRONT, name="storefront-deploy")
    assert (deploy.id, deploy.path) == (18, "\\Deploy\\Production")
    ci = clients.build.get_definitions(STOREFRONT, path="\\CI")
    assert sorted(d.name for d in ci) == ["storefront-ci", "storefront-pr"]
    wildcard = clients.build.get_definitions(STOREFRONT, name="storefront-deploy*")
    assert sorted(d.id for d in wildcard) == [18, 19]
    definition = clients.build.get_definition(STOREFRONT, 20)
    assert definition.name == "nightly-e2e"
    assert definition.project.name == STOREFRONT


def test_agent_pools_and_queues(clients):
    [pool] = clients.task_agent.get_agent_pools(pool_name="linux-x64")
    assert pool.id == 12
    assert clients.task_agent.get_agent_pool(9).is_hosted is True
    [queue] = clients.task_agent.get_agent_queues(STOREFRONT, queue_name="linux-x64")
    assert (queue.id, queue.pool.id, queue.pool.name) == (33, 12, "linux-x64")
    assert clients.task_agent.get_agent_queue(31, project=STOREFRONT).name == "Default"
    # The queue of the same name in another project is another queue.
    [payments_default] = clients.task_agent.get_agent_queues("Payments", queue_name="Default")
    assert payments_default.id == 51


def test_environments(clients):
    [production] = clients.task_agent.get_environments(STOREFRONT, name="storefront-production")
    assert (production.id, production.description) == (2, "Production")
    assert clients.task_agent.get_environment_by_id(STOREFRONT, 1).name == "storefront-staging"
    all_names = {e.name for e in clients.task_agent.get_environments(STOREFRONT)}
    assert all_names == {"storefront-staging", "storefront-production"}


def test_variable_groups(clients):
    [common] = clients.task_agent.get_variable_groups(STOREFRONT, group_name="storefront-common")
    assert common.id == 5
    assert common.variables["region"].value == "westeurope"
    assert clients.task_agent.get_variable_group(STOREFRONT, 6).name == "storefront-secrets"
    assert clients.task_agent.get_variable_groups("Platform", group_name="storefront-*") == []


def test_secure_files(clients):
    [signing] = clients.secure_files.get_secure_files(STOREFRONT, name_pattern="signing*")
    assert (signing.name, signing.id) == ("signing.pfx", "0e9d8c7b-6a5f-4e3d-2c1b-0a9f8e7d6c5b")
    assert clients.secure_files.get_secure_file(STOREFRONT, signing.id).name == "signing.pfx"
    names = {f.name for f in clients.secure_files.get_secure_files(STOREFRONT)}
    assert names == {"signing.pfx", "apple-distribution.p12"}


def test_service_endpoints(clients):
    [prod] = clients.service_endpoint.get_service_endpoints_by_names(STOREFRONT, ["azure-prod"])
    assert (prod.id, prod.type) == ("4a3b2c1d-0e9f-4a8b-7c6d-5e4f3a2b1c0d", "azurerm")
    details = clients.service_endpoint.get_service_endpoint_details(STOREFRONT, prod.id)
    assert details.name == "azure-prod"
    both = clients.service_endpoint.get_service_endpoints_by_names(
        STOREFRONT, ["azure-staging", "github-contoso"]
    )
    assert {e.name: e.type for e in both} == {"azure-staging": "azurerm", "github-contoso": "github"}


def test_git_repositories_by_name_and_id(clients):
    repositories = clients.git.get_repositories(STOREFRONT)
    assert {r.name for r in repositories} == {"storefront", "storefront-infra"}
    by_name = clients.git.get_repository("storefront", project=STOREFRONT)
    assert by_name.id == "9a8b7c6d-5e4f-4a3b-2c1d-0e9f8a7b6c5d"
    assert by_name.project.id == clients.core.get_project(STOREFRONT).id
    assert clients.git.get_repository(by_name.id, project=STOREFRONT).name == "storefront"


def test_unknown_resources_are_not_found(clients):
    with pytest.raises(AzureDevOpsServiceError):
        clients.build.get_definition(STOREFRONT, 999)
    with pytest.raises(AzureDevOpsServiceError):
        clients.git.get_repository("no-such-repo", project=STOREFRONT)
    assert clients.build.get_definitions(STOREFRONT, name="no-such-pipeline") == []
