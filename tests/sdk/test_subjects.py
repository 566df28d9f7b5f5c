"""Users and service principals materialized from Entra, descriptors and storage keys, subject
query and lookup."""

from azure.devops.v7_1.graph.models import (
    GraphSubjectLookup,
    GraphSubjectLookupKey,
    GraphSubjectQuery,
)

from graph_helpers import list_all_users, project_scope
from sdk_models import (
    GraphServicePrincipalOriginIdCreationContext,
    GraphUserMailAddressCreationContext,
    GraphUserOriginIdCreationContext,
    GraphUserPrincipalNameCreationContext,
)


def test_materialize_a_user_three_ways(sim, clients):
    object_id = sim.entra_object_id("users", "jordan.miller@contoso.com")
    by_upn = clients.graph.create_user(
        GraphUserPrincipalNameCreationContext(principal_name="jordan.miller@contoso.com")
    )
    assert by_upn.descriptor.startswith("aad.")
    assert (by_upn.origin, by_upn.origin_id) == ("aad", object_id)
    assert (by_upn.principal_name, by_upn.display_name) == (
        "jordan.miller@contoso.com",
        "Jordan Miller",
    )
    by_id = clients.graph.create_user(GraphUserOriginIdCreationContext(origin_id=object_id))
    by_mail = clients.graph.create_user(
        GraphUserMailAddressCreationContext(mail_address="jordan.miller@contoso.com")
    )
    assert by_id.descriptor == by_mail.descriptor == by_upn.descriptor
    assert clients.graph.get_user(by_upn.descriptor).mail_address == "jordan.miller@contoso.com"


def test_materialized_users_are_listed(clients):
    before = {u.principal_name for u in list_all_users(clients.graph)}
    assert "sanjay.shah@contoso.com" in before  # materialized by the seed
    assert "lee.gu@contoso.com" not in before
    clients.graph.create_user(
        GraphUserPrincipalNameCreationContext(principal_name="lee.gu@contoso.com")
    )
    after = {u.principal_name for u in list_all_users(clients.graph)}
    assert after == before | {"lee.gu@contoso.com"}


def test_materialize_a_service_principal(sim, clients):
    object_id = sim.entra_object_id("servicePrincipals", "backup-agent")
    listed = clients.graph.list_service_principals()
    assert "deploy-bot" in {sp.display_name for sp in listed.graph_service_principals}
    assert "backup-agent" not in {sp.display_name for sp in listed.graph_service_principals}

    created = clients.graph.create_service_principal(
        GraphServicePrincipalOriginIdCreationContext(origin_id=object_id)
    )
    assert created.descriptor.startswith("aadsp.")
    assert (created.origin_id, created.display_name) == (object_id, "backup-agent")
    fetched = clients.graph.get_service_principal(created.descriptor)
    assert fetched.descriptor == created.descriptor
    listed = clients.graph.list_service_principals()
    assert "backup-agent" in {sp.display_name for sp in listed.graph_service_principals}


def test_storage_keys_and_descriptors_round_trip(clients):
    user = clients.graph.create_user(
        GraphUserPrincipalNameCreationContext(principal_name="raul.razo@contoso.com")
    )
    storage_key = clients.graph.get_storage_key(user.descriptor).value
    assert storage_key and not user.descriptor.endswith(storage_key)
    assert clients.graph.get_descriptor(storage_key).value == user.descriptor

    project = clients.core.get_project("Payments")
    scope = clients.graph.get_descriptor(project.id).value
    assert scope.startswith("scp.")
    assert clients.graph.get_storage_key(scope).value == project.id


def test_subject_query_by_prefix_in_a_project(clients):
    scope = project_scope(clients, "Storefront")
    found = clients.graph.query_subjects(
        GraphSubjectQuery(query="Release", subject_kind=["Group"], scope_descriptor=scope)
    )
    # The SDK reads these as GraphSubject: descriptor, display name, origin and kind.
    assert {s.display_name for s in found} == {"Release Approvers"}
    assert all(s.subject_kind == "group" and s.descriptor.startswith("vssgp.") for s in found)


def test_subject_lookup_in_a_batch(clients):
    scope = project_scope(clients, "Platform")
    user = clients.graph.create_user(
        GraphUserPrincipalNameCreationContext(principal_name="diego.siciliani@contoso.com")
    )
    admins = clients.graph.query_subjects(
        GraphSubjectQuery(query="Project Admin", subject_kind=["Group"], scope_descriptor=scope)
    )
    assert len(admins) == 1
    wanted = [user.descriptor, admins[0].descriptor]
    found = clients.graph.lookup_subjects(
        GraphSubjectLookup(lookup_keys=[GraphSubjectLookupKey(descriptor=d) for d in wanted])
    )
    assert set(found) == set(wanted)
    assert found[user.descriptor].display_name == "Diego Siciliani"
    assert found[admins[0].descriptor].display_name == "Project Administrators"
