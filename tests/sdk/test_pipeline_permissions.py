"""Pipeline permissions: read and update one resource, and the batch update, as the merged
state with who authorized each pipeline and when."""

import datetime

from azure.devops.v7_1.pipeline_permissions.models import (
    Permission,
    PipelinePermission,
    Resource,
    ResourcePipelinePermissions,
)

STOREFRONT = "Storefront"
OPERATOR = "azdo-operator"


def authorized(permissions):
    return {p.id for p in permissions.pipelines}


def update(clients, resource_type, resource_id, changes, all_pipelines=None):
    body = ResourcePipelinePermissions(
        pipelines=[PipelinePermission(id=i, authorized=a) for i, a in changes],
        all_pipelines=all_pipelines,
    )
    return clients.pipeline_permissions.update_pipeline_permisions_for_resource(
        body, STOREFRONT, resource_type, str(resource_id)
    )


def read(clients, resource_type, resource_id):
    return clients.pipeline_permissions.get_pipeline_permissions_for_resource(
        STOREFRONT, resource_type, str(resource_id)
    )


def test_read_seeded_permissions(clients):
    queue = read(clients, "queue", 31)
    assert (queue.resource.type, queue.resource.id) == ("queue", "31")
    assert authorized(queue) == {16, 17}
    assert read(clients, "environment", 1).pipelines[0].id == 19
    [github] = clients.service_endpoint.get_service_endpoints_by_names(STOREFRONT, ["github-contoso"])
    endpoint = read(clients, "endpoint", github.id)
    assert endpoint.all_pipelines.authorized is True


def test_authorize_and_revoke_on_one_resource(clients):
    before = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(seconds=5)
    granted = update(clients, "queue", 31, [(18, True)])
    assert authorized(granted) == {16, 17, 18}
    entry = next(p for p in granted.pipelines if p.id == 18)
    assert entry.authorized is True
    assert entry.authorized_by.display_name == OPERATOR
    assert entry.authorized_on >= before
    assert authorized(read(clients, "queue", 31)) == {16, 17, 18}

    revoked = update(clients, "queue", 31, [(16, False)])
    assert authorized(revoked) == {17, 18}
    assert authorized(read(clients, "queue", 31)) == {17, 18}


def test_open_and_close_a_resource_to_all_pipelines(clients):
    opened = update(clients, "environment", 2, [], all_pipelines=Permission(authorized=True))
    assert opened.all_pipelines.authorized is True
    assert opened.all_pipelines.authorized_by.display_name == OPERATOR
    closed = update(clients, "environment", 2, [], all_pipelines=Permission(authorized=False))
    assert closed.all_pipelines.authorized is False
    assert read(clients, "environment", 2).all_pipelines.authorized is False


def test_batch_update_across_resource_types(clients):
    project_id = clients.core.get_project(STOREFRONT).id
    [endpoint] = clients.service_endpoint.get_service_endpoints_by_names(STOREFRONT, ["azure-prod"])
    [secure_file] = clients.secure_files.get_secure_files(STOREFRONT, name_pattern="signing.pfx")
    repository = clients.git.get_repository("storefront", project=STOREFRONT)
    targets = [
        ("queue", "33"),
        ("environment", "2"),
        ("endpoint", endpoint.id),
        ("variablegroup", "5"),
        ("securefile", secure_file.id),
        ("repository", f"{project_id}.{repository.id}"),
    ]
    results = clients.pipeline_permissions.update_pipeline_permisions_for_resources(
        [
            ResourcePipelinePermissions(
                resource=Resource(type=resource_type, id=resource_id),
                pipelines=[PipelinePermission(id=18, authorized=True)],
            )
            for resource_type, resource_id in targets
        ],
        STOREFRONT,
    )
    assert [(r.resource.type, r.resource.id) for r in results] == targets
    for result in results:
        assert 18 in authorized(result)
        assert next(p for p in result.pipelines if p.id == 18).authorized_by.display_name == OPERATOR
    for resource_type, resource_id in targets:
        assert 18 in authorized(read(clients, resource_type, resource_id)), resource_type
    # Unrelated resources are untouched.
    assert authorized(read(clients, "queue", 32)) == set()
