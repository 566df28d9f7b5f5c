"""SDK connections to the simulator: PAT or Entra bearer token, and the clients the suite uses."""

from types import SimpleNamespace

from azure.devops.connection import Connection
from msrest.authentication import BasicAuthentication, BasicTokenAuthentication

from simulator import OPERATOR_PAT

USER_AGENT = "azdo-operator-sdk-tests"


def pat_connection(sim, pat=OPERATOR_PAT):
    """A connection authenticating with a PAT (`Basic base64(":" + pat)`)."""
    return Connection(
        base_url=sim.organization_url,
        creds=BasicAuthentication("", pat),
        user_agent=USER_AGENT,
    )


def bearer_connection(sim, client_id, client_secret):
    """A connection with an Entra access token for an app registration (client credentials)."""
    token = sim.access_token(client_id, client_secret)
    return Connection(
        base_url=sim.organization_url,
        creds=BasicTokenAuthentication({"access_token": token}),
        user_agent=USER_AGENT,
    )


def clients_of(connection):
    """The v7.1 clients the suite uses; each resolves its host through resource areas."""
    factory = connection.clients_v7_1
    return SimpleNamespace(
        core=factory.get_core_client(),
        graph=factory.get_graph_client(),
        build=factory.get_build_client(),
        task_agent=factory.get_task_agent_client(),
        secure_files=connection.get_client("sdk_models.SecureFilesClient"),
        service_endpoint=factory.get_service_endpoint_client(),
        git=factory.get_git_client(),
        pipeline_permissions=factory.get_pipeline_permissions_client(),
        location=factory.get_location_client(),
    )
