"""Core: projects by list, name and id."""

import pytest
from azure.devops.exceptions import AzureDevOpsServiceError

STOREFRONT_ID = "3f2a1b0c-4d5e-4f60-8a7b-9c0d1e2f3a4b"


def test_projects_are_listed(clients):
    projects = clients.core.get_projects()
    assert [p.name for p in projects] == ["Storefront", "Payments", "Platform"]
    assert {p.name: p.id for p in projects}["Storefront"] == STOREFRONT_ID
    assert all(p.state == "wellFormed" for p in projects)


def test_project_by_name_and_by_id(clients):
    by_name = clients.core.get_project("Storefront")
    assert (by_name.id, by_name.description) == (STOREFRONT_ID, "Customer-facing web shop")
    by_id = clients.core.get_project(STOREFRONT_ID)
    assert by_id.name == "Storefront"
    # Names match case-insensitively, as on the service.
    assert clients.core.get_project("storefront").id == STOREFRONT_ID


def test_unknown_project(clients):
    with pytest.raises(AzureDevOpsServiceError) as raised:
        clients.core.get_project("Warehouse")
    assert raised.value.type_key == "ProjectDoesNotExistWithNameException"
    assert "Warehouse" in raised.value.message
