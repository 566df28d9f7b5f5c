"""Check configurations (approvals and checks, 7.1-preview.1) through the official SDK's
generated PipelinesChecksClient (resource area PipelinesChecks, location 86c8381e-...): list per
resource with and without settings, get, add, update, delete, and the query by resources.

The generated `CheckConfiguration` model has no `settings` attribute (the SDK drops it when
serializing and deserializing), so checks with settings (approval, business hours) are sent
through the same client's `_send` with the same location id and version: discovery, version
negotiation, URL building and error mapping are still the SDK's."""

import pytest
from azure.devops.exceptions import AzureDevOpsServiceError
from azure.devops.v7_1.pipelines_checks.models import CheckConfiguration, CheckType, Resource

CONFIGURATIONS = "86c8381e-5aee-4cde-8ae4-25c0c7f5eaea"
VERSION = "7.1-preview.1"
APPROVAL = "8c6f20a7-a545-4486-9777-f762fafe0d4d"
TASK_CHECK = "fe1de3ee-a436-41b4-bb20-f6eb4cb879a7"
EXCLUSIVE_LOCK = "2ef31ad6-baa0-403a-8b45-2cbc9b4e5563"
BUSINESS_HOURS = "445fde2f-6c39-441c-807f-8a59ff2e075f"
PRODUCTION = Resource(type="environment", id="2")


@pytest.fixture
def checks(connection):
    return connection.clients_v7_1.get_pipelines_checks_client()


def add_with_settings(checks, body, project="Storefront"):
    """POST a configuration with settings through the SDK's request path; the JSON answer."""
    response = checks._send(
        http_method="POST",
        location_id=CONFIGURATIONS,
        version=VERSION,
        route_values={"project": project},
        content=body,
    )
    return response.json()


def identity_id(clients, upn):
    from sdk_models import GraphUserPrincipalNameCreationContext

    user = clients.graph.create_user(GraphUserPrincipalNameCreationContext(principal_name=upn))
    return clients.graph.get_storage_key(user.descriptor).value


def test_exclusive_lock_lifecycle_through_the_generated_client(checks):
    lock = CheckConfiguration(type=CheckType(id=EXCLUSIVE_LOCK, name="ExclusiveLock"), resource=PRODUCTION, timeout=60)
    created = checks.add_check_configuration(lock, "Storefront")
    assert created.id > 0
    assert created.type.name == "ExclusiveLock"
    assert (created.resource.type, created.resource.id, created.resource.name) == (
        "environment", "2", "storefront-production",
    )
    listed = checks.get_check_configurations_on_resource("Storefront", "environment", "2", expand="settings")
    assert [c.id for c in listed] == [created.id]
    one = checks.get_check_configuration("Storefront", created.id)
    assert one.timeout == 60

    lock.timeout = 120
    updated = checks.update_check_configuration(lock, "Storefront", created.id)
    assert (updated.id, updated.timeout) == (created.id, 120)

    queried = checks.query_check_configurations_on_resources([PRODUCTION, Resource(type="queue", id="31")], "Storefront")
    assert [c.id for c in queried] == [created.id]

    checks.delete_check_configuration("Storefront", created.id)
    assert checks.get_check_configurations_on_resource("Storefront", "environment", "2") == []
    with pytest.raises(AzureDevOpsServiceError):
        checks.get_check_configuration("Storefront", created.id)


def test_checks_with_settings_and_their_validation(checks, clients):
    adele = identity_id(clients, "adele.vance@contoso.com")
    approval = add_with_settings(checks, {
        "type": {"id": APPROVAL, "name": "Approval"},
        "resource": {"type": "environment", "id": "2"},
        "timeout": 1440,
        "settings": {
            "approvers": [{"id": adele}],
            "executionOrder": "anyOrder",
            "minRequiredApprovers": 1,
            "instructions": "Check the change record",
            "blockedApprovers": [],
            "requesterCannotBeApprover": True,
        },
    })
    assert approval["settings"]["approvers"][0]["id"] == adele
    hours = add_with_settings(checks, {
        "type": {"id": TASK_CHECK, "name": "Task Check"},
        "resource": {"type": "environment", "id": "2"},
        "settings": {
            "displayName": "Business Hours",
            "definitionRef": {"id": BUSINESS_HOURS, "name": "evaluateBusinessHours", "version": "0.0.1"},
            "inputs": {"businessDays": "Monday,Friday", "timeZone": "UTC", "startTime": "04:00", "endTime": "11:00"},
            "retryInterval": 5,
        },
    })
    assert hours["settings"]["inputs"]["endTime"] == "11:00"
    # The generated client lists both (settings are not in its model: ids and types are).
    listed = checks.get_check_configurations_on_resource("Storefront", "environment", "2", expand="settings")
    assert sorted((c.id, c.type.name) for c in listed) == sorted(
        [(approval["id"], "Approval"), (hours["id"], "Task Check")]
    )
    # Bad settings: the service's 400, mapped by the SDK.
    with pytest.raises(AzureDevOpsServiceError) as refused:
        add_with_settings(checks, {
            "type": {"id": APPROVAL},
            "resource": {"type": "environment", "id": "2"},
            "settings": {"approvers": [{"id": adele}], "minRequiredApprovers": 3},
        })
    assert "minRequiredApprovers" in str(refused.value)
    assert len(checks.get_check_configurations_on_resource("Storefront", "environment", "2")) == 2
