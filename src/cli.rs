//! The command line: `run`, `export`, `crds` and `version`. Every `run` flag can also be set
//! by an environment variable (shown in `--help`).
// The flags' doc comments are their `--help` text, where a URL is written plainly.
#![allow(rustdoc::bare_urls, rustdoc::invalid_html_tags)]

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Manage Azure DevOps groups, memberships and pipeline permissions as Kubernetes objects.
#[derive(Parser, Debug)]
#[command(name = "azdo-operator", version = crate::VERSION, about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run the controller manager.
    Run(Box<RunArgs>),
    /// Print every CRD as YAML (or write one file per CRD with --out-dir).
    Crds {
        /// Write `<crd-name>.yaml` files into this directory instead of printing.
        #[arg(long)]
        out_dir: Option<PathBuf>,
    },
    /// Read an organization (or some projects) and write manifests for its groups,
    /// memberships, pipeline authorizations and role assignments, in Observe, ready to apply
    /// (docs/export.md).
    Export(Box<ExportArgs>),
    /// Print the version.
    Version,
}

/// Log output format.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    /// One JSON object per line.
    Json,
    /// Human-readable text.
    Text,
}

/// Options of the controller manager.
#[derive(Args, Debug, Clone)]
pub struct RunArgs {
    /// Path to a kubeconfig file. Unset: in-cluster configuration, then the default kubeconfig.
    #[arg(long, env = "KUBECONFIG")]
    pub kubeconfig: Option<PathBuf>,
    /// Address to serve /healthz, /readyz and /metrics on.
    #[arg(long, env = "AZDO_METRICS_ADDR", default_value = "0.0.0.0:8080")]
    pub metrics_addr: SocketAddr,
    /// Log format.
    #[arg(long, env = "AZDO_LOG_FORMAT", value_enum, default_value_t = LogFormat::Json)]
    pub log_format: LogFormat,
    /// Log filter (tracing EnvFilter syntax), e.g. `info,azdo_operator=debug`.
    #[arg(long, env = "AZDO_LOG_LEVEL", default_value = "info")]
    pub log_level: String,
    /// Elect a leader through a Lease so that only one replica reconciles.
    #[arg(long, env = "AZDO_LEADER_ELECTION", default_value_t = true, action = clap::ArgAction::Set)]
    pub leader_election: bool,
    /// Namespace of the leader election Lease. Default: the pod's namespace (POD_NAMESPACE).
    #[arg(long, env = "AZDO_LEADER_ELECTION_NAMESPACE")]
    pub leader_election_namespace: Option<String>,
    /// Name of the leader election Lease.
    #[arg(
        long,
        env = "AZDO_LEADER_ELECTION_LEASE",
        default_value = "azdo-operator-leader"
    )]
    pub leader_election_lease: String,
    /// This replica's identity in the Lease. Default: the pod name (POD_NAME) or host name.
    #[arg(long, env = "POD_NAME")]
    pub identity: Option<String>,
    /// How long a Lease stays valid without renewal.
    #[arg(long, env = "AZDO_LEASE_DURATION", value_parser = humantime::parse_duration, default_value = "15s")]
    pub lease_duration: Duration,
    /// Namespaces to watch (comma-separated). Unset: all namespaces.
    #[arg(long, env = "AZDO_WATCH_NAMESPACES", value_delimiter = ',')]
    pub watch_namespaces: Vec<String>,
    /// How often every object is compared with Azure DevOps to repair drift.
    #[arg(long, env = "AZDO_RESYNC_INTERVAL", value_parser = humantime::parse_duration, default_value = "10m")]
    pub resync_interval: Duration,
    /// How far each resync may move (a fraction of the interval, at most 0.5) towards the
    /// object's own slot in the interval (a hash of its kind, namespace and name), so that the
    /// resyncs of many objects are spread evenly over the interval; 0: exactly the interval.
    #[arg(long, env = "AZDO_RESYNC_JITTER", default_value_t = 0.5)]
    pub resync_jitter: f64,
    /// Most Azure DevOps requests in flight at once per organization.
    #[arg(long, env = "AZDO_ORG_CONCURRENCY", default_value_t = 8)]
    pub org_concurrency: usize,
    /// Most objects of one kind reconciled at once.
    #[arg(long, env = "AZDO_RECONCILE_CONCURRENCY", default_value_t = 16)]
    pub reconcile_concurrency: u16,
    /// How many of those one namespace may hold while every other worker is busy (default:
    /// half). Past it, its reconciles wait a moment so other namespaces get workers.
    #[arg(long, env = "AZDO_NAMESPACE_SHARE")]
    pub namespace_share: Option<u16>,
    /// The longest one reconcile may take: no Azure DevOps call is started after it (the
    /// object reports DeadlineExceeded and continues at its next attempt).
    #[arg(long, env = "AZDO_RECONCILE_TIMEOUT", value_parser = humantime::parse_duration, default_value = "2m")]
    pub reconcile_timeout: Duration,
    /// Observe every object, whatever its `managementPolicy`: read, report on `status.drift`
    /// what would change, and write nothing to Azure DevOps (a dry run of the whole cluster).
    #[arg(long, env = "AZDO_OBSERVE", default_value_t = false, action = clap::ArgAction::Set)]
    pub observe: bool,
    /// A PEM file of extra CA certificates trusted for every organization (in addition to the
    /// system roots and each organization's `caBundle`).
    #[arg(long, env = "AZDO_EXTRA_CA_FILE")]
    pub extra_ca_file: Option<PathBuf>,
    /// The Entra authority host for Entra token requests. Default: AZURE_AUTHORITY_HOST, then
    /// https://login.microsoftonline.com.
    #[arg(long, env = "AZURE_AUTHORITY_HOST")]
    pub authority_host: Option<String>,
}

/// How `export` authenticates.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExportAuth {
    /// A personal access token, from the AZDO_PAT environment variable.
    Pat,
    /// An app registration's client secret, from AZURE_CLIENT_SECRET (with --tenant-id and
    /// --client-id).
    ClientSecret,
    /// A federated token file (AZURE_FEDERATED_TOKEN_FILE, e.g. in a pod with Azure workload
    /// identity) exchanged for the app's token (--tenant-id, --client-id).
    WorkloadIdentity,
    /// Azure managed identity (--client-id picks a user-assigned one).
    ManagedIdentity,
}

/// The kinds `export` can write.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExportKindArg {
    /// DevOpsGroup.
    #[value(alias = "devopsgroup", alias = "groups")]
    Group,
    /// DevOpsMembership.
    #[value(alias = "devopsmembership", alias = "memberships")]
    Membership,
    /// PipelineResourceAuthorization.
    #[value(
        alias = "pipelineresourceauthorization",
        alias = "authorizations",
        alias = "pra"
    )]
    Authorization,
    /// DevOpsRoleAssignment.
    #[value(
        alias = "devopsroleassignment",
        alias = "roleassignments",
        alias = "roles"
    )]
    RoleAssignment,
}

/// The mode of exported memberships and role assignments.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExportMembershipMode {
    /// Add the listed members; remove nothing else.
    Additive,
    /// Make the listed members the group's exact membership (once switched to Manage).
    Exclusive,
}

/// Options of `export`. Secrets are read from environment variables only (AZDO_PAT,
/// AZURE_CLIENT_SECRET), never from flags, and never printed.
#[derive(Args, Debug, Clone)]
pub struct ExportArgs {
    /// The organization's URL, e.g. https://dev.azure.com/contoso.
    #[arg(long, env = "AZDO_ORG_URL")]
    pub url: String,
    /// The Graph URL. Default: derived for https://dev.azure.com/<organization>.
    #[arg(long, env = "AZDO_GRAPH_URL")]
    pub graph_url: Option<String>,
    /// A PEM file of CA certificates trusted in addition to the system roots.
    #[arg(long, env = "AZDO_CA_FILE")]
    pub ca_file: Option<PathBuf>,
    /// How to authenticate. Default: pat when AZDO_PAT is set, client-secret when
    /// AZURE_CLIENT_SECRET is, workload-identity when AZURE_FEDERATED_TOKEN_FILE is, else
    /// managed-identity.
    #[arg(long, value_enum)]
    pub auth: Option<ExportAuth>,
    /// The Entra tenant (client-secret, workload-identity).
    #[arg(long, env = "AZURE_TENANT_ID")]
    pub tenant_id: Option<String>,
    /// The app registration's (or user-assigned managed identity's) client id.
    #[arg(long, env = "AZURE_CLIENT_ID")]
    pub client_id: Option<String>,
    /// The federated token file (workload-identity).
    #[arg(long, env = "AZURE_FEDERATED_TOKEN_FILE")]
    pub federated_token_file: Option<PathBuf>,
    /// The Entra authority host. Default: https://login.microsoftonline.com.
    #[arg(long, env = "AZURE_AUTHORITY_HOST")]
    pub authority_host: Option<String>,
    /// The namespace of every object written.
    #[arg(long, short = 'n', default_value = "default")]
    pub namespace: String,
    /// The organization object the objects refer to. Default: the organization's name.
    #[arg(long)]
    pub organization_ref: Option<String>,
    /// Refer to a DevOpsOrganization in --namespace instead of a ClusterDevOpsOrganization.
    #[arg(long)]
    pub namespaced_organization: bool,
    /// Export only these projects (name or id; repeatable). Organization groups are then left out.
    #[arg(long = "project")]
    pub projects: Vec<String>,
    /// Export only groups (and their memberships) whose name or principal name matches
    /// (`*` and `?`, case-insensitive; repeatable).
    #[arg(long = "group")]
    pub groups: Vec<String>,
    /// The kinds to write (comma-separated). Default: all.
    #[arg(long, value_enum, value_delimiter = ',', ignore_case = true)]
    pub kinds: Vec<ExportKindArg>,
    /// The mode of every membership and role assignment written.
    #[arg(long, value_enum, default_value_t = ExportMembershipMode::Additive)]
    pub membership_mode: ExportMembershipMode,
    /// Also export protected groups (the operator refuses to manage them unless the
    /// organization's protectedGroups leaves them out).
    #[arg(long)]
    pub include_protected: bool,
    /// Write one file per object into this directory instead of one stream to stdout.
    #[arg(long)]
    pub out_dir: Option<PathBuf>,
    /// Most Azure DevOps requests in flight at once.
    #[arg(long, default_value_t = 8)]
    pub concurrency: usize,
}

impl RunArgs {
    /// The Lease namespace: the flag, the pod's namespace, or `default`.
    pub fn lease_namespace(&self) -> String {
        self.leader_election_namespace
            .clone()
            .or_else(|| std::env::var("POD_NAMESPACE").ok())
            .unwrap_or_else(|| "default".to_string())
    }

    /// This replica's identity: the flag/POD_NAME, the host name, or a random id.
    pub fn replica_identity(&self) -> String {
        self.identity
            .clone()
            .or_else(|| std::env::var("HOSTNAME").ok())
            .unwrap_or_else(|| format!("azdo-operator-{}", uuid::Uuid::new_v4()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_is_well_formed() {
        Cli::command().debug_assert();
    }

    #[test]
    fn run_flags_parse_and_default() {
        let cli = Cli::try_parse_from([
            "azdo-operator",
            "run",
            "--watch-namespaces",
            "a,b",
            "--resync-interval",
            "90s",
            "--leader-election",
            "false",
            "--log-format",
            "text",
        ])
        .expect("parses");
        let Command::Run(args) = cli.command else {
            panic!("expected run");
        };
        assert_eq!(args.watch_namespaces, vec!["a", "b"]);
        assert_eq!(args.resync_interval, Duration::from_secs(90));
        assert!(!args.leader_election);
        assert_eq!(args.log_format, LogFormat::Text);
        assert_eq!(args.org_concurrency, 8);
    }

    #[test]
    fn export_flags_parse() {
        let cli = Cli::try_parse_from([
            "azdo-operator",
            "export",
            "--url",
            "https://dev.azure.com/contoso",
            "--kinds",
            "Group,memberships",
            "--project",
            "Web",
            "--project",
            "Api",
            "--membership-mode",
            "exclusive",
        ])
        .expect("parses");
        let Command::Export(args) = cli.command else {
            panic!("expected export");
        };
        assert_eq!(
            args.kinds,
            vec![ExportKindArg::Group, ExportKindArg::Membership]
        );
        assert_eq!(args.projects, vec!["Web", "Api"]);
        assert_eq!(args.membership_mode, ExportMembershipMode::Exclusive);
        assert_eq!(args.namespace, "default");
        assert!(
            Cli::try_parse_from(["azdo-operator", "export", "--url", "x", "--pat", "s"]).is_err()
        );
    }

    #[test]
    fn bad_duration_is_rejected() {
        let err = Cli::try_parse_from(["azdo-operator", "run", "--resync-interval", "soon"])
            .expect_err("must fail");
        assert!(err.to_string().contains("resync-interval"), "{err}");
    }
}
