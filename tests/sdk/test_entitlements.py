"""Member Entitlement Management through the official SDK's member_entitlement_management
client (7.1), which finds the simulator's vsaex host through resource areas: user and service
principal entitlements, a refused add answered 200 with isSuccess false, and a group rule whose
operation the SDK's operations client polls."""

import time

from azure.devops.v7_1.member_entitlement_management.models import (
    AccessLevel,
    GraphGroup,
    GraphServicePrincipal,
    GraphUser,
    GroupEntitlement,
    ServicePrincipalEntitlement,
    UserEntitlement,
)
from azure.devops.v7_1.operations.operations_client import OperationsClient

STOREFRONT = "3f2a1b0c-4d5e-4f60-8a7b-9c0d1e2f3a4b"


def test_user_entitlement_add_get_and_refusal(connection):
    mem = connection.clients_v7_1.get_member_entitlement_management_client()
    added = mem.add_user_entitlement(
        UserEntitlement(
            access_level=AccessLevel(account_license_type="stakeholder", licensing_source="account"),
            user=GraphUser(principal_name="miriam.graham@contoso.com", subject_kind="user"),
        )
    )
    assert added.is_success
    entitlement = mem.get_user_entitlement(added.user_entitlement.id)
    assert entitlement.access_level.account_license_type == "stakeholder"
    assert entitlement.user.principal_name == "miriam.graham@contoso.com"
    # A second add is refused inside a 200: the SDK returns it, isSuccess false with the code.
    again = mem.add_user_entitlement(
        UserEntitlement(
            access_level=AccessLevel(account_license_type="express"),
            user=GraphUser(principal_name="miriam.graham@contoso.com"),
        )
    )
    assert again.is_success is False
    assert again.user_entitlement is None
    # The per-result model: the SDK's generated UserEntitlementOperationResult lists only
    # `userId` in its msrest attribute map (its base's isSuccess, errors and result are not
    # inherited), so msrest decodes userId and keeps the rest, as sent, in additional_properties;
    # is_success and errors stay None whatever the wire says. (Decoding the base model instead
    # fails: its errors type `[{ key: int; value: str }]` is not an msrest type.) The wire names
    # are the 7.1 spec's, so the SDK's own objects carry the refusal:
    result = again.operation_result
    assert result.user_id == added.user_entitlement.id
    assert result.is_success is None
    assert result.additional_properties["isSuccess"] is False
    assert result.additional_properties["result"] is None
    [error] = result.additional_properties["errors"]
    assert error["key"] == 5102
    assert error["value"].startswith("VS403288")
    mem.delete_user_entitlement(added.user_entitlement.id)


def test_service_principal_entitlement_by_object_id(connection, sim):
    mem = connection.clients_v7_1.get_member_entitlement_management_client()
    object_id = sim.entra_object_id("servicePrincipals", "backup-agent")
    added = mem.add_service_principal_entitlement(
        ServicePrincipalEntitlement(
            access_level=AccessLevel(account_license_type="express"),
            service_principal=GraphServicePrincipal(origin="aad", origin_id=object_id, subject_kind="servicePrincipal"),
        )
    )
    assert added.is_success
    got = mem.get_service_principal_entitlement(added.service_principal_entitlement.id)
    assert got.access_level.license_display_name == "Basic"


def test_group_rule_applies_through_its_operation(connection, sim):
    mem = connection.clients_v7_1.get_member_entitlement_management_client()
    qa = sim.entra_object_id("groups", "QA Team")
    reference = mem.add_group_entitlement(
        GroupEntitlement(
            group=GraphGroup(origin="aad", origin_id=qa, subject_kind="group"),
            license_rule=AccessLevel(account_license_type="stakeholder", licensing_source="account"),
            project_entitlements=[
                {"group": {"groupType": "projectReader"}, "projectRef": {"id": STOREFRONT}}
            ],
        )
    )
    assert reference.results[0].is_success
    operations = OperationsClient(base_url=mem.config.base_url, creds=connection._creds)
    for _ in range(100):
        operation = operations.get_operation(reference.id)
        if operation.status in ("succeeded", "failed"):
            break
        time.sleep(0.1)
    assert operation.status == "succeeded"
    rule = mem.get_group_entitlement(reference.results[0].group_id)
    assert rule.status == "applied"
    mem.delete_group_entitlement(reference.results[0].group_id)
