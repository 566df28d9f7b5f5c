"""Memberships: add (PUT), check (HEAD), get, list down and up, remove; users, Entra groups
and service principals as members."""

from azure.devops.v7_1.graph.models import GraphSubjectLookup, GraphSubjectLookupKey

from graph_helpers import create_project_group, group_named, is_member, project_scope
from sdk_models import (
    GraphGroupOriginIdCreationContext,
    GraphUserPrincipalNameCreationContext,
)


def materialize_user(clients, upn):
    return clients.graph.create_user(GraphUserPrincipalNameCreationContext(principal_name=upn))


def members_of(graph, group_descriptor):
    return {m.member_descriptor for m in graph.list_memberships(group_descriptor, direction="down")}


def test_add_check_list_and_remove_a_user(clients):
    group = create_project_group(clients, "Storefront", "Checkout Team")
    user = materialize_user(clients, "alex.wilber@contoso.com")
    assert not is_member(clients.graph, user.descriptor, group.descriptor)
    assert members_of(clients.graph, group.descriptor) == set()

    added = clients.graph.add_membership(user.descriptor, group.descriptor)
    assert (added.member_descriptor, added.container_descriptor) == (
        user.descriptor,
        group.descriptor,
    )
    assert is_member(clients.graph, user.descriptor, group.descriptor)
    fetched = clients.graph.get_membership(user.descriptor, group.descriptor)
    assert fetched.container_descriptor == group.descriptor
    assert members_of(clients.graph, group.descriptor) == {user.descriptor}
    containers = {
        m.container_descriptor
        for m in clients.graph.list_memberships(user.descriptor, direction="up")
    }
    assert group.descriptor in containers
    # The seed made Alex a Storefront contributor directly.
    contributors = group_named(
        clients.graph, "[Storefront]\\Contributors", project_scope(clients, "Storefront")
    )
    assert contributors.descriptor in containers

    clients.graph.remove_membership(user.descriptor, group.descriptor)
    assert not is_member(clients.graph, user.descriptor, group.descriptor)
    assert members_of(clients.graph, group.descriptor) == set()
    assert is_member(clients.graph, user.descriptor, contributors.descriptor)


def test_repeated_add_keeps_one_membership(clients):
    group = create_project_group(clients, "Payments", "On Call")
    user = materialize_user(clients, "irvin.sayers@contoso.com")
    clients.graph.add_membership(user.descriptor, group.descriptor)
    again = clients.graph.add_membership(user.descriptor, group.descriptor)
    assert again.member_descriptor == user.descriptor
    assert members_of(clients.graph, group.descriptor) == {user.descriptor}


def test_entra_group_as_a_member_of_a_project_group(sim, clients):
    readers = group_named(clients.graph, "[Platform]\\Readers", project_scope(clients, "Platform"))
    entra = clients.graph.create_group(
        GraphGroupOriginIdCreationContext(origin_id=sim.entra_object_id("groups", "Contractors"))
    )
    before = members_of(clients.graph, readers.descriptor)
    assert entra.descriptor not in before
    clients.graph.add_membership(entra.descriptor, readers.descriptor)
    assert members_of(clients.graph, readers.descriptor) == before | {entra.descriptor}
    assert is_member(clients.graph, entra.descriptor, readers.descriptor)
    groups_of_entra = {
        m.container_descriptor
        for m in clients.graph.list_memberships(entra.descriptor, direction="up")
    }
    assert groups_of_entra == {readers.descriptor}


def test_seeded_memberships_are_visible(clients):
    scope = project_scope(clients, "Storefront")
    approvers = group_named(clients.graph, "[Storefront]\\Release Approvers", scope)
    members = members_of(clients.graph, approvers.descriptor)
    found = clients.graph.lookup_subjects(
        GraphSubjectLookup(lookup_keys=[GraphSubjectLookupKey(descriptor=d) for d in members])
    )
    assert {s.display_name for s in found.values()} == {"Debra Berger", "Nestor Wilke"}


def test_membership_state_of_an_active_subject(clients):
    user = materialize_user(clients, "megan.bowen@contoso.com")
    assert clients.graph.get_membership_state(user.descriptor).active is True
