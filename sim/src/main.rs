//! `azdo-sim`: run the Azure DevOps + Entra simulator standalone.

use std::net::IpAddr;
use std::path::PathBuf;

use anyhow::Context;
use azdo_sim::{JwksSource, Seed, SimOptions, Simulator, TrustedIssuer};
use clap::Parser;

#[derive(Debug, Parser)]
#[command(
    name = "azdo-sim",
    version,
    about = "Azure DevOps + Entra ID simulator over TLS on loopback"
)]
struct Args {
    /// Seed file (YAML); the built-in default seed when omitted.
    #[arg(long, env = "AZDO_SIM_SEED")]
    seed: Option<PathBuf>,
    /// Address to listen on (loopback only).
    #[arg(long, default_value = "127.0.0.1")]
    listen: IpAddr,
    /// Port of the dev.azure.com host (0: any free port).
    #[arg(long, default_value_t = 8443)]
    dev_port: u16,
    /// Port of the vssps.dev.azure.com (Graph) host.
    #[arg(long, default_value_t = 8444)]
    vssps_port: u16,
    /// Port of the vsaex.dev.azure.com (Member Entitlement Management) host.
    #[arg(long, default_value_t = 8446)]
    vsaex_port: u16,
    /// Port of the login.microsoftonline.com (Entra) host.
    #[arg(long, default_value_t = 8445)]
    login_port: u16,
    /// Directory the CA certificate is written to (as ca.pem).
    #[arg(long, default_value = ".")]
    ca_out: PathBuf,
    /// Trust keys for a token issuer: ISSUER=URL_OR_FILE (an https JWKS URL, a JWKS file, or
    /// `discovery` for OIDC discovery at the issuer). Repeatable.
    #[arg(long = "issuer-jwks", value_name = "ISSUER=URL_OR_FILE")]
    issuer_jwks: Vec<String>,
    /// Extra CA (PEM file) trusted when fetching issuer discovery documents and JWKS.
    #[arg(long)]
    issuer_ca: Option<PathBuf>,
    /// Lifetime of issued access tokens, in seconds.
    #[arg(long, default_value_t = 3599)]
    token_lifetime: u64,
    /// Secret the managed identity endpoint expects in X-IDENTITY-HEADER.
    #[arg(long, default_value = "azdo-sim-identity-header")]
    identity_header: String,
}

fn parse_issuer(value: &str) -> anyhow::Result<TrustedIssuer> {
    // Issuer URLs carry no '=', JWKS URLs may (in their query): split at the first one.
    let (issuer, source) = value
        .split_once('=')
        .filter(|(issuer, _)| !issuer.is_empty())
        .with_context(|| format!("--issuer-jwks expects ISSUER=URL_OR_FILE, got `{value}`"))?;
    Ok(TrustedIssuer {
        issuer: issuer.to_string(),
        jwks: Some(JwksSource::from_cli(source)),
    })
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    let args = Args::parse();
    if !args.listen.is_loopback() {
        anyhow::bail!(
            "azdo-sim only listens on loopback addresses, not {}",
            args.listen
        );
    }
    let seed = match &args.seed {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading seed {}", path.display()))?;
            Seed::from_yaml(&text).with_context(|| format!("loading seed {}", path.display()))?
        }
        None => Seed::default_seed(),
    };
    let trusted_issuers = args
        .issuer_jwks
        .iter()
        .map(|v| parse_issuer(v))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let issuer_ca_pem = match &args.issuer_ca {
        Some(path) => Some(
            std::fs::read_to_string(path)
                .with_context(|| format!("reading issuer CA {}", path.display()))?,
        ),
        None => None,
    };
    let options = SimOptions {
        listen: args.listen,
        dev_port: args.dev_port,
        vssps_port: args.vssps_port,
        vsaex_port: args.vsaex_port,
        login_port: args.login_port,
        trusted_issuers,
        issuer_ca_pem,
        access_token_lifetime: std::time::Duration::from_secs(args.token_lifetime),
        managed_identity_secret: args.identity_header.clone(),
        ..SimOptions::default()
    };
    let sim = Simulator::start(seed, options).await?;
    std::fs::create_dir_all(&args.ca_out)
        .with_context(|| format!("creating {}", args.ca_out.display()))?;
    let ca_path = args.ca_out.join("ca.pem");
    std::fs::write(&ca_path, sim.ca_pem())
        .with_context(|| format!("writing {}", ca_path.display()))?;
    println!("azdo-sim is running");
    println!("  dev (dev.azure.com):                {}", sim.dev_url());
    println!("  vssps (vssps.dev.azure.com, Graph): {}", sim.vssps_url());
    println!(
        "  vsaex (vsaex.dev.azure.com, entitlements): {}",
        sim.vsaex_url()
    );
    println!("  login (AZURE_AUTHORITY_HOST):       {}", sim.login_url());
    println!(
        "  managed identity (IDENTITY_ENDPOINT): {}",
        sim.managed_identity_endpoint()
    );
    println!(
        "  control API:                        {}/_sim/",
        sim.dev_url()
    );
    println!(
        "  CA certificate:                     {}",
        ca_path.display()
    );
    tokio::signal::ctrl_c().await?;
    println!("azdo-sim: shutting down");
    sim.shutdown().await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issuer_jwks_argument_forms() {
        let url =
            parse_issuer("https://oidc.example/cluster=https://oidc.example/keys?v=1").unwrap();
        assert_eq!(url.issuer, "https://oidc.example/cluster");
        assert_eq!(
            url.jwks,
            Some(JwksSource::Url("https://oidc.example/keys?v=1".into()))
        );
        let file =
            parse_issuer("https://kubernetes.default.svc.cluster.local=/tmp/jwks.json").unwrap();
        assert_eq!(file.jwks, Some(JwksSource::File("/tmp/jwks.json".into())));
        let discovery = parse_issuer("https://oidc.example=discovery").unwrap();
        assert_eq!(discovery.jwks, Some(JwksSource::Discovery));
        assert!(parse_issuer("no-equals-sign").is_err());
    }
}
