//! `azdo-operator export` against the simulator: the default seed exported completely and
//! correctly (every exportable group, every membership edge, every authorization; names and
//! groupRefs), output that parses back as the API types and validates against the CRDs, a
//! read-only request log, and the request count and time for the default seed and for a
//! generated seed of 2,000 groups.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use azdo_operator::ado::{RoleGrantRef, RoleScope};
use azdo_operator::api::{
    all_crds, DevOpsGroup, DevOpsMembership, DevOpsRoleAssignment, PipelineResourceAuthorization,
    DEFAULT_PROTECTED_GROUPS,
};
use azdo_operator::cli::{Cli, Command, ExportArgs};
use azdo_operator::export::{self, names, progress::Progress, write, Summary};
use azdo_sim::model::subjects::{GroupScope, Origin, SubjectKind};
use azdo_sim::{Seed, SimOptions, Simulator};
use clap::Parser;
use serde::Deserialize;

use crate::support::{
    temp_dir, Harness, OPERATOR_CLIENT_ID, OPERATOR_PAT, OPERATOR_SECRET, ORG, TENANT_ID,
};

/// Export flags pointing at `sim` (its URLs and CA), plus `extra`.
fn args(sim: &Simulator, extra: &[&str]) -> ExportArgs {
    let dir = temp_dir("export");
    let ca = dir.join("ca.pem");
    std::fs::write(&ca, sim.ca_pem()).unwrap();
    let url = format!("{}/{ORG}", sim.dev_url());
    let graph = format!("{}/{ORG}", sim.vssps_url());
    let login = sim.login_url();
    let mut argv: Vec<&str> = vec![
        "azdo-operator",
        "export",
        "--url",
        &url,
        "--graph-url",
        &graph,
        "--ca-file",
        ca.to_str().unwrap(),
        "--authority-host",
        &login,
        "--namespace",
        "platform",
    ];
    argv.extend_from_slice(extra);
    match Cli::try_parse_from(argv)
        .expect("export flags parse")
        .command
    {
        Command::Export(args) => *args,
        _ => unreachable!(),
    }
}

fn pat_env(name: &str) -> Option<String> {
    (name == "AZDO_PAT").then(|| OPERATOR_PAT.to_string())
}

/// Run an export; the stream it would print, parsed as YAML documents (each validated
/// against its CRD's schema and parsed back as its API type).
async fn run(
    args: &ExportArgs,
    env: impl Fn(&str) -> Option<String>,
) -> (Summary, Vec<serde_json::Value>) {
    let (summary, organization) = export::export(args, env, &Progress::new(false))
        .await
        .expect("the export succeeds");
    assert_eq!(organization, ORG);
    let stream = write::stream(&summary.export.objects).unwrap();
    let crds: HashMap<String, jsonschema::Validator> = all_crds()
        .into_iter()
        .map(|crd| {
            let schema = serde_json::to_value(
                &crd.spec.versions[0]
                    .schema
                    .as_ref()
                    .unwrap()
                    .open_api_v3_schema,
            )
            .unwrap();
            (
                crd.spec.names.kind.clone(),
                jsonschema::validator_for(&schema).unwrap(),
            )
        })
        .collect();
    let mut docs = Vec::new();
    for document in serde_yaml::Deserializer::from_str(&stream) {
        let value: serde_json::Value = serde_json::Value::deserialize(document).unwrap();
        let kind = value["kind"].as_str().unwrap().to_string();
        let errors: Vec<String> = crds[&kind]
            .iter_errors(&value)
            .map(|e| e.to_string())
            .collect();
        assert!(
            errors.is_empty(),
            "{kind} does not match its CRD: {errors:?}"
        );
        match kind.as_str() {
            "DevOpsGroup" => drop(serde_json::from_value::<DevOpsGroup>(value.clone()).unwrap()),
            "DevOpsMembership" => {
                drop(serde_json::from_value::<DevOpsMembership>(value.clone()).unwrap())
            }
            "PipelineResourceAuthorization" => drop(
                serde_json::from_value::<PipelineResourceAuthorization>(value.clone()).unwrap(),
            ),
            "DevOpsRoleAssignment" => {
                drop(serde_json::from_value::<DevOpsRoleAssignment>(value.clone()).unwrap())
            }
            other => panic!("unexpected kind {other}"),
        }
        let name = value["metadata"]["name"].as_str().unwrap();
        assert!(names::is_dns_label(name), "{name}");
        assert_eq!(value["metadata"]["namespace"], "platform");
        assert_eq!(value["spec"]["managementPolicy"], "Observe", "{name}");
        assert_eq!(value["spec"]["deletionPolicy"], "Orphan", "{name}");
        docs.push(value);
    }
    assert_eq!(docs.len(), summary.export.objects.len());
    (summary, docs)
}

fn of_kind<'a>(
    docs: &'a [serde_json::Value],
    kind: &str,
) -> BTreeMap<String, &'a serde_json::Value> {
    docs.iter()
        .filter(|d| d["kind"] == kind)
        .map(|d| (d["metadata"]["name"].as_str().unwrap().to_string(), d))
        .collect()
}

fn member_keys(doc: &serde_json::Value) -> BTreeSet<String> {
    doc["spec"]["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            let (k, v) = m.as_object().unwrap().iter().next().unwrap();
            match v {
                serde_json::Value::Object(r) => format!("{k}:{}", r["name"].as_str().unwrap()),
                other => format!("{k}:{}", other.as_str().unwrap()),
            }
        })
        .collect()
}

/// Only reads: GETs, and the POST of `subjectlookup` (a batch read).
fn assert_read_only(sim: &Simulator) {
    for record in sim.control().requests().requests {
        assert!(
            record.method == "GET"
                || (record.method == "POST" && record.route.ends_with("/subjectlookup"))
                || record.host == azdo_sim::HostKind::Login,
            "export wrote: {} {}",
            record.method,
            record.path
        );
    }
}

#[tokio::test]
async fn the_default_seed_exports_every_group_membership_and_authorization() {
    let h = Harness::start().await;
    h.sim.control().clear_requests();
    let (summary, docs) = run(&args(&h.sim, &[]), pat_env).await;
    let log = h.sim.control().requests();
    eprintln!(
        "default seed: {} ({} requests in the simulator's log)",
        summary.line(ORG),
        log.total
    );
    assert_eq!(summary.requests, log.total, "every request is counted once");
    assert_read_only(&h.sim);

    // What the export should find, from the simulator's own state.
    let state = h.sim.control().state();
    let org = &state.organizations[0];
    let subjects: HashMap<&str, _> = org
        .subjects
        .iter()
        .map(|s| (s.descriptor.as_str(), s))
        .collect();
    let mut protected: HashSet<&str> = org
        .subjects
        .iter()
        .filter(|s| {
            s.is_group()
                && DEFAULT_PROTECTED_GROUPS
                    .iter()
                    .any(|p| p.eq_ignore_ascii_case(&s.display_name))
        })
        .map(|s| s.descriptor.as_str())
        .collect();
    loop {
        let nested: Vec<&str> = org
            .memberships
            .iter()
            .filter(|m| protected.contains(m.container.as_str()))
            .map(|m| m.member.as_str())
            .filter(|m| subjects[m].is_group() && !protected.contains(m))
            .collect();
        if nested.is_empty() {
            break;
        }
        protected.extend(nested);
    }
    let scope_name = |scope: GroupScope| match scope {
        GroupScope::Organization => ORG.to_string(),
        GroupScope::Project(id) => org
            .projects
            .iter()
            .find(|p| p.id == id)
            .unwrap()
            .name
            .clone(),
    };
    // Azure DevOps groups the operator may manage (built in or not).
    let manageable: Vec<_> = org
        .subjects
        .iter()
        .filter(|s| s.is_group() && s.origin == Origin::Vsts && !s.deleted)
        .filter(|s| !protected.contains(s.descriptor.as_str()))
        .filter(|s| {
            let n = s.display_name.to_lowercase();
            !n.ends_with("valid users") && !n.ends_with("service accounts")
        })
        .collect();

    // Groups: every custom group that is not protected, named `{scope}-{name}`.
    let groups = of_kind(&docs, "DevOpsGroup");
    assert_eq!(
        groups.keys().map(String::as_str).collect::<Vec<_>>(),
        [
            "contoso-auditors",
            "payments-compliance",
            "storefront-frontend",
            "storefront-release-approvers"
        ],
        "Platform Admins is nested in [Platform]\\Project Administrators: protected, left out"
    );
    let mut group_object: HashMap<&str, String> = HashMap::new();
    for group in manageable.iter().filter(|g| !g.built_in) {
        let scope = scope_name(group.scope);
        let name = names::join(&[&scope, &group.display_name]);
        let doc = groups
            .get(&name)
            .unwrap_or_else(|| panic!("{name} exported"));
        assert_eq!(doc["spec"]["displayName"], group.display_name.as_str());
        match group.scope {
            GroupScope::Organization => assert!(doc["spec"].get("project").is_none()),
            GroupScope::Project(_) => assert_eq!(doc["spec"]["project"], scope.as_str()),
        }
        group_object.insert(group.descriptor.as_str(), name);
    }
    assert_eq!(group_object.len(), groups.len());

    // Memberships: one per manageable group with members, listing every direct member.
    let memberships = of_kind(&docs, "DevOpsMembership");
    let mut expected_memberships = 0;
    for group in &manageable {
        let edges: Vec<&str> = org
            .memberships
            .iter()
            .filter(|m| m.container == group.descriptor)
            .map(|m| m.member.as_str())
            .collect();
        if edges.is_empty() {
            continue;
        }
        expected_memberships += 1;
        let scope = scope_name(group.scope);
        let name = names::join(&[&scope, &group.display_name, "members"]);
        let doc = memberships
            .get(&name)
            .unwrap_or_else(|| panic!("{name} exported"));
        match group_object.get(group.descriptor.as_str()) {
            Some(object) => assert_eq!(doc["spec"]["group"]["groupRef"]["name"], object.as_str()),
            None => assert_eq!(
                doc["spec"]["group"]["principalName"],
                group.principal_name.as_str()
            ),
        }
        let expected: BTreeSet<String> = edges
            .iter()
            .map(|d| {
                let s = subjects[d];
                match (s.kind, s.origin) {
                    (SubjectKind::User, _) => format!("user:{}", s.principal_name),
                    (SubjectKind::ServicePrincipal, _) => {
                        format!("servicePrincipal:{}", s.origin_id)
                    }
                    (SubjectKind::Group, Origin::Aad) => format!("entraGroup:{}", s.origin_id),
                    (SubjectKind::Group, Origin::Vsts) => match group_object.get(d) {
                        Some(object) => format!("groupRef:{object}"),
                        None => format!("group:{}", s.principal_name),
                    },
                }
            })
            .collect();
        assert_eq!(member_keys(doc), expected, "{name}");
        assert_eq!(doc["spec"]["mode"], "Additive");
    }
    assert_eq!(memberships.len(), expected_memberships);

    // Authorizations: one per resource with an authorized pipeline (or open to all).
    let authorizations = of_kind(&docs, "PipelineResourceAuthorization");
    let mut expected_authorizations = 0;
    for project in &org.projects {
        for permission in &project.permissions {
            let pipelines: BTreeSet<String> = permission
                .pipelines
                .iter()
                .filter(|p| p.history.latest().is_some_and(|v| v.authorized))
                .map(|p| {
                    let pipeline = project
                        .pipelines
                        .iter()
                        .find(|x| x.id == p.pipeline_id)
                        .unwrap();
                    pipeline.name.clone()
                })
                .collect();
            let all = permission
                .all_pipelines
                .latest()
                .is_some_and(|v| v.authorized);
            if pipelines.is_empty() && !all {
                continue;
            }
            expected_authorizations += 1;
            let kind = permission.resource_type.wire_name();
            let found: Vec<_> = authorizations
                .values()
                .filter(|d| d["spec"]["project"] == project.name.as_str())
                .filter(|d| d["spec"]["resource"]["type"] == kind)
                .filter(|d| {
                    let name = d["spec"]["resource"]["name"].as_str().unwrap();
                    resource_id(project, kind, name) == permission.resource_id
                })
                .collect();
            assert_eq!(
                found.len(),
                1,
                "{} {kind} {}",
                project.name,
                permission.resource_id
            );
            let listed: BTreeSet<String> = found[0]["spec"]["pipelines"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| p["name"].as_str().unwrap().to_string())
                .collect();
            assert_eq!(listed, pipelines);
            assert_eq!(found[0]["spec"].get("allPipelines").is_some(), all);
        }
    }
    assert!(expected_authorizations >= 4);
    assert_eq!(authorizations.len(), expected_authorizations);
    assert!(authorizations.contains_key("storefront-queue-default"));
}

#[tokio::test]
async fn explicit_role_assignments_are_exported_with_their_holders_named() {
    let h = Harness::start().await;
    let c = h.pat_client().await;
    let project = c.project("Storefront").await.unwrap().id;
    let production = RoleScope::Environment
        .resource_id(Some(&project), "2")
        .unwrap();
    let alex = c.resolve_user("alex.wilber@contoso.com").await.unwrap();
    let approvers = c
        .resolve_group_by_principal_name(r"[Storefront]\Release Approvers")
        .await
        .unwrap();
    let grants = [
        RoleGrantRef {
            role_name: "User".into(),
            user_id: c.storage_key(&alex).await.unwrap(),
        },
        RoleGrantRef {
            role_name: "Reader".into(),
            user_id: c.storage_key(&approvers.descriptor).await.unwrap(),
        },
    ];
    c.set_role_assignments(RoleScope::Environment, &production, &grants)
        .await
        .unwrap();
    h.sim.control().clear_requests();
    let (_, docs) = run(
        &args(
            &h.sim,
            &["--project", "Storefront", "--kinds", "group,roles"],
        ),
        pat_env,
    )
    .await;
    assert_read_only(&h.sim);
    let roles = of_kind(&docs, "DevOpsRoleAssignment");
    assert_eq!(
        roles.keys().map(String::as_str).collect::<Vec<_>>(),
        ["storefront-environment-storefront-production-roles"],
        "only the resource with explicit assignments"
    );
    let spec = &roles["storefront-environment-storefront-production-roles"]["spec"];
    assert_eq!(spec["project"], "Storefront");
    assert_eq!(spec["resource"]["type"], "environment");
    assert_eq!(spec["resource"]["name"], "storefront-production");
    assert_eq!(spec["mode"], "Additive");
    assert_eq!(
        spec["assignments"],
        serde_json::json!([
            {"role": "Reader", "members": [{"groupRef": {"name": "storefront-release-approvers"}}]},
            {"role": "User", "members": [{"user": "alex.wilber@contoso.com"}]},
        ])
    );
}

/// The simulator's id of a project's resource, by type and name.
fn resource_id(project: &azdo_sim::model::resources::Project, kind: &str, name: &str) -> String {
    let eq = |n: &str| n.eq_ignore_ascii_case(name);
    match kind {
        "queue" => project
            .queues
            .iter()
            .find(|r| eq(&r.name))
            .unwrap()
            .id
            .to_string(),
        "environment" => project
            .environments
            .iter()
            .find(|r| eq(&r.name))
            .unwrap()
            .id
            .to_string(),
        "variablegroup" => project
            .variable_groups
            .iter()
            .find(|r| eq(&r.name))
            .unwrap()
            .id
            .to_string(),
        "securefile" => project
            .secure_files
            .iter()
            .find(|r| eq(&r.name))
            .unwrap()
            .id
            .to_string(),
        "endpoint" => project
            .service_endpoints
            .iter()
            .find(|r| eq(&r.name))
            .unwrap()
            .id
            .to_string(),
        "repository" => {
            let repo = project.repositories.iter().find(|r| eq(&r.name)).unwrap();
            format!("{}.{}", project.id, repo.id)
        }
        other => panic!("no resource type {other} in a project"),
    }
}

#[tokio::test]
async fn a_client_secret_export_of_one_project_filtered_by_kind_and_group() {
    let h = Harness::start().await;
    let a = args(
        &h.sim,
        &[
            "--auth",
            "client-secret",
            "--tenant-id",
            TENANT_ID,
            "--client-id",
            OPERATOR_CLIENT_ID,
            "--project",
            "storefront",
            "--kinds",
            "group,membership",
            "--group",
            "release*",
            "--membership-mode",
            "exclusive",
            "--organization-ref",
            "contoso-org",
        ],
    );
    let env = |name: &str| (name == "AZURE_CLIENT_SECRET").then(|| OPERATOR_SECRET.to_string());
    let (summary, docs) = run(&a, env).await;
    let names: Vec<&str> = docs
        .iter()
        .map(|d| d["metadata"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "storefront-release-approvers",
            "storefront-release-approvers-members"
        ]
    );
    assert_eq!(docs[1]["spec"]["mode"], "Exclusive");
    assert_eq!(docs[0]["spec"]["organizationRef"]["name"], "contoso-org");
    assert!(summary.line(ORG).starts_with("exported 2 objects"));
    assert_read_only(&h.sim);
    assert_eq!(
        h.token_requests(),
        1,
        "one Entra token for the whole export"
    );
}

#[tokio::test]
async fn an_identity_without_access_gets_a_clear_error() {
    let h = Harness::start().await;
    let a = args(&h.sim, &["--auth", "pat"]);
    let err = export::export(
        &a,
        |_| Some("not-a-real-pat-0000".into()),
        &Progress::new(false),
    )
    .await
    .expect_err("refused");
    let text = format!("{err:#}");
    assert!(text.contains("listing projects"), "{text}");
    assert!(
        !text.contains("not-a-real-pat"),
        "the secret is never printed: {text}"
    );
    let missing = export::export(&a, |_| None, &Progress::new(false))
        .await
        .expect_err("no PAT");
    assert!(format!("{missing:#}").contains("AZDO_PAT"), "{missing:#}");
}

/// The default seed with `groups` extra groups spread over its three projects, each with
/// three users, and the Graph page size set.
fn seed_with_groups(groups: usize, graph_page_size: usize) -> Seed {
    let mut seed: serde_yaml::Value = serde_yaml::from_str(Seed::default_seed_yaml()).unwrap();
    seed["behaviours"]["graphPageSize"] = graph_page_size.into();
    let users: Vec<String> = seed["directory"]["users"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|u| u["upn"].as_str().unwrap().to_string())
        .collect();
    let projects = seed["organizations"][0]["projects"]
        .as_sequence_mut()
        .unwrap();
    let count = projects.len();
    for i in 0..groups {
        let project = &mut projects[i % count];
        let members: Vec<serde_yaml::Value> = (0..3)
            .map(|k| users[(i + k * 7) % users.len()].clone().into())
            .collect();
        let mut group = serde_yaml::Mapping::new();
        group.insert("name".into(), format!("Team {i:04}").into());
        group.insert("members".into(), members.into());
        project["groups"]
            .as_sequence_mut()
            .unwrap()
            .push(group.into());
    }
    Seed::from_yaml(&serde_yaml::to_string(&seed).unwrap()).unwrap()
}

/// The numbers for the closing note: requests and time of an export of 2,000 groups (run
/// with `--nocapture` to see them), at the simulator's default Graph page size (5: the most
/// pages; a larger page size only saves group-listing pages).
#[tokio::test]
async fn a_seed_of_2000_groups_is_exported_completely() {
    for page_size in [5] {
        let sim = Simulator::start(seed_with_groups(2000, page_size), SimOptions::default())
            .await
            .unwrap();
        let (summary, docs) = run(&args(&sim, &[]), pat_env).await;
        let log = sim.control().requests();
        eprintln!(
            "2,000 extra groups, Graph page size {page_size}: {} (simulator log: {} requests)",
            summary.line(ORG),
            log.total
        );
        assert_eq!(summary.requests, log.total);
        assert_read_only(&sim);
        let groups = of_kind(&docs, "DevOpsGroup");
        let memberships = of_kind(&docs, "DevOpsMembership");
        assert_eq!(groups.len(), 2000 + 4);
        assert_eq!(memberships.len(), 2000 + 8);
        for i in [0usize, 1, 999, 1999] {
            let project = ["storefront", "payments", "platform"][i % 3];
            let name = format!("{project}-team-{i:04}");
            assert!(groups.contains_key(&name), "{name}");
            assert_eq!(
                member_keys(memberships[&format!("{name}-members")]).len(),
                3
            );
        }
        sim.shutdown().await;
    }
}
