"""Graph groups in organization and project scope: list (continuation tokens, empty pages),
create, update (JSON Patch), delete; Entra groups materialized by object id or mail."""

import pytest
from azure.devops.exceptions import AzureDevOpsServiceError
from azure.devops.v7_1.graph.models import JsonPatchOperation

from graph_helpers import create_project_group, list_all_groups, project_scope
from sdk_models import (
    GraphGroupMailAddressCreationContext,
    GraphGroupOriginIdCreationContext,
    GraphGroupVstsCreationContext,
)
from simulator import ORGANIZATION

STOREFRONT_GROUPS = {
    "[Storefront]\\Project Administrators",
    "[Storefront]\\Contributors",
    "[Storefront]\\Readers",
    "[Storefront]\\Build Administrators",
    "[Storefront]\\Project Valid Users",
    "[Storefront]\\Storefront Team",
    "[Storefront]\\Release Approvers",
    "[Storefront]\\Frontend",
}


def names(groups):
    return {g.principal_name for g in groups}


def test_project_groups_page_through_continuation_tokens(clients):
    scope = project_scope(clients, "Storefront")
    groups, pages = list_all_groups(clients.graph, scope)
    assert names(groups) == STOREFRONT_GROUPS
    assert len(groups) == len(STOREFRONT_GROUPS), "no group is listed twice"
    assert len(pages) > 1 and max(pages) <= 5, pages
    storefront_id = clients.core.get_project("Storefront").id
    for group in groups:
        assert group.descriptor.startswith("vssgp.")
        assert group.domain == f"vstfs:///Classification/TeamProject/{storefront_id}"
        assert group.origin == "vsts"


def test_organization_groups(clients):
    groups, _ = list_all_groups(clients.graph)
    by_name = {g.principal_name: g for g in groups}
    for name in ("Project Collection Administrators", "Platform Admins", "Auditors"):
        assert f"[{ORGANIZATION}]\\{name}" in by_name
    assert by_name[f"[{ORGANIZATION}]\\Platform Admins"].description == (
        "Administrators of the shared build platform"
    )
    # Project groups of every project are part of the organization's listing.
    assert "[Payments]\\Compliance" in by_name


def test_create_update_and_delete_a_project_group(clients):
    scope = project_scope(clients, "Storefront")
    created = create_project_group(clients, "Storefront", "Checkout Team", "Owns checkout")
    assert created.principal_name == "[Storefront]\\Checkout Team"
    assert (created.display_name, created.description) == ("Checkout Team", "Owns checkout")
    assert created.descriptor.startswith("vssgp.")
    assert "[Storefront]\\Checkout Team" in names(list_all_groups(clients.graph, scope)[0])

    updated = clients.graph.update_group(
        created.descriptor,
        [
            JsonPatchOperation(op="replace", path="/displayName", value="Checkout Squad"),
            JsonPatchOperation(op="replace", path="/description", value="Owns checkout and cart"),
        ],
    )
    assert updated.descriptor == created.descriptor
    fetched = clients.graph.get_group(created.descriptor)
    assert (fetched.principal_name, fetched.description) == (
        "[Storefront]\\Checkout Squad",
        "Owns checkout and cart",
    )

    clients.graph.delete_group(created.descriptor)
    remaining = names(list_all_groups(clients.graph, scope)[0])
    assert remaining == STOREFRONT_GROUPS
    # A deleted group can still be read, marked as deleted.
    assert clients.graph.get_group(created.descriptor).is_deleted is True


def test_create_an_organization_group(clients):
    created = clients.graph.create_group(
        GraphGroupVstsCreationContext(display_name="Release Train", description="All releases")
    )
    assert created.principal_name == f"[{ORGANIZATION}]\\Release Train"
    organization_groups = names(list_all_groups(clients.graph)[0])
    assert f"[{ORGANIZATION}]\\Release Train" in organization_groups
    storefront = names(list_all_groups(clients.graph, project_scope(clients, "Storefront"))[0])
    assert f"[{ORGANIZATION}]\\Release Train" not in storefront


def test_duplicate_group_name_conflicts(clients):
    create_project_group(clients, "Payments", "Fraud Analysts")
    with pytest.raises(AzureDevOpsServiceError) as raised:
        create_project_group(clients, "Payments", "Fraud Analysts")
    assert raised.value.message.startswith("TF50624")
    assert "Fraud Analysts" in raised.value.message


def test_materialize_an_entra_group_by_object_id(sim, clients):
    object_id = sim.entra_object_id("groups", "Release Managers")
    group = clients.graph.create_group(GraphGroupOriginIdCreationContext(origin_id=object_id))
    assert group.origin == "aad"
    assert group.origin_id == object_id
    assert group.descriptor.startswith("aadgp.")
    assert group.principal_name == "[TEAM FOUNDATION]\\Release Managers"
    assert group.mail_address == "release-managers@contoso.com"
    # Materializing again returns the same group.
    again = clients.graph.create_group(GraphGroupOriginIdCreationContext(origin_id=object_id))
    assert again.descriptor == group.descriptor


def test_materialize_an_entra_group_by_mail_address(sim, clients):
    group = clients.graph.create_group(
        GraphGroupMailAddressCreationContext(mail_address="qa@contoso.com")
    )
    assert group.origin_id == sim.entra_object_id("groups", "QA Team")
    assert group.display_name == "QA Team"
    fetched = clients.graph.get_group(group.descriptor)
    assert fetched.origin == "aad" and fetched.is_deleted is not True
