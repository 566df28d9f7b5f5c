"""Fixtures: the running simulator, SDK connections (PAT or Entra bearer token), the v7.1
clients, and a reset to the seed before every test.

TLS is verified against the simulator's CA: REQUESTS_CA_BUNDLE points every SDK request at it.
The SDK caches discovery answers on disk per URL; AZURE_DEVOPS_CACHE_DIR keeps that cache out
of the user's home (it must be set before azure.devops is imported).
"""

import os
import tempfile
from types import SimpleNamespace

from simulator import OPERATOR_PAT, Simulator

SIM = Simulator.from_environment()
os.environ["REQUESTS_CA_BUNDLE"] = SIM.ca_file
os.environ.setdefault("AZURE_DEVOPS_CACHE_DIR", tempfile.mkdtemp(prefix="azdo-sdk-cache-"))

import pytest  # noqa: E402
from azure.devops.connection import Connection  # noqa: E402
from msrest.authentication import BasicAuthentication, BasicTokenAuthentication  # noqa: E402

USER_AGENT = "azdo-operator-sdk-tests"


@pytest.fixture(scope="session")
def sim():
    return SIM


@pytest.fixture(autouse=True)
def seed_state(sim):
    """Every test starts from the seed."""
    sim.reset()


def pat_connection(sim, pat=OPERATOR_PAT):
    """A connection authenticating with a PAT (`Basic base64(":" + pat)`)."""
    return Connection(
        base_url=sim.organization_url,
        creds=BasicAuthentication("", pat),
        user_agent=USER_AGENT,
    )


def bearer_connection(sim, client_id, client_secret):
    """A connection with an Entra access token for an app registration."""
    token = sim.access_token(client_id, client_secret)
    return Connection(
        base_url=sim.organization_url,
        creds=BasicTokenAuthentication({"access_token": token}),
        user_agent=USER_AGENT,
    )


def clients_of(connection):
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


@pytest.fixture(scope="session")
def connection(sim):
    return pat_connection(sim)


@pytest.fixture(scope="session")
def clients(connection):
    """The operator's v7.1 clients, authenticated with its PAT."""
    return clients_of(connection)
