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
    /// Security role calls on an unknown scope or resource id.
    pub unknown_role_target: UnknownRoleTarget,
}

impl Default for Behaviours {
    fn default() -> Self {
        Behaviours {
            duplicate_group_create: DuplicateGroupCreate::Conflict,
            repeated_membership_add: RepeatedMembershipAdd::Created,
            graph_page_size: 5,
            entra_error_line_breaks: false,
            unknown_role_target: UnknownRoleTarget::NotFound,
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
