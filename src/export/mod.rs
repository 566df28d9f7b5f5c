//! `azdo-operator export`: read an organization (or some projects) and write manifests for
//! what it finds, every object in `managementPolicy: Observe` with `deletionPolicy: Orphan`,
//! so applying them changes nothing in Azure DevOps (docs/export.md).
//!
//! Top to bottom: [`connect`] (credential and throttled client from flags and environment),
//! [`read`] (the organization into an [`Inventory`]), [`build`] (pure: inventory to API
//! objects, names from [`names`]), [`write`](mod@write) (one stream or one file per object). Progress
//! goes to stderr on a terminal ([`progress`]); a summary line always ends on stderr.

pub mod build;
pub mod connect;
pub mod inventory;
pub mod names;
pub mod progress;
pub mod read;
pub mod write;

use std::collections::BTreeSet;
use std::time::Instant;

pub use build::{BuildOptions, Export, ExportKind, ExportObject};
pub use inventory::Inventory;

use crate::api::{MembershipMode, OrganizationKind, OrganizationRef};
use crate::cli::{ExportArgs, ExportKindArg, ExportMembershipMode};

/// The kinds asked for (all when none are named).
pub fn kinds(args: &[ExportKindArg]) -> BTreeSet<ExportKind> {
    let all = [
        ExportKindArg::Group,
        ExportKindArg::Membership,
        ExportKindArg::Authorization,
        ExportKindArg::RoleAssignment,
    ];
    let chosen = if args.is_empty() { &all[..] } else { args };
    chosen
        .iter()
        .map(|k| match k {
            ExportKindArg::Group => ExportKind::Group,
            ExportKindArg::Membership => ExportKind::Membership,
            ExportKindArg::Authorization => ExportKind::Authorization,
            ExportKindArg::RoleAssignment => ExportKind::RoleAssignment,
        })
        .collect()
}

/// The build options of `args` for an organization named `organization`.
pub fn build_options(args: &ExportArgs, organization: &str) -> BuildOptions {
    BuildOptions {
        namespace: args.namespace.clone(),
        organization_ref: OrganizationRef {
            kind: if args.namespaced_organization {
                OrganizationKind::DevOpsOrganization
            } else {
                OrganizationKind::ClusterDevOpsOrganization
            },
            name: args
                .organization_ref
                .clone()
                .unwrap_or_else(|| names::slug(organization)),
        },
        membership_mode: match args.membership_mode {
            ExportMembershipMode::Additive => MembershipMode::Additive,
            ExportMembershipMode::Exclusive => MembershipMode::Exclusive,
        },
        kinds: kinds(&args.kinds),
        group_patterns: args.groups.clone(),
        include_protected: args.include_protected,
    }
}

/// What one export did.
#[derive(Debug, Clone)]
pub struct Summary {
    pub export: Export,
    /// Azure DevOps requests sent (retries included).
    pub requests: u64,
    pub seconds: f64,
}

impl Summary {
    /// `exported 57 objects (12 DevOpsGroup, 30 DevOpsMembership, 14 PipelineResourceAuthorization, 1 DevOpsRoleAssignment) from contoso: 85 requests in 0.4 s`
    pub fn line(&self, organization: &str) -> String {
        format!(
            "exported {} objects ({} DevOpsGroup, {} DevOpsMembership, {} PipelineResourceAuthorization, {} DevOpsRoleAssignment) from {organization}: {} requests in {:.1} s",
            self.export.objects.len(),
            self.export.count("DevOpsGroup"),
            self.export.count("DevOpsMembership"),
            self.export.count("PipelineResourceAuthorization"),
            self.export.count("DevOpsRoleAssignment"),
            self.requests,
            self.seconds
        )
    }
}

/// Read and build (no writing): what `run` writes, plus the counts. Secrets are read through
/// `env`.
pub async fn export(
    args: &ExportArgs,
    env: impl Fn(&str) -> Option<String>,
    progress: &progress::Progress,
) -> anyhow::Result<(Summary, String)> {
    let started = Instant::now();
    let (client, metrics) = connect::client(args, env).await?;
    let organization = client.organization().to_string();
    let options = build_options(args, &organization);
    let read_options = read::ReadOptions {
        projects: args.projects.clone(),
        kinds: options.kinds.clone(),
        concurrency: args.concurrency,
    };
    let inventory = read::read(&client, &read_options, progress).await?;
    let export = build::build(&inventory, &options, !args.projects.is_empty());
    Ok((
        Summary {
            export,
            requests: metrics.requests_sent(),
            seconds: started.elapsed().as_secs_f64(),
        },
        organization,
    ))
}

/// `azdo-operator export`: read, build, write; notes and the summary line on stderr.
pub async fn run(args: ExportArgs) -> anyhow::Result<()> {
    let progress = progress::Progress::for_stderr();
    let (summary, organization) = export(&args, |name| std::env::var(name).ok(), &progress).await?;
    match &args.out_dir {
        Some(dir) => write::to_dir(&summary.export.objects, dir)?,
        None => write::to_writer(&summary.export.objects, &mut std::io::stdout().lock())?,
    }
    for note in &summary.export.notes {
        eprintln!("note: {note}");
    }
    eprintln!("{}", summary.line(&organization));
    Ok(())
}
