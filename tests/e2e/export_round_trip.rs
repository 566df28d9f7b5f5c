//! The adoption round trip (issue 20): export the simulator's seeded organization with
//! `azdo-operator export`, apply the export to the cluster under an organization that grants
//! the namespace what the objects need, and every object becomes Ready with reason `InSync`
//! while the simulator's request log shows zero writes. Then one object is edited and switched
//! to Manage: only that edit is written.

use std::collections::BTreeSet;
use std::time::Duration;

use azdo_operator::api::{AllowedNamespaces, Grant, ResourceGrant, RoleGrant};
use azdo_operator::cli::{Cli, Command};
use azdo_operator::export::{self, progress::Progress};
use azdo_operator::reason::Reason;
use azdo_sim::Simulator;
use clap::Parser;
use kube::api::DynamicObject;

use crate::operator_env::{sim_snapshot, OperatorEnv, TestResult};
use crate::support::kit::{Check, Ready, ToObject};

const WAIT: Duration = Duration::from_secs(90);
/// The seed identity's PAT (the identity the operator's workload identity also maps to).
const PAT: &str = "simoperatorpat0000000000000000000000000000000000000000";

/// Requests that change Azure DevOps: every PUT, PATCH and DELETE, and every POST except the
/// Graph batch reads (`subjectlookup`, `subjectquery`) and Entra's token endpoint.
/// (Materializing a user or service principal, `POST graph/users`, adds it to the
/// organization: a write.)
fn writes(sim: &Simulator) -> Vec<String> {
    sim.control()
        .requests()
        .requests
        .into_iter()
        .filter(|r| match r.method.as_str() {
            "GET" | "HEAD" | "OPTIONS" => false,
            "POST" => {
                !(r.route.ends_with("/subjectlookup")
                    || r.route.ends_with("/subjectquery")
                    || r.host == azdo_sim::HostKind::Login)
            }
            _ => true,
        })
        .map(|r| format!("{} {}", r.method, r.path))
        .collect()
}

/// `azdo-operator export` of the whole organization into the test's namespace, referring to
/// the cluster organization `organization`, as objects to apply.
async fn export_objects(env: &OperatorEnv, organization: &str) -> TestResult<Vec<DynamicObject>> {
    let ca = env.dir.join("export-ca.pem");
    std::fs::write(&ca, env.sim.ca_pem())?;
    let (url, graph) = (env.org_url(), env.graph_url());
    let argv = [
        "azdo-operator",
        "export",
        "--url",
        &url,
        "--graph-url",
        &graph,
        "--ca-file",
        ca.to_str().ok_or("a UTF-8 path")?,
        "--namespace",
        &env.namespace,
        "--organization-ref",
        organization,
    ];
    let Command::Export(args) = Cli::try_parse_from(argv)?.command else {
        return Err("expected export".into());
    };
    let pat = |name: &str| (name == "AZDO_PAT").then(|| PAT.to_string());
    let (summary, _) = export::export(&args, pat, &Progress::new(false))
        .await
        .map_err(|e| format!("{e:#}"))?;
    eprintln!("{}", summary.line("contoso"));
    let mut objects = Vec::new();
    for object in &summary.export.objects {
        objects.push(serde_yaml::from_str::<DynamicObject>(&object.to_yaml()?)?);
    }
    Ok(objects)
}

/// Everything the export needs: every project, organization groups, adopting existing groups
/// and adding to their members, every protected resource's authorizations, allPipelines, and
/// role assignments (none in the seed).
fn adoption_grant(namespace: &str) -> Grant {
    Grant {
        namespaces: Some(AllowedNamespaces {
            names: vec![namespace.to_string()],
            selector: None,
        }),
        projects: vec!["*".into()],
        organization_scope: true,
        groups: vec!["*".into()],
        pipeline_resources: vec![ResourceGrant {
            type_: None,
            project: None,
            names: vec!["*".into()],
        }],
        all_pipelines: true,
        role_assignments: vec![RoleGrant {
            names: vec!["*".into()],
            ..RoleGrant::default()
        }],
        ..Grant::default()
    }
}

/// Every object Ready=True with reason `InSync` for its current generation.
async fn wait_in_sync(env: &OperatorEnv, objects: &[DynamicObject]) -> TestResult {
    let client = env.client().await?;
    crate::support::kit::wait::until("every exported object Ready InSync", WAIT, || async {
        let mut pending = Vec::new();
        for obj in objects {
            let current = crate::support::kit::objects::get(&client, obj).await?;
            match Ready::of(&current) {
                Some(r) if r.is_true() && r.has(Reason::InSync) => {}
                other => pending.push(format!(
                    "{}: {other:?}",
                    crate::support::kit::objects::describe(obj)
                )),
            }
        }
        Ok(if pending.is_empty() {
            Check::Done(())
        } else {
            Check::NotYet(format!("{pending:#?}"))
        })
    })
    .await
}

#[tokio::test]
async fn an_exported_organization_applies_in_observe_with_zero_writes_and_one_edit_is_written_alone(
) -> TestResult {
    let mut env = OperatorEnv::start("export").await?;
    env.start_operator(&["--resync-interval", "3s", "--resync-jitter", "0"])
        .await?;
    let fixtures = env.fixtures().isolated();
    let org = fixtures
        .cluster_organization_granting(vec![adoption_grant(&env.namespace)])
        .object();
    env.apply(std::slice::from_ref(&org)).await?;
    env.wait_ready(std::slice::from_ref(&org), "True", WAIT)
        .await?;

    let objects = export_objects(&env, &fixtures.cluster_organization).await?;
    let kinds: BTreeSet<&str> = objects
        .iter()
        .filter_map(|o| o.types.as_ref().map(|t| t.kind.as_str()))
        .collect();
    assert_eq!(
        kinds,
        BTreeSet::from([
            "DevOpsGroup",
            "DevOpsMembership",
            "PipelineResourceAuthorization"
        ])
    );
    let before = sim_snapshot(&env.sim);
    env.sim.control().clear_requests();
    env.apply(&objects).await?;
    wait_in_sync(&env, &objects).await?;
    // A few more resyncs: steady state stays read-only too.
    tokio::time::sleep(Duration::from_secs(7)).await;
    assert_eq!(
        writes(&env.sim),
        Vec::<String>::new(),
        "Observe writes nothing"
    );
    assert_eq!(sim_snapshot(&env.sim), before);

    // Edit one membership (one more member) and switch it to Manage: only that member is added.
    let name = "storefront-release-approvers-members";
    let mut edited = objects
        .iter()
        .find(|o| o.metadata.name.as_deref() == Some(name))
        .ok_or("the export has the Release Approvers membership")?
        .clone();
    let spec = edited.data["spec"].as_object_mut().ok_or("a spec")?;
    spec["members"]
        .as_array_mut()
        .ok_or("members")?
        .push(serde_json::json!({"user": "alex.wilber@contoso.com"}));
    // Still observed: the edit is reported as drift, not written.
    env.apply(std::slice::from_ref(&edited)).await?;
    env.wait_for_reason(&edited, Reason::DriftDetected, WAIT)
        .await?;
    let observed = env.get(&edited).await?;
    assert_eq!(observed.data["status"]["drift"]["count"], 1, "{observed:?}");
    assert_eq!(
        writes(&env.sim),
        Vec::<String>::new(),
        "drift is not written"
    );
    edited.data["spec"]["managementPolicy"] = "Manage".into();
    env.sim.control().clear_requests();
    env.apply(std::slice::from_ref(&edited)).await?;
    env.wait_ready(std::slice::from_ref(&edited), "True", WAIT)
        .await?;
    let others: Vec<DynamicObject> = objects
        .iter()
        .filter(|o| o.metadata.name.as_deref() != Some(name))
        .cloned()
        .collect();
    tokio::time::sleep(Duration::from_secs(7)).await;
    wait_in_sync(&env, &others).await?;

    let after = sim_snapshot(&env.sim);
    let lines = |v: &serde_json::Value, key: &str| -> BTreeSet<String> {
        v[key]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|l| l.as_str().map(str::to_string))
            .collect()
    };
    let added: Vec<String> = lines(&after, "memberships")
        .difference(&lines(&before, "memberships"))
        .cloned()
        .collect();
    assert_eq!(
        added,
        vec![r"[Storefront]\Release Approvers <- alex.wilber@contoso.com".to_string()]
    );
    assert!(lines(&before, "memberships").is_subset(&lines(&after, "memberships")));
    for key in ["groups", "permissions", "roles"] {
        assert_eq!(after[key], before[key], "{key} unchanged");
    }
    let written = writes(&env.sim);
    let membership_puts: Vec<&String> = written
        .iter()
        .filter(|w| w.starts_with("PUT ") && w.contains("/_apis/graph/memberships/"))
        .collect();
    assert_eq!(membership_puts.len(), 1, "{written:#?}");
    assert!(
        written.iter().all(
            |w| w.starts_with("PUT ") && w.contains("/_apis/graph/memberships/")
                || w.starts_with("POST ") && w.contains("/_apis/graph/users")
        ),
        "only the edit (materialize alex, add alex) is written: {written:#?}"
    );
    Ok(())
}
