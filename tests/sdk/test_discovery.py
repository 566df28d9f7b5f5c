"""Route discovery as the SDK does it: resource areas pick the host of each client, and the
locations published by `OPTIONS _apis` carry what the SDK needs to negotiate versions and
build URLs for every location id its generated methods use."""

import inspect
import re

import pytest
from azure.devops.client import Client
from azure.devops.v7_1.core.core_client import CoreClient
from azure.devops.v7_1.graph.graph_client import GraphClient
from azure.devops.v7_1.location.location_client import LocationClient
from msrest.authentication import BasicAuthentication

from simulator import OPERATOR_PAT, ORGANIZATION

GRAPH_AREA = "bb1e7ec9-e901-4b68-999a-de7012b920f8"
DEV_AREAS = {
    "79134c72-4a58-4b42-976c-04e7115f32bf": "core",
    "965220d5-5bb9-42cf-8d67-9b146df2a5a4": "build",
    "a85b8835-c1a1-4aac-ae97-1c3d0ba72dbd": "distributedtask",
    "1814ab31-2f4f-4a9f-8761-f4d77dc5a5d7": "serviceendpoint",
    "4e080c62-fa21-4fbc-8fef-2a10a2b38049": "git",
    "a81a0441-de52-4000-aa15-ff0e07bfbbaa": "pipelinePermissions",
}

# The generated methods this suite calls, per client (their location ids are read from the
# SDK's own source below, not written down here).
METHODS_USED = {
    "core": ["get_projects", "get_project"],
    "graph": [
        "list_groups", "create_group", "get_group", "update_group", "delete_group",
        "list_users", "create_user", "get_user", "list_service_principals",
        "create_service_principal", "get_service_principal", "add_membership",
        "check_membership_existence", "get_membership", "remove_membership",
        "list_memberships", "get_membership_state", "get_descriptor", "get_storage_key",
        "query_subjects", "lookup_subjects",
    ],
    "build": ["get_definitions", "get_definition"],
    "task_agent": [
        "get_agent_pools", "get_agent_pool", "get_agent_queues", "get_agent_queue",
        "get_environments", "get_environment_by_id", "get_variable_groups", "get_variable_group",
    ],
    "secure_files": ["get_secure_files", "get_secure_file"],
    "service_endpoint": ["get_service_endpoints_by_names", "get_service_endpoint_details"],
    "git": ["get_repositories", "get_repository"],
    "pipeline_permissions": [
        "get_pipeline_permissions_for_resource",
        "update_pipeline_permisions_for_resource",
        "update_pipeline_permisions_for_resources",
    ],
    "location": ["get_resource_areas", "get_resource_area"],
}


def location_ids(client, method_name):
    """The location ids a generated method sends to, read from its source."""
    method = getattr(type(client), method_name)
    source = inspect.getsource(method)
    module = inspect.getmodule(method)
    ids = set(re.findall(r"location_id='([0-9a-f-]{36})'", source))
    ids |= {getattr(module, name) for name in re.findall(r"location_id=([A-Z_]+)", source)}
    assert ids, f"{method_name} names no location"
    return ids


def test_resource_areas_put_graph_on_vssps_and_the_rest_on_dev(clients, sim):
    areas = {area.id: area for area in clients.location.get_resource_areas()}
    assert {GRAPH_AREA, *DEV_AREAS} <= set(areas)
    # Member entitlements: on the simulator's own vsaex host (another port of the same address).
    entitlements = areas["68ddce18-2501-45f1-a17b-7931a9922690"]
    assert entitlements.name == "MemberEntitlementManagement"
    assert entitlements.location_url not in (f"{sim.dev_url}/{ORGANIZATION}/", f"{sim.vssps_url}/{ORGANIZATION}/")
    assert entitlements.location_url.startswith("https://127.0.0.1:")
    # Every other area the official SDKs know is listed too, on the real service's host.
    assert areas["94ff054d-5ee1-413d-9341-3f4a7827de2e"].location_url == f"https://auditservice.dev.azure.com/{ORGANIZATION}/"
    assert areas[GRAPH_AREA].name == "Graph"
    assert areas[GRAPH_AREA].location_url == f"{sim.vssps_url}/{ORGANIZATION}/"
    for area_id, name in DEV_AREAS.items():
        assert areas[area_id].name == name
        assert areas[area_id].location_url == f"{sim.dev_url}/{ORGANIZATION}/"


def test_single_resource_area(clients, sim):
    graph = clients.location.get_resource_area(GRAPH_AREA)
    assert (graph.name, graph.location_url) == ("Graph", f"{sim.vssps_url}/{ORGANIZATION}/")


def test_each_client_talks_to_its_host(clients, sim):
    assert clients.graph.config.base_url == f"{sim.vssps_url}/{ORGANIZATION}"
    for name in ("core", "build", "task_agent", "secure_files", "service_endpoint", "git",
                 "pipeline_permissions"):
        assert getattr(clients, name).config.base_url == f"{sim.dev_url}/{ORGANIZATION}", name


def test_every_location_used_is_published_with_the_sdk_fields(clients):
    checked = 0
    for client_name, methods in METHODS_USED.items():
        client = getattr(clients, client_name)
        published = {
            location.id: location
            for location in client._get_resource_locations(client.normalized_url, False)
        }
        for method in methods:
            for location_id in location_ids(client, method):
                location = published.get(location_id)
                assert location is not None, f"{client_name}.{method}: {location_id}"
                assert location.area and location.resource_name and location.route_template
                assert isinstance(location.resource_version, int)
                assert location.resource_version >= 1
                assert location.min_version <= 7.1 <= location.max_version == 7.2
                assert float(location.released_version) in (0.0, 7.1)
                checked += 1
    assert checked >= 40


def test_locations_are_split_by_host(clients):
    dev = {l.id for l in clients.core._get_resource_locations(clients.core.normalized_url, False)}
    vssps = {
        l.id for l in clients.graph._get_resource_locations(clients.graph.normalized_url, False)
    }
    groups = "ebbe6af8-0b91-4c13-8cf1-777c14858188"
    projects = "603fe2ac-9723-48b9-88ad-09305aa6c6e1"
    resource_areas = "e81700f7-3be2-46de-8624-2eb35882fcaa"
    assert groups in vssps and groups not in dev
    assert projects in dev and projects not in vssps
    assert resource_areas in dev and resource_areas in vssps


def test_deployment_level_discovery_without_an_organization(sim):
    """LocationClient on the bare host: OPTIONS {host}/_apis, then _apis/ResourceAreas."""
    client = LocationClient(sim.dev_url, BasicAuthentication("", OPERATOR_PAT))
    for_org = {a.id: a.location_url for a in client.get_resource_areas(organization_name=ORGANIZATION)}
    assert for_org[GRAPH_AREA] == f"{sim.vssps_url}/{ORGANIZATION}/"
    deployment = {a.id: a.location_url for a in client.get_resource_areas()}
    assert deployment[GRAPH_AREA] == f"{sim.vssps_url}/"
    assert deployment["79134c72-4a58-4b42-976c-04e7115f32bf"] == f"{sim.dev_url}/"


class NewerGraphClient(GraphClient):
    """A client generated for an api-version newer than the server's."""

    def list_groups_at(self, version):
        response = self._send(
            http_method="GET",
            location_id="ebbe6af8-0b91-4c13-8cf1-777c14858188",
            version=version,
        )
        return self._deserialize("[GraphGroup]", self._unwrap_collection(response))


class NewerCoreClient(CoreClient):
    def get_projects_at(self, version):
        response = self._send(
            http_method="GET",
            location_id="603fe2ac-9723-48b9-88ad-09305aa6c6e1",
            version=version,
        )
        return self._deserialize("[TeamProjectReference]", self._unwrap_collection(response))


@pytest.mark.parametrize("requested", ["8.0-preview.1", "7.3-preview.2"])
def test_newer_clients_negotiate_down_to_the_server_maximum(clients, connection, requested):
    graph = NewerGraphClient(clients.graph.config.base_url, connection._creds)
    location = graph._get_resource_location(
        graph.normalized_url, "ebbe6af8-0b91-4c13-8cf1-777c14858188"
    )
    assert Client._negotiate_request_version(location, requested) == "7.2-preview"
    first_page = graph.list_groups_at(requested)
    assert "[contoso]\\Project Collection Administrators" in {
        g.principal_name for g in first_page
    }

    core = NewerCoreClient(clients.core.config.base_url, connection._creds)
    projects = core.get_projects_at(requested.split("-")[0])
    assert [p.name for p in projects] == ["Storefront", "Payments", "Platform"]


def test_preview_flag_is_kept_within_range(clients):
    location = clients.graph._get_resource_location(
        clients.graph.normalized_url, "3fd2e6ca-fb30-443a-b579-95b19ed0934c"
    )
    assert Client._negotiate_request_version(location, "7.1-preview.1") == "7.1-preview.1"
    projects = clients.core._get_resource_location(
        clients.core.normalized_url, "603fe2ac-9723-48b9-88ad-09305aa6c6e1"
    )
    assert Client._negotiate_request_version(projects, "7.1-preview.4") == "7.1-preview.4"
    assert Client._negotiate_request_version(projects, "7.1-preview.9") == "7.1-preview.4"
