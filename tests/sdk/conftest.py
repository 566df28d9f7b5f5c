"""Fixtures: the running simulator, the operator's SDK connection and v7.1 clients, and a reset
to the seed before every test.

TLS is verified against the simulator's CA: REQUESTS_CA_BUNDLE points every SDK request at it.
The SDK caches discovery answers on disk per URL for 12 hours; AZURE_DEVOPS_CACHE_DIR keeps that
cache out of the user's home. Both must be set before azure.devops is imported.
"""

import os
import tempfile

from simulator import Simulator

SIM = Simulator.from_environment()
os.environ["REQUESTS_CA_BUNDLE"] = SIM.ca_file
os.environ.setdefault("AZURE_DEVOPS_CACHE_DIR", tempfile.mkdtemp(prefix="azdo-sdk-cache-"))

import pytest  # noqa: E402

from connections import clients_of, pat_connection  # noqa: E402


@pytest.fixture(scope="session")
def sim():
    return SIM


@pytest.fixture(autouse=True)
def seed_state(sim):
    """Every test starts from the seed."""
    sim.reset()


@pytest.fixture(scope="session")
def connection(sim):
    """The operator's connection, authenticated with its PAT."""
    return pat_connection(sim)


@pytest.fixture(scope="session")
def clients(connection):
    """The operator's v7.1 clients."""
    return clients_of(connection)
