//! Options of a simulator instance: ports, behaviour switches, trust, token lifetime, faults.

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::faults::Faults;
use crate::seed::TrustedIssuer;

/// What a duplicate `POST graph/groups` does (unverified in the real service, so both are playable).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum DuplicateGroupCreate {
    /// 409 `TF50624: A group named X already exists in scope Y`.
    #[default]
    Conflict,
    /// 201 with the existing group.
    ReturnExisting,
}

/// What a repeated `PUT graph/memberships/{subject}/{container}` does (unverified).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum RepeatedMembershipAdd {
    /// 201 again with the membership.
    #[default]
    Created,
    /// 409 `TF50235`.
    Conflict,
}

/// The body of the 503 that materializing an Entra subject gets when the identity may not read
/// the directory.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum DirectoryReadErrorBody {
    /// The usual JSON error document (what the fact sheet reports).
    #[default]
    Json,
    /// The message as a bare JSON string.
    String,
}

/// The Entra code of "no federated credential matches the assertion".
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum FederatedMismatchCode {
    /// `AADSTS70021` (older tenants, and what the e2e suite expects).
    #[default]
    Aadsts70021,
    /// `AADSTS700213` (no matching federated identity record for the assertion's subject).
    Aadsts700213,
}

/// What Azure DevOps answers a request whose access token has expired.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ExpiredToken {
    /// Reads (GET, HEAD, POST queries) get the 203 sign-in page even with
    /// `X-TFS-FedAuthRedirect: Suppress`; writes (PUT, PATCH, DELETE) get 401 `TF400813`.
    #[default]
    SignInPageOnReads,
    /// Like any unknown credential: 401 with a challenge (203 without Suppress).
    Challenge,
}

/// What a valid Entra identity that the organization does not know gets.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum UnknownIdentity {
    /// 401 `TF400813` (not authorized to access this resource).
    #[default]
    Tf400813,
    /// 401 `TF401444` (a service principal never added: "Please sign-in at least once").
    Tf401444,
}

/// What a security role call on an unknown scope id or resource id does. Azure DevOps has
/// been seen to answer 200 and change nothing; an error is what the contract implies.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum UnknownRoleTarget {
    /// 404 for an unknown scope or resource.
    #[default]
    NotFound,
    /// 200: reads answer an empty list, writes change nothing.
    SilentlyIgnored,
}

/// Behaviour switches for the points the fact sheet leaves open.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct Behaviours {
    pub duplicate_group_create: DuplicateGroupCreate,
    pub repeated_membership_add: RepeatedMembershipAdd,
    /// Page size of `GET graph/groups` (and users). Small, so that paging is exercised.
    pub graph_page_size: usize,
    /// Entra error descriptions with `\r\n` before "Trace ID" (as Entra answered until about 2024)
    /// instead of spaces.
    pub entra_error_line_breaks: bool,
    /// Refuse `-preview` versions of resources the 7.1 spec marks released (400
    /// `VssInvalidPreviewVersionException`), as the service may 12 weeks after a release.
    /// Default off: the official 7.1 SDK betas still send previews to released resources.
    pub refuse_released_preview: bool,
    /// Leave `isDeleted` out of `GET graph/groups/{descriptor}` (the published GraphGroup schema
    /// does not define it; liveness is then only visible through `graph/membershipstates`).
    pub omit_is_deleted: bool,
    /// Page size of the dev-host lists the 7.1 spec pages with `continuationToken` (projects,
    /// build definitions, environments, variable groups); 0: one page. Pages are cut before filtering, so a
    /// filtered page can be empty and still carry `x-ms-continuationtoken`.
    pub list_page_size: usize,
    /// `POST graph/subjectquery` with a `scopeDescriptor` also answers groups of other scopes
    /// (as a loose search may), so only a group's domain tells its scope.
    pub subject_query_loose_scope: bool,
    /// The body of the directory-read 503: `json` (default) or `string`.
    pub directory_read_error_body: DirectoryReadErrorBody,
    /// The Entra code for a federated credential that matches no record.
    pub federated_mismatch_code: FederatedMismatchCode,
    /// Federated identity credentials disabled in the tenant: every `client_assertion` grant is
    /// refused with `AADSTS700223`.
    pub federation_disabled: bool,
    /// What an expired access token gets.
    pub expired_token: ExpiredToken,
    /// What an Entra identity without access to the organization gets.
    pub unknown_identity: UnknownIdentity,
    /// Security role calls on an unknown scope or resource id.
    pub unknown_role_target: UnknownRoleTarget,
    /// Licences available per access level (`accountLicenseType`, e.g. `{"express": 5}`); a
    /// level not listed is unlimited. Assignments past the limit fail with code 5032.
    pub available_licences: std::collections::BTreeMap<String, u32>,
    /// How long a group rule operation stays queued / in progress before it applies.
    pub group_rule_apply_ms: u64,
}

impl Default for Behaviours {
    fn default() -> Self {
        Behaviours {
            duplicate_group_create: DuplicateGroupCreate::Conflict,
            repeated_membership_add: RepeatedMembershipAdd::Created,
            graph_page_size: 5,
            entra_error_line_breaks: false,
            refuse_released_preview: false,
            omit_is_deleted: false,
            list_page_size: 0,
            subject_query_loose_scope: false,
            directory_read_error_body: DirectoryReadErrorBody::Json,
            federated_mismatch_code: FederatedMismatchCode::Aadsts70021,
            federation_disabled: false,
            expired_token: ExpiredToken::SignInPageOnReads,
            unknown_identity: UnknownIdentity::Tf400813,
            unknown_role_target: UnknownRoleTarget::NotFound,
            available_licences: std::collections::BTreeMap::new(),
            group_rule_apply_ms: 1_000,
        }
    }
}

/// How a simulator is started. `SimOptions::default()` gives random loopback ports and no faults.
#[derive(Debug, Clone)]
pub struct SimOptions {
    pub listen: IpAddr,
    /// 0 picks a free port.
    pub dev_port: u16,
    pub vssps_port: u16,
    pub vsaex_port: u16,
    pub login_port: u16,
    /// Overrides the seed's `behaviours` when set.
    pub behaviours: Option<Behaviours>,
    /// Issuers trusted in addition to the seed's `trustedIssuers` (same issuer: these win).
    pub trusted_issuers: Vec<TrustedIssuer>,
    /// Extra CA (PEM) trusted when fetching OIDC discovery documents and JWKS over https.
    pub issuer_ca_pem: Option<String>,
    /// Lifetime of the access tokens the Entra endpoint issues (`expires_in`).
    pub access_token_lifetime: Duration,
    /// Secret expected in the `X-IDENTITY-HEADER` header by the managed identity endpoint
    /// (`IDENTITY_HEADER` for azure_identity's App Service source).
    pub managed_identity_secret: String,
    /// Faults in force from the start.
    pub faults: Faults,
}

impl Default for SimOptions {
    fn default() -> Self {
        SimOptions {
            listen: IpAddr::V4(Ipv4Addr::LOCALHOST),
            dev_port: 0,
            vssps_port: 0,
            vsaex_port: 0,
            login_port: 0,
            behaviours: None,
            trusted_issuers: Vec::new(),
            issuer_ca_pem: None,
            access_token_lifetime: Duration::from_secs(3599),
            managed_identity_secret: "azdo-sim-identity-header".to_string(),
            faults: Faults::default(),
        }
    }
}
