//! `ClusterDevOpsOrganization` and `DevOpsOrganization`: where an Azure DevOps organization lives,
//! how to authenticate to it, and who may use it.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use kube::{CustomResource, KubeSchema};
use serde::{Deserialize, Serialize};

use super::common::CommonStatus;
use super::grants::Grant;

/// Groups that objects may not target unless an organization lists its own `protectedGroups`:
/// every built-in group of Azure DevOps that holds privileges, runs services or is maintained
/// by the service itself, at organization (collection) and project scope, plus the server-level
/// groups of Azure DevOps Server. A group nested (at any depth) in one of these is protected
/// too (`controller::protection`).
///
/// Source: Microsoft Learn, "Security groups, service accounts, and permissions reference"
/// (learn.microsoft.com/azure/devops/organizations/security/permissions, sections
/// "Collection-level groups", "Project-level groups" and "Server-level groups"; markdown in
/// github.com/MicrosoftDocs/azure-devops-docs, docs/organizations/security/permissions.md),
/// and the project-level endpoint groups of the service-endpoint security documentation. The
/// team groups, Contributors and Readers are left out on purpose: granting access through them
/// is what tenants are for (grants decide who may touch them). See docs/security.md.
pub const DEFAULT_PROTECTED_GROUPS: [&str; 23] = [
    // Organization (project collection) level.
    "Project Collection Administrators",
    "Project Collection Build Administrators",
    "Project Collection Build Service Accounts",
    "Project Collection Proxy Service Accounts",
    "Project Collection Service Accounts",
    "Project Collection Test Service Accounts",
    "Project Collection Valid Users",
    "Project-Scoped Users",
    "Security Service Group",
    // Project level.
    "Project Administrators",
    "Build Administrators",
    "Release Administrators",
    "Endpoint Administrators",
    "Endpoint Creators",
    "Project Valid Users",
    // Server level (Azure DevOps Server / TFS).
    "Team Foundation Administrators",
    "Team Foundation Service Accounts",
    "Team Foundation Proxy Service Accounts",
    "Team Foundation Valid Users",
    "Azure DevOps Service Accounts",
    "Azure DevOps Valid Users",
    "Project Server Integration Service Accounts",
    "SharePoint Web Application Services",
];

/// Groups whose membership Azure DevOps maintains itself ("contains all users and groups that
/// have been added anywhere", "identities granted explicit permission are added
/// automatically", a visibility restriction): protected themselves when listed, but being
/// their member grants no privilege, so their members are not protected through them.
/// Otherwise every group would be protected by its implicit Valid Users membership.
pub const IMPLICIT_MEMBERSHIP_GROUPS: [&str; 6] = [
    "Project Collection Valid Users",
    "Project Valid Users",
    "Security Service Group",
    "Project-Scoped Users",
    "Team Foundation Valid Users",
    "Azure DevOps Valid Users",
];

/// An Azure DevOps organization shared by the namespaces it allows.
#[allow(clippy::duplicated_attributes)]
#[derive(CustomResource, KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[kube(
    group = "azdo.io",
    version = "v1alpha1",
    cel,
    kind = "ClusterDevOpsOrganization",
    status = "OrganizationStatus",
    shortname = "azdocorg",
    category = "azdo",
    doc = "An Azure DevOps organization, its credentials, and the namespaces allowed to use it.",
    printcolumn(name = "URL", type_ = "string", json_path = ".spec.url"),
    printcolumn(name = "Auth", type_ = "string", json_path = ".status.authMethod"),
    printcolumn(
        name = "Ready",
        type_ = "string",
        json_path = ".status.conditions[?(@.type==\"Ready\")].status"
    ),
    printcolumn(
        name = "Reason",
        type_ = "string",
        json_path = ".status.conditions[?(@.type==\"Ready\")].reason"
    ),
    printcolumn(
        name = "Age",
        type_ = "date",
        json_path = ".metadata.creationTimestamp"
    )
)]
#[serde(rename_all = "camelCase")]
pub struct ClusterDevOpsOrganizationSpec {
    /// The organization URL, `https://dev.azure.com/<organization>`.
    #[x_kube(validation = url_rule())]
    #[schemars(length(max = 2048))]
    pub url: String,
    /// The Graph API URL. Default: `https://vssps.dev.azure.com/<organization>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[x_kube(validation = graph_url_rule())]
    #[schemars(length(max = 2048))]
    pub graph_url: Option<String>,
    /// The Member Entitlement Management API URL (DevOpsEntitlement). Default:
    /// `https://vsaex.dev.azure.com/<organization>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[x_kube(validation = entitlement_url_rule())]
    #[schemars(length(max = 2048))]
    pub entitlement_url: Option<String>,
    /// How the operator authenticates to the organization: exactly one method.
    #[x_kube(validation = one_auth_method_rule())]
    #[x_kube(validation = Rule::new("!has(self.clientSecret) || has(self.clientSecret.secretRef.__namespace__)").message("auth.clientSecret.secretRef.namespace is required on a ClusterDevOpsOrganization"))]
    #[x_kube(validation = Rule::new("!has(self.pat) || has(self.pat.secretRef.__namespace__)").message("auth.pat.secretRef.namespace is required on a ClusterDevOpsOrganization"))]
    #[x_kube(validation = Rule::new("!has(self.workloadIdentity) || !has(self.workloadIdentity.serviceAccountRef) || has(self.workloadIdentity.serviceAccountRef.__namespace__)").message("auth.workloadIdentity.serviceAccountRef.namespace is required on a ClusterDevOpsOrganization"))]
    pub auth: OrganizationAuth,
    /// Extra PEM certificates to trust for this organization's Azure DevOps and Entra endpoints
    /// (private endpoints, TLS-inspecting proxies, the simulator). Added to the system roots.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 65536))]
    pub ca_bundle: Option<String>,
    /// Group names (matched case-insensitively, with or without a `[Scope]\` prefix) that objects
    /// may not manage or change the members of; a group nested (at any depth) in a listed group
    /// is protected too. Default: every built-in privileged group of Azure DevOps (Project
    /// Collection Administrators, Project Administrators, the service-account and valid-users
    /// groups, ...; see docs/security.md). A list replaces the default; an empty list protects
    /// nothing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 64))]
    pub protected_groups: Option<Vec<String>>,
    /// What namespaces may do here: which projects, which existing groups, which protected
    /// resources. A namespace no grant names can do nothing (`NotAllowed`); several grants
    /// matching a namespace add up. See docs/security.md.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 256))]
    #[x_kube(validation = Rule::new("self.all(g, has(g.namespaces))").message("every grant of a ClusterDevOpsOrganization names its namespaces (names and/or selector)"))]
    pub grants: Vec<Grant>,
    /// Deprecated: use `grants`. Read as one grant of everything (every project, organization
    /// scope, every existing group, Exclusive mode, every protected resource, `allPipelines`)
    /// to these namespaces.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowed_namespaces: Option<AllowedNamespaces>,
}

/// An Azure DevOps organization usable only by objects in its own namespace. It can use only
/// that namespace's ServiceAccounts and Secrets, never the operator's own identity.
#[allow(clippy::duplicated_attributes)]
#[derive(CustomResource, KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[kube(
    group = "azdo.io",
    version = "v1alpha1",
    cel,
    kind = "DevOpsOrganization",
    namespaced,
    status = "OrganizationStatus",
    shortname = "azdoorg",
    category = "azdo",
    doc = "An Azure DevOps organization usable by the objects of its own namespace.",
    printcolumn(name = "URL", type_ = "string", json_path = ".spec.url"),
    printcolumn(name = "Auth", type_ = "string", json_path = ".status.authMethod"),
    printcolumn(
        name = "Ready",
        type_ = "string",
        json_path = ".status.conditions[?(@.type==\"Ready\")].status"
    ),
    printcolumn(
        name = "Reason",
        type_ = "string",
        json_path = ".status.conditions[?(@.type==\"Ready\")].reason"
    ),
    printcolumn(
        name = "Age",
        type_ = "date",
        json_path = ".metadata.creationTimestamp"
    )
)]
#[serde(rename_all = "camelCase")]
pub struct DevOpsOrganizationSpec {
    /// The organization URL, `https://dev.azure.com/<organization>`.
    #[x_kube(validation = url_rule())]
    #[schemars(length(max = 2048))]
    pub url: String,
    /// The Graph API URL. Default: `https://vssps.dev.azure.com/<organization>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[x_kube(validation = graph_url_rule())]
    #[schemars(length(max = 2048))]
    pub graph_url: Option<String>,
    /// The Member Entitlement Management API URL (DevOpsEntitlement). Default:
    /// `https://vsaex.dev.azure.com/<organization>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[x_kube(validation = entitlement_url_rule())]
    #[schemars(length(max = 2048))]
    pub entitlement_url: Option<String>,
    /// How the operator authenticates to the organization: exactly one method, using only this
    /// namespace's ServiceAccounts and Secrets.
    #[x_kube(validation = one_auth_method_rule())]
    #[x_kube(validation = Rule::new("!has(self.managedIdentity)").message("a DevOpsOrganization cannot use managedIdentity (the operator's own identity); use workloadIdentity with a serviceAccountRef, clientSecret or pat"))]
    #[x_kube(validation = Rule::new("!has(self.workloadIdentity) || has(self.workloadIdentity.serviceAccountRef)").message("a DevOpsOrganization must set workloadIdentity.serviceAccountRef: the operator's own identity is reserved for ClusterDevOpsOrganization"))]
    #[x_kube(validation = Rule::new("!has(self.workloadIdentity) || !has(self.workloadIdentity.serviceAccountRef) || !has(self.workloadIdentity.serviceAccountRef.__namespace__)").message("serviceAccountRef.namespace cannot be set on a DevOpsOrganization: it always uses its own namespace"))]
    #[x_kube(validation = Rule::new("!has(self.clientSecret) || !has(self.clientSecret.secretRef.__namespace__)").message("secretRef.namespace cannot be set on a DevOpsOrganization: it always uses its own namespace"))]
    #[x_kube(validation = Rule::new("!has(self.pat) || !has(self.pat.secretRef.__namespace__)").message("secretRef.namespace cannot be set on a DevOpsOrganization: it always uses its own namespace"))]
    pub auth: OrganizationAuth,
    /// Extra PEM certificates to trust for this organization's endpoints.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 65536))]
    pub ca_bundle: Option<String>,
    /// Group names objects may not manage (nor groups nested in them). Default: every built-in
    /// privileged group of Azure DevOps (see docs/security.md). An empty list protects nothing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 64))]
    pub protected_groups: Option<Vec<String>>,
    /// Limits on what the objects of this namespace may do with this organization (unset:
    /// everything its credentials allow). Grants here name no namespaces.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 256))]
    #[x_kube(validation = Rule::new("self.all(g, !has(g.namespaces))").message("a DevOpsOrganization only serves its own namespace: its grants cannot name namespaces"))]
    pub grants: Vec<Grant>,
}

fn url_rule() -> Rule {
    Rule::new("self.matches('^https://[^/?#]+/[^/?#]+/?$')")
        .message("url must be https://<host>/<organization>, e.g. https://dev.azure.com/contoso")
}

fn graph_url_rule() -> Rule {
    Rule::new("self.matches('^https://[^/?#]+/[^/?#]+/?$')").message(
        "graphUrl must be https://<host>/<organization>, e.g. https://vssps.dev.azure.com/contoso",
    )
}

fn entitlement_url_rule() -> Rule {
    Rule::new("self.matches('^https://[^/?#]+/[^/?#]+/?$')").message(
        "entitlementUrl must be https://<host>/<organization>, e.g. https://vsaex.dev.azure.com/contoso",
    )
}

fn one_auth_method_rule() -> Rule {
    Rule::new(
        "(has(self.workloadIdentity) ? 1 : 0) + (has(self.managedIdentity) ? 1 : 0) + \
         (has(self.clientSecret) ? 1 : 0) + (has(self.pat) ? 1 : 0) == 1",
    )
    .message("auth must set exactly one of workloadIdentity, managedIdentity, clientSecret or pat")
}

use kube::core::Rule;

/// How to authenticate to an organization. Exactly one field is set.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, KubeSchema)]
#[serde(rename_all = "camelCase")]
pub struct OrganizationAuth {
    /// Microsoft Entra workload identity: the operator's own federated token, or (with
    /// `serviceAccountRef`) a token minted for another ServiceAccount.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workload_identity: Option<WorkloadIdentityAuth>,
    /// The managed identity of the node or pod (IMDS). Cluster organizations only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub managed_identity: Option<ManagedIdentityAuth>,
    /// An Entra application with a client secret kept in a Secret.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<ClientSecretAuth>,
    /// A personal access token kept in a Secret (legacy; prefer Entra identities).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pat: Option<PatAuth>,
}

impl OrganizationAuth {
    /// The name of the chosen method, as shown in status.
    pub fn method(&self) -> &'static str {
        if let Some(wi) = &self.workload_identity {
            if wi.service_account_ref.is_some() {
                "WorkloadIdentity(ServiceAccount)"
            } else {
                "WorkloadIdentity"
            }
        } else if self.managed_identity.is_some() {
            "ManagedIdentity"
        } else if self.client_secret.is_some() {
            "ClientSecret"
        } else if self.pat.is_some() {
            "PAT"
        } else {
            "None"
        }
    }
}

/// Entra workload identity federation.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, KubeSchema)]
#[serde(rename_all = "camelCase")]
pub struct WorkloadIdentityAuth {
    /// The Entra application (client) id. Default: the ServiceAccount's
    /// `azure.workload.identity/client-id` annotation, or the operator's `AZURE_CLIENT_ID`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[x_kube(validation = guid_rule("clientId must be a GUID"))]
    pub client_id: Option<String>,
    /// The Entra tenant id. Default: the ServiceAccount's `azure.workload.identity/tenant-id`
    /// annotation, or the operator's `AZURE_TENANT_ID`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[x_kube(validation = guid_rule("tenantId must be a GUID"))]
    pub tenant_id: Option<String>,
    /// Use this ServiceAccount's identity (a token is minted with the TokenRequest API,
    /// audience `api://AzureADTokenExchange`) instead of the operator's own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_account_ref: Option<ServiceAccountRef>,
}

/// A ServiceAccount whose federated identity the operator uses.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, KubeSchema)]
#[serde(rename_all = "camelCase")]
pub struct ServiceAccountRef {
    /// The ServiceAccount's name.
    #[schemars(length(min = 1, max = 253))]
    pub name: String,
    /// Its namespace: required on a ClusterDevOpsOrganization, forbidden on a DevOpsOrganization.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 63))]
    pub namespace: Option<String>,
}

/// The managed identity of the node or pod.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, KubeSchema)]
#[serde(rename_all = "camelCase")]
pub struct ManagedIdentityAuth {
    /// A user-assigned identity's client id. Unset: the system-assigned identity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[x_kube(validation = guid_rule("clientId must be a GUID"))]
    pub client_id: Option<String>,
}

/// An Entra application authenticating with a client secret.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, KubeSchema)]
#[serde(rename_all = "camelCase")]
pub struct ClientSecretAuth {
    /// The Entra tenant id.
    #[x_kube(validation = guid_rule("tenantId must be a GUID"))]
    pub tenant_id: String,
    /// The application (client) id.
    #[x_kube(validation = guid_rule("clientId must be a GUID"))]
    pub client_id: String,
    /// The Secret holding the client secret (key default `clientSecret`).
    pub secret_ref: SecretKeyRef,
}

/// A personal access token.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, KubeSchema)]
#[serde(rename_all = "camelCase")]
pub struct PatAuth {
    /// The Secret holding the token (key default `token`).
    pub secret_ref: SecretKeyRef,
}

/// A key of a Secret.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, KubeSchema)]
#[serde(rename_all = "camelCase")]
pub struct SecretKeyRef {
    /// The Secret's name.
    #[schemars(length(min = 1, max = 253))]
    pub name: String,
    /// Its namespace: required on a ClusterDevOpsOrganization, forbidden on a DevOpsOrganization.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 63))]
    pub namespace: Option<String>,
    /// The key within the Secret.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 253))]
    pub key: Option<String>,
}

/// Which namespaces may use a cluster organization: those named, and those matching the selector.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, KubeSchema)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = Rule::new("size(self.names) > 0 || has(self.selector)").message("allowedNamespaces needs names or a selector; remove it to allow every namespace"))]
pub struct AllowedNamespaces {
    /// Namespace names.
    #[serde(default)]
    #[schemars(length(max = 1024))]
    pub names: Vec<String>,
    /// A label selector on namespaces.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub selector: Option<LabelSelector>,
}

fn guid_rule(message: &'static str) -> Rule {
    Rule::new("self.matches('^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$')")
        .message(message)
}

/// What the operator found out about an organization.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct OrganizationStatus {
    #[serde(flatten)]
    pub common: CommonStatus,
    /// The authentication method in use.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_method: Option<String>,
}
