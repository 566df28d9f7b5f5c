//! The seed: the YAML document the simulator's state is built from (and reset to).
//!
//! See `sim/README.md` for the format. Every id is optional: what is left out is derived
//! deterministically from names, so the same seed always yields the same ids and descriptors.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::options::Behaviours;

const DEFAULT_SEED: &str = include_str!("../../seeds/default.yaml");

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Seed {
    /// The Entra tenant every organization is connected to.
    pub tenant: TenantSeed,
    #[serde(default)]
    pub directory: DirectorySeed,
    pub organizations: Vec<OrganizationSeed>,
    #[serde(default)]
    pub identities: Vec<IdentitySeed>,
    /// Token issuers whose keys the Entra endpoint trusts for federated credentials.
    #[serde(default)]
    pub trusted_issuers: Vec<TrustedIssuer>,
    /// Behaviour switches; values given in `SimOptions` win over these.
    #[serde(default)]
    pub behaviours: Option<Behaviours>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TenantSeed {
    pub id: Uuid,
    #[serde(default)]
    pub domain: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DirectorySeed {
    #[serde(default)]
    pub users: Vec<DirectoryUserSeed>,
    #[serde(default)]
    pub groups: Vec<DirectoryGroupSeed>,
    #[serde(default)]
    pub service_principals: Vec<DirectoryServicePrincipalSeed>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DirectoryUserSeed {
    pub upn: String,
    pub display_name: String,
    #[serde(default)]
    pub object_id: Option<Uuid>,
    #[serde(default)]
    pub mail: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DirectoryGroupSeed {
    pub display_name: String,
    #[serde(default)]
    pub object_id: Option<Uuid>,
    #[serde(default)]
    pub mail: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    /// Member UPNs, or display names of other directory groups.
    #[serde(default)]
    pub members: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DirectoryServicePrincipalSeed {
    pub display_name: String,
    pub app_id: Uuid,
    #[serde(default)]
    pub object_id: Option<Uuid>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OrganizationSeed {
    pub name: String,
    #[serde(default)]
    pub id: Option<Uuid>,
    /// Extra organization-level groups, or members for the built-in ones.
    #[serde(default)]
    pub groups: Vec<GroupSeed>,
    /// Entra users (UPNs), groups (`aad:Display Name`) and service principals (`sp:Display Name`)
    /// already materialized in the organization without any group membership.
    #[serde(default)]
    pub materialized: Vec<String>,
    #[serde(default)]
    pub pools: Vec<PoolSeed>,
    #[serde(default)]
    pub projects: Vec<ProjectSeed>,
}

/// An Azure DevOps group. When its name is one of the built-in groups, only its members
/// (and description, if given) are applied to the built-in group.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GroupSeed {
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    /// Member references: a UPN (Entra user), `aad:Group Name` (Entra group), `sp:Display Name`
    /// (service principal), a group of the same scope by name, or `[Scope]\Name` for any group.
    #[serde(default)]
    pub members: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PoolSeed {
    pub id: u32,
    pub name: String,
    #[serde(default)]
    pub is_hosted: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ProjectSeed {
    pub name: String,
    #[serde(default)]
    pub id: Option<Uuid>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub visibility: Option<String>,
    #[serde(default)]
    pub groups: Vec<GroupSeed>,
    #[serde(default)]
    pub pipelines: Vec<PipelineSeed>,
    #[serde(default)]
    pub queues: Vec<QueueSeed>,
    #[serde(default)]
    pub environments: Vec<NamedIntSeed>,
    #[serde(default)]
    pub variable_groups: Vec<VariableGroupSeed>,
    #[serde(default)]
    pub secure_files: Vec<NamedGuidSeed>,
    #[serde(default)]
    pub service_endpoints: Vec<ServiceEndpointSeed>,
    #[serde(default)]
    pub repositories: Vec<RepositorySeed>,
    #[serde(default)]
    pub pipeline_permissions: Vec<PipelinePermissionSeed>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PipelineSeed {
    pub id: u32,
    pub name: String,
    /// Folder, e.g. `\Services\Web`; `\` when omitted.
    #[serde(default)]
    pub path: Option<String>,
    /// The git repository (by name) the pipeline builds; the project's first one when omitted.
    #[serde(default)]
    pub repository: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct QueueSeed {
    pub id: u32,
    pub name: String,
    /// The organization pool (by name) this queue points at.
    pub pool: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NamedIntSeed {
    pub id: u32,
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct VariableGroupSeed {
    pub id: u32,
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub variables: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NamedGuidSeed {
    pub name: String,
    #[serde(default)]
    pub id: Option<Uuid>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ServiceEndpointSeed {
    pub name: String,
    #[serde(default)]
    pub id: Option<Uuid>,
    /// e.g. `azurerm`, `github`, `kubernetes`, `generic`.
    #[serde(rename = "type")]
    pub endpoint_type: String,
    #[serde(default)]
    pub url: Option<String>,
    /// `false`: the endpoint's creation or authorization failed (`isReady: false`); lists leave
    /// it out unless asked with `includeFailed=true`.
    #[serde(default = "ready")]
    pub is_ready: bool,
}

fn ready() -> bool {
    true
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RepositorySeed {
    pub name: String,
    #[serde(default)]
    pub id: Option<Uuid>,
    #[serde(default)]
    pub default_branch: Option<String>,
}

/// Pre-existing pipeline authorizations on a resource of the project.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PipelinePermissionSeed {
    /// `queue`, `agentpool`, `environment`, `endpoint`, `variablegroup`, `securefile`, `repository`.
    #[serde(rename = "type")]
    pub resource_type: String,
    /// The resource's name (for `agentpool`, the organization pool's name).
    pub resource: String,
    /// Pipeline ids authorized on the resource.
    #[serde(default)]
    pub pipelines: Vec<u32>,
    #[serde(default)]
    pub all_pipelines: bool,
}

/// An application (service principal or managed identity) that can obtain tokens and call the APIs.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct IdentitySeed {
    pub name: String,
    #[serde(default)]
    pub display_name: Option<String>,
    pub client_id: Uuid,
    #[serde(default)]
    pub object_id: Option<Uuid>,
    /// Defaults to the seed's tenant.
    #[serde(default)]
    pub tenant_id: Option<Uuid>,
    #[serde(default)]
    pub client_secret: Option<String>,
    #[serde(default)]
    pub federated_credentials: Vec<FederatedCredentialSeed>,
    /// Personal access tokens accepted as `Basic base64(":" + pat)`.
    #[serde(default)]
    pub pats: Vec<String>,
    /// A managed identity: served by the managed-identity endpoint of the login host.
    #[serde(default)]
    pub managed_identity: bool,
    /// Whether the identity may read the directory. Without it, materializing Entra users and
    /// groups fails with Graph's 503 whose body is a plain string (not transient).
    #[serde(default = "default_true")]
    pub directory_read: bool,
    #[serde(default)]
    pub access: Vec<AccessSeed>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FederatedCredentialSeed {
    #[serde(default)]
    pub name: Option<String>,
    pub issuer: String,
    pub subject: String,
    #[serde(default = "default_audiences")]
    pub audiences: Vec<String>,
}

fn default_true() -> bool {
    true
}

fn default_audiences() -> Vec<String> {
    vec!["api://AzureADTokenExchange".to_string()]
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AccessSeed {
    pub organization: String,
    /// `all`, or a list of project names.
    #[serde(default)]
    pub projects: ProjectAccess,
    #[serde(default)]
    pub read_only: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum ProjectAccess {
    #[default]
    All,
    Only(Vec<String>),
}

impl ProjectAccess {
    pub fn allows(&self, project: &str) -> bool {
        match self {
            ProjectAccess::All => true,
            ProjectAccess::Only(list) => list.iter().any(|p| p.eq_ignore_ascii_case(project)),
        }
    }
}

#[derive(Serialize, Deserialize)]
#[serde(untagged)]
enum ProjectAccessRepr {
    Word(String),
    List(Vec<String>),
}

impl Serialize for ProjectAccess {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            ProjectAccess::All => ProjectAccessRepr::Word("all".into()).serialize(serializer),
            ProjectAccess::Only(list) => {
                ProjectAccessRepr::List(list.clone()).serialize(serializer)
            }
        }
    }
}

impl<'de> Deserialize<'de> for ProjectAccess {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        match ProjectAccessRepr::deserialize(deserializer)? {
            ProjectAccessRepr::Word(word) if word.eq_ignore_ascii_case("all") => {
                Ok(ProjectAccess::All)
            }
            ProjectAccessRepr::Word(other) => Err(serde::de::Error::custom(format!(
                "expected `all` or a list of projects, got `{other}`"
            ))),
            ProjectAccessRepr::List(list) => Ok(ProjectAccess::Only(list)),
        }
    }
}

/// Where the keys of a trusted issuer come from.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TrustedIssuer {
    pub issuer: String,
    #[serde(default)]
    pub jwks: Option<JwksSource>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum JwksSource {
    /// An inline JWK set (`{"keys":[...]}`).
    Inline(serde_json::Value),
    /// A file holding a JWK set.
    File(String),
    /// A JWKS URL fetched over https.
    Url(String),
    /// OIDC discovery: `{issuer}/.well-known/openid-configuration` then its `jwks_uri`.
    Discovery,
}

/// YAML and JSON spelling: `{inline: {keys: [...]}}`, `{file: path}`, `{url: https://...}` or
/// `discovery`.
#[derive(Serialize, Deserialize)]
#[serde(untagged)]
enum JwksSourceRepr {
    Word(String),
    Inline { inline: serde_json::Value },
    File { file: String },
    Url { url: String },
}

impl Serialize for JwksSource {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let repr = match self {
            JwksSource::Inline(value) => JwksSourceRepr::Inline {
                inline: value.clone(),
            },
            JwksSource::File(file) => JwksSourceRepr::File { file: file.clone() },
            JwksSource::Url(url) => JwksSourceRepr::Url { url: url.clone() },
            JwksSource::Discovery => JwksSourceRepr::Word("discovery".into()),
        };
        repr.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for JwksSource {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        match JwksSourceRepr::deserialize(deserializer)? {
            JwksSourceRepr::Word(word) if word == "discovery" => Ok(JwksSource::Discovery),
            JwksSourceRepr::Word(other) => Err(serde::de::Error::custom(format!(
                "expected `discovery`, `{{inline: ...}}`, `{{file: ...}}` or `{{url: ...}}`, got `{other}`"
            ))),
            JwksSourceRepr::Inline { inline } => Ok(JwksSource::Inline(inline)),
            JwksSourceRepr::File { file } => Ok(JwksSource::File(file)),
            JwksSourceRepr::Url { url } => Ok(JwksSource::Url(url)),
        }
    }
}

impl JwksSource {
    /// Parses the CLI form: an https URL, or a file path.
    pub fn from_cli(value: &str) -> JwksSource {
        if value.starts_with("https://") {
            JwksSource::Url(value.to_string())
        } else if value == "discovery" {
            JwksSource::Discovery
        } else {
            JwksSource::File(value.to_string())
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SeedError {
    #[error("the seed is not valid YAML for azdo-sim: {0}")]
    Parse(#[from] serde_yaml::Error),
    #[error("invalid seed: {0}")]
    Invalid(String),
}

impl Seed {
    pub fn from_yaml(s: &str) -> anyhow::Result<Seed> {
        let seed: Seed = serde_yaml::from_str(s).map_err(SeedError::Parse)?;
        seed.validate()?;
        Ok(seed)
    }

    /// The seed shipped as `sim/seeds/default.yaml`.
    pub fn default_seed() -> Seed {
        // The file is part of the crate and checked by the tests: failing here is a build defect.
        Seed::from_yaml(DEFAULT_SEED).expect("sim/seeds/default.yaml is a valid seed")
    }

    /// The text of the default seed.
    pub fn default_seed_yaml() -> &'static str {
        DEFAULT_SEED
    }

    fn validate(&self) -> Result<(), SeedError> {
        if self.organizations.is_empty() {
            return Err(SeedError::Invalid(
                "at least one organization is required".into(),
            ));
        }
        let mut seen = std::collections::HashSet::new();
        for org in &self.organizations {
            if !seen.insert(org.name.to_lowercase()) {
                return Err(SeedError::Invalid(format!(
                    "organization `{}` appears twice",
                    org.name
                )));
            }
            let mut projects = std::collections::HashSet::new();
            for project in &org.projects {
                if !projects.insert(project.name.to_lowercase()) {
                    return Err(SeedError::Invalid(format!(
                        "project `{}` appears twice in `{}`",
                        project.name, org.name
                    )));
                }
            }
        }
        let mut clients = std::collections::HashSet::new();
        for identity in &self.identities {
            if !clients.insert(identity.client_id) {
                return Err(SeedError::Invalid(format!(
                    "identity client id {} appears twice",
                    identity.client_id
                )));
            }
            for access in &identity.access {
                if !self
                    .organizations
                    .iter()
                    .any(|o| o.name.eq_ignore_ascii_case(&access.organization))
                {
                    return Err(SeedError::Invalid(format!(
                        "identity `{}` has access to unknown organization `{}`",
                        identity.name, access.organization
                    )));
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_seed_is_realistic() {
        let seed = Seed::default_seed();
        assert_eq!(seed.organizations[0].name, "contoso");
        assert!(seed.directory.users.len() >= 24);
        assert!(seed.directory.groups.len() >= 5);
        assert_eq!(seed.organizations[0].projects.len(), 3);
        let operator = seed
            .identities
            .iter()
            .find(|i| i.name == "azdo-operator")
            .unwrap();
        assert!(operator.client_secret.is_some());
        assert_eq!(operator.federated_credentials.len(), 1);
        assert!(seed
            .identities
            .iter()
            .any(|i| i.access.iter().any(|a| a.read_only)));
        assert!(seed.identities.iter().any(|i| i
            .access
            .iter()
            .any(|a| matches!(a.projects, ProjectAccess::Only(_)))));
        let state = crate::model::build_state(&seed).expect("the default seed builds");
        assert_eq!(state.organizations[0].projects.len(), 3);
    }

    #[test]
    fn parses_issuer_sources_and_access_forms() {
        let yaml = r#"
tenant: { id: 8d3c5f4e-2b1a-4c6d-9e8f-7a6b5c4d3e2f }
organizations: [ { name: fabrikam } ]
identities:
  - name: a
    clientId: 0b1c2d3e-4f5a-4b6c-8d7e-9f0a1b2c3d4e
    access: [ { organization: fabrikam, projects: [One, Two], readOnly: true } ]
  - name: b
    clientId: 1b1c2d3e-4f5a-4b6c-8d7e-9f0a1b2c3d4e
    access: [ { organization: FABRIKAM, projects: all } ]
trustedIssuers:
  - { issuer: 'https://a', jwks: { inline: { keys: [] } } }
  - { issuer: 'https://b', jwks: { file: /tmp/jwks.json } }
  - { issuer: 'https://c', jwks: { url: 'https://c/keys' } }
  - { issuer: 'https://d', jwks: discovery }
"#;
        let seed = Seed::from_yaml(yaml).unwrap();
        assert_eq!(
            seed.identities[0].access[0].projects,
            ProjectAccess::Only(vec!["One".into(), "Two".into()])
        );
        assert!(seed.identities[0].access[0].projects.allows("two"));
        assert_eq!(seed.identities[1].access[0].projects, ProjectAccess::All);
        let sources: Vec<_> = seed
            .trusted_issuers
            .iter()
            .map(|t| t.jwks.clone().unwrap())
            .collect();
        assert!(matches!(sources[0], JwksSource::Inline(_)));
        assert_eq!(sources[1], JwksSource::File("/tmp/jwks.json".into()));
        assert_eq!(sources[2], JwksSource::Url("https://c/keys".into()));
        assert_eq!(sources[3], JwksSource::Discovery);
        assert!(
            seed.identities[0].directory_read,
            "directoryRead defaults to true"
        );
    }

    #[test]
    fn rejects_bad_seeds() {
        let unknown_org = r#"
tenant: { id: 8d3c5f4e-2b1a-4c6d-9e8f-7a6b5c4d3e2f }
organizations: [ { name: fabrikam } ]
identities: [ { name: a, clientId: 0b1c2d3e-4f5a-4b6c-8d7e-9f0a1b2c3d4e, access: [ { organization: contoso } ] } ]
"#;
        assert!(Seed::from_yaml(unknown_org).is_err());
        let typo = "tenant: { id: 8d3c5f4e-2b1a-4c6d-9e8f-7a6b5c4d3e2f }\norganizations: [ { name: x, projets: [] } ]\n";
        assert!(Seed::from_yaml(typo).is_err(), "unknown fields are refused");
        let bad_member = r#"
tenant: { id: 8d3c5f4e-2b1a-4c6d-9e8f-7a6b5c4d3e2f }
organizations: [ { name: x, groups: [ { name: G, members: [ghost@contoso.com] } ] } ]
"#;
        let seed = Seed::from_yaml(bad_member).unwrap();
        assert!(crate::model::build_state(&seed).is_err());
    }
}
