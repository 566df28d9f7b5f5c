//! `export`'s client: the same credential code ([`crate::auth::token_source`]), HTTP client
//! (extra CA trusted in addition to the system roots, TLS always verified) and throttled
//! [`AdoClient`] as the operator's organizations, configured from flags and environment
//! variables instead of an organization object. Secrets come from the environment only.

use std::sync::Arc;

use anyhow::{bail, Context};

use crate::ado::{AdoClient, AdoMetrics, ClientLimits, HttpClients, OrganizationEndpoint};
use crate::auth::{self, AuthConfig, AuthEnvironment, OperatorIdentity, SecretString};
use crate::cli::{ExportArgs, ExportAuth};

/// The environment variable holding a personal access token.
pub const PAT_VARIABLE: &str = "AZDO_PAT";
/// The environment variable holding an app registration's client secret.
pub const CLIENT_SECRET_VARIABLE: &str = "AZURE_CLIENT_SECRET";

/// The authentication `--auth` names, or the one the environment implies.
pub fn auth_kind(args: &ExportArgs, env: impl Fn(&str) -> Option<String>) -> ExportAuth {
    if let Some(kind) = args.auth {
        return kind;
    }
    if env(PAT_VARIABLE).is_some() {
        ExportAuth::Pat
    } else if env(CLIENT_SECRET_VARIABLE).is_some() {
        ExportAuth::ClientSecret
    } else if args.federated_token_file.is_some() {
        ExportAuth::WorkloadIdentity
    } else {
        ExportAuth::ManagedIdentity
    }
}

/// The credential configuration (secrets read from `env`).
pub fn auth_config(
    args: &ExportArgs,
    env: impl Fn(&str) -> Option<String>,
) -> anyhow::Result<AuthConfig> {
    let secret = |name: &str| -> anyhow::Result<SecretString> {
        env(name)
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
            .map(SecretString::new)
            .with_context(|| format!("set {name} in the environment"))
    };
    let required = |value: &Option<String>, flag: &str| -> anyhow::Result<String> {
        value
            .clone()
            .filter(|v| !v.trim().is_empty())
            .with_context(|| format!("{flag} is required for this authentication"))
    };
    Ok(match auth_kind(args, &env) {
        ExportAuth::Pat => AuthConfig::Pat {
            token: secret(PAT_VARIABLE)?,
        },
        ExportAuth::ClientSecret => AuthConfig::ClientSecret {
            tenant_id: required(&args.tenant_id, "--tenant-id (or AZURE_TENANT_ID)")?,
            client_id: required(&args.client_id, "--client-id (or AZURE_CLIENT_ID)")?,
            secret: secret(CLIENT_SECRET_VARIABLE)?,
        },
        ExportAuth::WorkloadIdentity => {
            if args.federated_token_file.is_none() {
                bail!("workload-identity needs --federated-token-file (or AZURE_FEDERATED_TOKEN_FILE)");
            }
            AuthConfig::WorkloadIdentity {
                client_id: args.client_id.clone(),
                tenant_id: args.tenant_id.clone(),
            }
        }
        ExportAuth::ManagedIdentity => AuthConfig::ManagedIdentity {
            client_id: args.client_id.clone(),
        },
    })
}

/// The organization's endpoint from `--url` and `--graph-url`.
pub fn endpoint(args: &ExportArgs) -> anyhow::Result<OrganizationEndpoint> {
    let name = crate::controller::organization_name_of(&args.url).map_err(anyhow::Error::msg)?;
    let graph = crate::controller::graph_url_of(&args.url, args.graph_url.as_deref())
        .map_err(anyhow::Error::msg)?;
    Ok(OrganizationEndpoint::new(
        &name,
        args.url.trim_end_matches('/'),
        &graph,
    )?)
}

/// An authenticated, throttled client of the organization, and its metrics (requests sent).
/// Secrets are read through `env` (the process environment in `azdo-operator export`).
pub async fn client(
    args: &ExportArgs,
    env: impl Fn(&str) -> Option<String>,
) -> anyhow::Result<(AdoClient, Arc<AdoMetrics>)> {
    let endpoint = endpoint(args)?;
    let ca = match &args.ca_file {
        Some(path) => Some(
            std::fs::read_to_string(path)
                .with_context(|| format!("reading the CA file {}", path.display()))?,
        ),
        None => None,
    };
    let http = HttpClients::new().get(ca.as_deref())?;
    let metrics = Arc::new(AdoMetrics::unregistered());
    let authority = args
        .authority_host
        .clone()
        .filter(|a| !a.trim().is_empty())
        .unwrap_or_else(|| auth::AZURE_PUBLIC_AUTHORITY.to_string());
    let auth_env = AuthEnvironment {
        authority_host: auth::parse_authority(&authority)?,
        operator_identity: OperatorIdentity {
            client_id: args.client_id.clone(),
            tenant_id: args.tenant_id.clone(),
            federated_token_file: args.federated_token_file.clone(),
        },
        http: http.clone(),
        kube: None,
        metrics: metrics.clone(),
    };
    let config = auth_config(args, env)?;
    let credential = auth::token_source(config, &auth_env)
        .await
        .context("setting up authentication")?;
    let mut limits = ClientLimits::default();
    limits.throttle.max_concurrency = args.concurrency.max(1);
    let client = AdoClient::new(endpoint, http, credential, limits, metrics.clone());
    Ok((client, metrics))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::{Cli, Command};
    use clap::Parser;

    fn args(extra: &[&str]) -> ExportArgs {
        let mut argv = vec![
            "azdo-operator",
            "export",
            "--url",
            "https://dev.azure.com/contoso",
        ];
        argv.extend_from_slice(extra);
        match Cli::try_parse_from(argv).expect("parses").command {
            Command::Export(args) => *args,
            _ => unreachable!(),
        }
    }

    fn env(vars: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |name| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn the_environment_picks_the_authentication_unless_a_flag_does() {
        let a = args(&[]);
        assert_eq!(auth_kind(&a, env(&[("AZDO_PAT", "x")])), ExportAuth::Pat);
        assert_eq!(
            auth_kind(&a, env(&[("AZURE_CLIENT_SECRET", "x")])),
            ExportAuth::ClientSecret
        );
        assert_eq!(auth_kind(&a, env(&[])), ExportAuth::ManagedIdentity);
        let explicit = args(&["--auth", "managed-identity"]);
        assert_eq!(
            auth_kind(&explicit, env(&[("AZDO_PAT", "x")])),
            ExportAuth::ManagedIdentity
        );
    }

    #[test]
    fn secrets_come_from_the_environment_and_missing_ones_are_named() {
        let pat = auth_config(&args(&["--auth", "pat"]), env(&[])).unwrap_err();
        assert!(pat.to_string().contains("AZDO_PAT"), "{pat}");
        let cs = args(&[
            "--auth",
            "client-secret",
            "--tenant-id",
            "t",
            "--client-id",
            "c",
        ]);
        let err = auth_config(&cs, env(&[])).unwrap_err();
        assert!(err.to_string().contains("AZURE_CLIENT_SECRET"), "{err}");
        let config = auth_config(&cs, env(&[("AZURE_CLIENT_SECRET", "s3cret")])).unwrap();
        assert_eq!(config.kind(), "client-secret");
        assert!(
            !format!("{config:?}").contains("s3cret"),
            "a secret is never printed"
        );
    }

    #[test]
    fn the_graph_url_is_derived_for_the_public_service_only() {
        let e = endpoint(&args(&[])).unwrap();
        assert_eq!(e.name, "contoso");
        assert_eq!(e.graph_url.as_str(), "https://vssps.dev.azure.com/contoso");
        let mut private = args(&[]);
        private.url = "https://127.0.0.1:8443/contoso".into();
        assert!(endpoint(&private).is_err());
        private.graph_url = Some("https://127.0.0.1:8444/contoso".into());
        assert_eq!(endpoint(&private).unwrap().name, "contoso");
    }
}
