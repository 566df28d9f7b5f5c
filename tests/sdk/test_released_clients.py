"""The SDK's clients generated for the released 7.0 API (`connection.clients`, and
`clients_v7_0`): plain `7.0` for released resources (projects, queues, Graph descriptors and
storage keys), `7.0-preview.N` for preview ones (groups, memberships, pipeline permissions)."""

import pytest
from azure.devops.v7_0.pipeline_permissions.models import (
    PipelinePermission,
    ResourcePipelinePermissions,
)

from graph_helpers import list_all_groups
from sdk_models import GraphGroupVstsCreationContext


@pytest.fixture(params=["clients", "clients_v7_0"])
def factory(request, connection):
    return getattr(connection, request.param)


def test_released_and_preview_resources(factory):
    core = factory.get_core_client()
    graph = factory.get_graph_client()
    storefront = core.get_project("Storefront")
    scope = graph.get_descriptor(storefront.id).value  # plain 7.0
    assert graph.get_storage_key(scope).value == storefront.id  # plain 7.0
    names = {g.principal_name for g in list_all_groups(graph, scope)[0]}  # 7.0-preview.1
    assert "[Storefront]\\Release Approvers" in names
    queues = factory.get_task_agent_client().get_agent_queues("Storefront", queue_name="Default")
    assert [q.id for q in queues] == [31]


def test_v7_0_graph_and_pipeline_permission_writes(connection):
    factory = connection.clients_v7_0
    graph = factory.get_graph_client()
    scope = graph.get_descriptor(factory.get_core_client().get_project("Platform").id).value
    group = graph.create_group(
        GraphGroupVstsCreationContext(display_name="Image Builders"), scope_descriptor=scope
    )
    assert group.principal_name == "[Platform]\\Image Builders"
    permissions = factory.get_pipeline_permissions_client()
    before = permissions.get_pipeline_permissions_for_resource("Platform", "queue", "71")
    assert {p.id for p in before.pipelines} == set()
    after = permissions.update_pipeline_permisions_for_resource(
        ResourcePipelinePermissions(pipelines=[PipelinePermission(id=60, authorized=True)]),
        "Platform",
        "queue",
        "71",
    )
    assert {p.id for p in after.pipelines} == {60}
