"""Authentication as the SDK does it: PAT basic auth (msrest BasicAuthentication('', pat)) or
an Entra bearer token (BasicTokenAuthentication), with `X-TFS-FedAuthRedirect: Suppress` so
bad credentials come back as 401 rather than a sign-in page; per-identity access; and TLS
verified against the simulator's CA."""

import certifi
import pytest
from azure.devops.exceptions import AzureDevOpsAuthenticationError, AzureDevOpsServiceError
from azure.devops.v7_1.core.core_client import CoreClient
from msrest.authentication import BasicAuthentication
from msrest.exceptions import ClientRequestError

from connections import bearer_connection, clients_of, pat_connection
from graph_helpers import list_all_groups, project_scope
from sdk_models import GraphGroupVstsCreationContext
from simulator import (
    AUDITOR,
    OPERATOR_CLIENT_ID,
    OPERATOR_PAT,
    OPERATOR_SECRET,
    OUTSIDER,
    STOREFRONT_AUTOMATION,
)

PROJECTS = ["Storefront", "Payments", "Platform"]


def test_entra_bearer_token_works_like_the_pat(sim, clients):
    operator = clients_of(bearer_connection(sim, OPERATOR_CLIENT_ID, OPERATOR_SECRET))
    assert [p.name for p in operator.core.get_projects()] == PROJECTS
    scope = project_scope(operator, "Storefront")
    assert scope == project_scope(clients, "Storefront")
    with_token = {g.descriptor for g in list_all_groups(operator.graph, scope)[0]}
    with_pat = {g.descriptor for g in list_all_groups(clients.graph, scope)[0]}
    assert len(with_token) == 8 and with_token == with_pat


def test_wrong_pat_is_an_authentication_error(sim):
    intruder = pat_connection(sim, pat="not" + OPERATOR_PAT[3:])
    with pytest.raises(AzureDevOpsAuthenticationError) as raised:
        intruder.clients_v7_1.get_core_client().get_projects()
    assert "requires user authentication" in str(raised.value)


def test_identity_outside_the_organization_gets_401(sim):
    """A valid Entra identity the organization does not know: 401 with TF400813, already at
    discovery (the SDK asks for resource areas when it builds a client)."""
    outsider = bearer_connection(sim, *OUTSIDER)
    with pytest.raises(AzureDevOpsServiceError) as raised:
        outsider.clients_v7_1.get_core_client().get_projects()
    assert raised.value.type_key == "UnauthorizedRequestException"
    assert raised.value.message.startswith("TF400813")
    assert OUTSIDER[0] in raised.value.message


def test_project_scoped_identity_is_denied_other_projects(sim):
    storefront_only = clients_of(bearer_connection(sim, *STOREFRONT_AUTOMATION))
    queues = storefront_only.task_agent.get_agent_queues("Storefront", queue_name="Default")
    assert [q.id for q in queues] == [31]
    with pytest.raises(AzureDevOpsServiceError) as raised:
        storefront_only.task_agent.get_agent_queues("Payments", queue_name="Default")
    assert raised.value.type_key == "InvalidAccessException"


def test_read_only_identity_reads_but_cannot_write(sim):
    auditor = clients_of(bearer_connection(sim, *AUDITOR))
    scope = project_scope(auditor, "Payments")
    assert auditor.graph.list_groups(scope_descriptor=scope) is not None
    with pytest.raises(AzureDevOpsServiceError) as raised:
        auditor.graph.create_group(
            GraphGroupVstsCreationContext(display_name="Not Allowed"), scope_descriptor=scope
        )
    assert raised.value.type_key == "InvalidAccessException"


def test_tls_is_verified_against_the_simulator_ca(sim):
    """With the public CA bundle instead of the simulator's CA, every request fails."""
    client = CoreClient(sim.organization_url, BasicAuthentication("", OPERATOR_PAT))
    client.config.connection.verify = certifi.where()
    with pytest.raises(ClientRequestError) as raised:
        client.get_projects()
    assert "CERTIFICATE_VERIFY_FAILED" in str(raised.value)


def test_discovery_needs_valid_credentials_too(sim):
    """A fresh process knows nothing: OPTIONS _apis with a bad PAT is a 401 (as users of the
    SDK see it against the service: "requires user authentication: .../_apis")."""
    client = CoreClient(sim.dev_url + "/" + "contoso", BasicAuthentication("", "bad"))
    # Another URL spelling, so neither the SDK's in-process nor its disk cache has locations.
    client.normalized_url = client.normalized_url + "/"
    with pytest.raises(AzureDevOpsAuthenticationError) as raised:
        client.get_projects()
    assert str(raised.value).endswith("/_apis")
