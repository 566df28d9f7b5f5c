"""What the Azure DevOps Python SDK (azure-devops 7.1.0b4) leaves out, written the way its
generated code would be.

* Graph creation contexts: the SDK ships only the base classes (GraphGroupCreationContext,
  GraphUserCreationContext, GraphServicePrincipalCreationContext, each with nothing but
  `storageKey`), so a dict such as {"displayName": ...} serializes to `{}`. These subclasses
  carry the fields of the derived contexts the REST API documents (the names are the .NET
  client's), so `create_group`/`create_user`/`create_service_principal` send them.
* Secure files: the task agent client has the SecureFile model but no method for the secure
  files resource (location adcfd8bc-b184-43ba-bd84-7c8c6a2ff421); SecureFilesClient adds the
  two lookups the same way the generated methods call `_send`, so discovery, version
  negotiation and URL building are the SDK's own.
"""

from azure.devops.v7_1.graph.models import (
    GraphGroupCreationContext,
    GraphServicePrincipalCreationContext,
    GraphUserCreationContext,
)
from azure.devops.v7_1.task_agent.task_agent_client import TaskAgentClient

_STORAGE_KEY = {"storage_key": {"key": "storageKey", "type": "str"}}


class GraphGroupVstsCreationContext(GraphGroupCreationContext):
    """A new Azure DevOps group."""

    _attribute_map = {
        **_STORAGE_KEY,
        "display_name": {"key": "displayName", "type": "str"},
        "description": {"key": "description", "type": "str"},
    }

    def __init__(self, display_name=None, description=None, storage_key=None):
        super().__init__(storage_key=storage_key)
        self.display_name = display_name
        self.description = description


class GraphGroupOriginIdCreationContext(GraphGroupCreationContext):
    """An Entra group, by object id."""

    _attribute_map = {**_STORAGE_KEY, "origin_id": {"key": "originId", "type": "str"}}

    def __init__(self, origin_id=None, storage_key=None):
        super().__init__(storage_key=storage_key)
        self.origin_id = origin_id


class GraphGroupMailAddressCreationContext(GraphGroupCreationContext):
    """An Entra group, by mail address."""

    _attribute_map = {**_STORAGE_KEY, "mail_address": {"key": "mailAddress", "type": "str"}}

    def __init__(self, mail_address=None, storage_key=None):
        super().__init__(storage_key=storage_key)
        self.mail_address = mail_address


class GraphUserPrincipalNameCreationContext(GraphUserCreationContext):
    """An Entra user, by user principal name."""

    _attribute_map = {**_STORAGE_KEY, "principal_name": {"key": "principalName", "type": "str"}}

    def __init__(self, principal_name=None, storage_key=None):
        super().__init__(storage_key=storage_key)
        self.principal_name = principal_name


class GraphUserOriginIdCreationContext(GraphUserCreationContext):
    """An Entra user, by object id."""

    _attribute_map = {**_STORAGE_KEY, "origin_id": {"key": "originId", "type": "str"}}

    def __init__(self, origin_id=None, storage_key=None):
        super().__init__(storage_key=storage_key)
        self.origin_id = origin_id


class GraphUserMailAddressCreationContext(GraphUserCreationContext):
    """An Entra user, by mail address."""

    _attribute_map = {**_STORAGE_KEY, "mail_address": {"key": "mailAddress", "type": "str"}}

    def __init__(self, mail_address=None, storage_key=None):
        super().__init__(storage_key=storage_key)
        self.mail_address = mail_address


class GraphServicePrincipalOriginIdCreationContext(GraphServicePrincipalCreationContext):
    """An Entra service principal, by object id."""

    _attribute_map = {**_STORAGE_KEY, "origin_id": {"key": "originId", "type": "str"}}

    def __init__(self, origin_id=None, storage_key=None):
        super().__init__(storage_key=storage_key)
        self.origin_id = origin_id


SECURE_FILES_LOCATION = "adcfd8bc-b184-43ba-bd84-7c8c6a2ff421"


class SecureFilesClient(TaskAgentClient):
    """The task agent client plus secure file lookups."""

    def get_secure_files(self, project, name_pattern=None):
        """GetSecureFiles: the project's secure files, optionally by name (`*` wildcards)."""
        route_values = {"project": self._serialize.url("project", project, "str")}
        query_parameters = {}
        if name_pattern is not None:
            query_parameters["namePattern"] = self._serialize.query(
                "name_pattern", name_pattern, "str"
            )
        response = self._send(
            http_method="GET",
            location_id=SECURE_FILES_LOCATION,
            version="7.1-preview.1",
            route_values=route_values,
            query_parameters=query_parameters,
        )
        return self._deserialize("[SecureFile]", self._unwrap_collection(response))

    def get_secure_file(self, project, secure_file_id):
        """GetSecureFile: one secure file by id."""
        route_values = {
            "project": self._serialize.url("project", project, "str"),
            "secureFileId": self._serialize.url("secure_file_id", secure_file_id, "str"),
        }
        response = self._send(
            http_method="GET",
            location_id=SECURE_FILES_LOCATION,
            version="7.1-preview.1",
            route_values=route_values,
        )
        return self._deserialize("SecureFile", response)
