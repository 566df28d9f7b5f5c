"""Security roles through the SDK's own request path: role definitions per scope, set /
replace / remove assignments on an environment and a variable group (`{projectId}_{id}`,
`{projectId}${id}`), inheritance from the project-level collection, and the error answers."""

import pytest
from azure.devops.exceptions import AzureDevOpsServiceError

from security_roles_client import UserRoleAssignmentRef

ENVIRONMENTS = "distributedtask.environmentreferencerole"
VARIABLE_GROUPS = "distributedtask.variablegroup"


@pytest.fixture
def roles(connection):
    return connection.get_client("security_roles_client.SecurityRolesClient")


def identity_id(clients, upn):
    from sdk_models import GraphUserPrincipalNameCreationContext

    user = clients.graph.create_user(GraphUserPrincipalNameCreationContext(principal_name=upn))
    return clients.graph.get_storage_key(user.descriptor).value


def assigned(assignments):
    return {a.identity.id.lower(): a.role.name for a in assignments if a.access == "assigned"}


def test_role_definitions_per_scope(roles):
    names = [r.name for r in roles.get_role_definitions(ENVIRONMENTS)]
    assert names == ["Reader", "User", "Administrator"]
    pool = [r.name for r in roles.get_role_definitions("distributedtask.globalagentpoolrole")]
    assert "Service Account" in pool
    with pytest.raises(AzureDevOpsServiceError):
        roles.get_role_definitions("distributedtask.nosuchscope")


def test_set_replace_remove_and_inherit(roles, clients):
    project = clients.core.get_project("Storefront").id
    adele = identity_id(clients, "adele.vance@contoso.com")
    alex = identity_id(clients, "alex.wilber@contoso.com")
    production = f"{project}_2"
    set_ = roles.set_role_assignments(
        [UserRoleAssignmentRef(role_name="User", user_id=adele)], ENVIRONMENTS, production
    )
    assert [(a.identity.id.lower(), a.role.name) for a in set_] == [(adele, "User")]
    roles.set_role_assignment(
        UserRoleAssignmentRef(role_name="Administrator"), ENVIRONMENTS, production, adele
    )
    assert assigned(roles.get_role_assignments(ENVIRONMENTS, production)) == {adele: "Administrator"}

    # The project-level collection's roles show as inherited until inheritance is switched off.
    roles.set_role_assignments(
        [UserRoleAssignmentRef(role_name="Reader", user_id=alex)], ENVIRONMENTS, f"{project}_0"
    )
    inherited = [a for a in roles.get_role_assignments(ENVIRONMENTS, production) if a.access == "inherited"]
    assert [a.identity.id.lower() for a in inherited] == [alex]
    roles.change_inheritance(ENVIRONMENTS, production, False)
    assert all(a.access == "assigned" for a in roles.get_role_assignments(ENVIRONMENTS, production))

    roles.remove_role_assignments([adele], ENVIRONMENTS, production)
    assert roles.get_role_assignments(ENVIRONMENTS, production) == []

    group = f"{project}$5"
    roles.set_role_assignments(
        [UserRoleAssignmentRef(role_name="Reader", user_id=adele)], VARIABLE_GROUPS, group
    )
    assert assigned(roles.get_role_assignments(VARIABLE_GROUPS, group)) == {adele: "Reader"}
    roles.remove_role_assignment(VARIABLE_GROUPS, group, adele)
    assert assigned(roles.get_role_assignments(VARIABLE_GROUPS, group)) == {}


def test_error_answers(roles, clients):
    project = clients.core.get_project("Storefront").id
    adele = identity_id(clients, "adele.vance@contoso.com")
    with pytest.raises(AzureDevOpsServiceError, match="could not be found"):
        roles.get_role_assignments(ENVIRONMENTS, f"{project}_999")
    with pytest.raises(AzureDevOpsServiceError, match="not defined"):
        roles.set_role_assignments(
            [UserRoleAssignmentRef(role_name="Creator", user_id=adele)], ENVIRONMENTS, f"{project}_2"
        )
    with pytest.raises(AzureDevOpsServiceError, match="identity"):
        roles.set_role_assignments(
            [UserRoleAssignmentRef(role_name="User", user_id="00000000-0000-0000-0000-0000000000aa")],
            ENVIRONMENTS,
            f"{project}_2",
        )
