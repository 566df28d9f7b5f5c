"""A security roles client (`_apis/securityroles`, 7.1-preview.1), written the way the SDK's
generated clients are: the azure-devops Python package has no client for this area, so this
one calls the SDK's own `Client._send` with the published location ids (roleassignments
9461c234-c84c-4ed2-b918-2f0f92ad0a35, roledefinitions f4cc9a86-453c-48d2-b44d-d3bd5c105f4f):
discovery (`OPTIONS _apis`), version negotiation, URL building and error mapping are the SDK's.
The area has no resource area id: the client talks to the organization URL, as the .NET and
TypeScript clients do."""

from msrest import Deserializer, Serializer
from msrest.serialization import Model

from azure.devops.client import Client

ASSIGNMENTS = "9461c234-c84c-4ed2-b918-2f0f92ad0a35"
DEFINITIONS = "f4cc9a86-453c-48d2-b44d-d3bd5c105f4f"
VERSION = "7.1-preview.1"


class SecurityRole(Model):
    _attribute_map = {
        "allow_permissions": {"key": "allowPermissions", "type": "int"},
        "deny_permissions": {"key": "denyPermissions", "type": "int"},
        "description": {"key": "description", "type": "str"},
        "display_name": {"key": "displayName", "type": "str"},
        "identifier": {"key": "identifier", "type": "str"},
        "name": {"key": "name", "type": "str"},
        "scope": {"key": "scope", "type": "str"},
    }

    def __init__(self, **kwargs):
        super().__init__()
        for key in self._attribute_map:
            setattr(self, key, kwargs.get(key))


class RoleIdentityRef(Model):
    _attribute_map = {
        "display_name": {"key": "displayName", "type": "str"},
        "id": {"key": "id", "type": "str"},
        "unique_name": {"key": "uniqueName", "type": "str"},
    }

    def __init__(self, **kwargs):
        super().__init__()
        for key in self._attribute_map:
            setattr(self, key, kwargs.get(key))


class RoleAssignment(Model):
    _attribute_map = {
        "access": {"key": "access", "type": "str"},
        "access_display_name": {"key": "accessDisplayName", "type": "str"},
        "identity": {"key": "identity", "type": "RoleIdentityRef"},
        "role": {"key": "role", "type": "SecurityRole"},
    }

    def __init__(self, **kwargs):
        super().__init__()
        for key in self._attribute_map:
            setattr(self, key, kwargs.get(key))


class UserRoleAssignmentRef(Model):
    _attribute_map = {
        "role_name": {"key": "roleName", "type": "str"},
        "unique_name": {"key": "uniqueName", "type": "str"},
        "user_id": {"key": "userId", "type": "str"},
    }

    def __init__(self, role_name=None, user_id=None, unique_name=None):
        super().__init__()
        self.role_name = role_name
        self.user_id = user_id
        self.unique_name = unique_name


_MODELS = {
    "SecurityRole": SecurityRole,
    "RoleIdentityRef": RoleIdentityRef,
    "RoleAssignment": RoleAssignment,
    "UserRoleAssignmentRef": UserRoleAssignmentRef,
}


class SecurityRolesClient(Client):
    """SecurityRoles (organization URL)."""

    resource_area_identifier = None

    def __init__(self, base_url=None, creds=None):
        super().__init__(base_url, creds)
        self._serialize = Serializer(_MODELS)
        self._deserialize = Deserializer(_MODELS)

    def _route(self, scope_id, resource_id=None, identity_id=None):
        values = {"scopeId": self._serialize.url("scope_id", scope_id, "str")}
        if resource_id is not None:
            values["resourceId"] = self._serialize.url("resource_id", resource_id, "str")
        if identity_id is not None:
            values["identityId"] = self._serialize.url("identity_id", identity_id, "str")
        return values

    def get_role_definitions(self, scope_id):
        response = self._send(
            http_method="GET", location_id=DEFINITIONS, version=VERSION,
            route_values=self._route(scope_id),
        )
        return self._deserialize("[SecurityRole]", self._unwrap_collection(response))

    def get_role_assignments(self, scope_id, resource_id):
        response = self._send(
            http_method="GET", location_id=ASSIGNMENTS, version=VERSION,
            route_values=self._route(scope_id, resource_id),
        )
        return self._deserialize("[RoleAssignment]", self._unwrap_collection(response))

    def set_role_assignments(self, role_assignments, scope_id, resource_id):
        content = self._serialize.body(role_assignments, "[UserRoleAssignmentRef]")
        response = self._send(
            http_method="PUT", location_id=ASSIGNMENTS, version=VERSION,
            route_values=self._route(scope_id, resource_id), content=content,
        )
        return self._deserialize("[RoleAssignment]", self._unwrap_collection(response))

    def set_role_assignment(self, role_assignment, scope_id, resource_id, identity_id):
        content = self._serialize.body(role_assignment, "UserRoleAssignmentRef")
        response = self._send(
            http_method="PUT", location_id=ASSIGNMENTS, version=VERSION,
            route_values=self._route(scope_id, resource_id, identity_id), content=content,
        )
        return self._deserialize("RoleAssignment", response)

    def remove_role_assignments(self, identity_ids, scope_id, resource_id):
        content = self._serialize.body(identity_ids, "[str]")
        self._send(
            http_method="PATCH", location_id=ASSIGNMENTS, version=VERSION,
            route_values=self._route(scope_id, resource_id), content=content,
        )

    def remove_role_assignment(self, scope_id, resource_id, identity_id):
        self._send(
            http_method="DELETE", location_id=ASSIGNMENTS, version=VERSION,
            route_values=self._route(scope_id, resource_id, identity_id),
        )

    def change_inheritance(self, scope_id, resource_id, inherit_permissions):
        self._send(
            http_method="PATCH", location_id=ASSIGNMENTS, version=VERSION,
            route_values=self._route(scope_id, resource_id),
            query_parameters={
                "inheritPermissions": self._serialize.query(
                    "inherit_permissions", inherit_permissions, "bool"
                )
            },
        )
