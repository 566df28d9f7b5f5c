"""Small helpers over the Graph client used by several test modules."""

from azure.devops.exceptions import AzureDevOpsClientRequestError

from sdk_models import GraphGroupVstsCreationContext


def project_scope(clients, project_name):
    """The scope descriptor (`scp.…`) of a project, from its id."""
    project = clients.core.get_project(project_name)
    return clients.graph.get_descriptor(project.id).value


def list_all_groups(graph, scope_descriptor=None):
    """Every group of a scope, following continuation tokens (pages may be empty)."""
    groups, pages = [], []
    token = None
    while True:
        page = graph.list_groups(scope_descriptor=scope_descriptor, continuation_token=token)
        pages.append(len(page.graph_groups))
        groups.extend(page.graph_groups)
        token = page.continuation_token
        if not token:
            return groups, pages


def list_all_users(graph):
    users, token = [], None
    while True:
        page = graph.list_users(continuation_token=token)
        users.extend(page.graph_users)
        token = page.continuation_token
        if not token:
            return users


def group_named(graph, principal_name, scope_descriptor=None):
    groups, _ = list_all_groups(graph, scope_descriptor)
    matches = [g for g in groups if g.principal_name == principal_name]
    assert len(matches) == 1, f"{principal_name}: {[g.principal_name for g in groups]}"
    return matches[0]


def create_project_group(clients, project_name, display_name, description=None):
    scope = project_scope(clients, project_name)
    return clients.graph.create_group(
        GraphGroupVstsCreationContext(display_name=display_name, description=description),
        scope_descriptor=scope,
    )


def is_member(graph, subject_descriptor, container_descriptor):
    """HEAD on the membership: 200 → True; a bare 404 → False (the SDK raises on it)."""
    try:
        graph.check_membership_existence(subject_descriptor, container_descriptor)
        return True
    except AzureDevOpsClientRequestError as error:
        if "404" in str(error):
            return False
        raise
