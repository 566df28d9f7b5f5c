//! Faults and bad input (issue 9): Azure DevOps 5xx bursts, dropped connections, latency
//! spikes and eventual-consistency lag; an Entra outage; semantic errors that must end as a
//! precise Ready=False and touch nothing; and secrets that must never show up in logs, Events
//! or status.

use std::time::{Duration, Instant};

use azdo_sim::{Faults, Latency};
use k8s_openapi::api::core::v1::{Event, Secret};
use kube::api::{Api, ListParams, PostParams};
use serde_yaml::Value;

use crate::operator_env::{dynamic_api, ready_of, OperatorEnv, TestResult};
use crate::sim_api::{groups_named, members_of};

fn manifest(env: &OperatorEnv, text: &str) -> Value {
    let mut v: Value = serde_yaml::from_str(text).expect("manifest");
    env.localize(&mut v);
    v
}

fn organization(env: &OperatorEnv) -> Value {
    manifest(env, "apiVersion: azdo.io/v1alpha1\nkind: ClusterDevOpsOrganization\nmetadata: {name: contoso}\nspec:\n  url: x\n  auth: {workloadIdentity: {}}")
}

async fn ready(env: &OperatorEnv, doc: &Value) -> TestResult<Option<(String, String, String)>> {
    let obj: kube::api::DynamicObject = serde_yaml::from_value(doc.clone())?;
    let api = dynamic_api(&env.client().await?, &obj)?;
    Ok(ready_of(
        &api.get(&kube::ResourceExt::name_any(&obj)).await?,
    ))
}

async fn wait_reason(
    env: &OperatorEnv,
    doc: &Value,
    want: &str,
    timeout: Duration,
) -> TestResult<String> {
    let deadline = Instant::now() + timeout;
    loop {
        let current = ready(env, doc).await?;
        if let Some((_, reason, message)) = &current {
            if reason == want {
                return Ok(message.clone());
            }
        }
        if Instant::now() > deadline {
            return Err(
                format!("waited for reason {want}, have {current:?}\n{}", env.tail()).into(),
            );
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn samples_converge_through_5xx_dropped_connections_latency_and_lag() -> TestResult {
    let mut env = OperatorEnv::start("faults").await?;
    env.create_team_service_account().await?;
    env.sim.control().set_faults(Faults {
        latency: Some(Latency {
            fixed_ms: 20,
            jitter_ms: 200,
        }),
        error_rate: 0.2,
        error_status: 503,
        drop_rate: 0.05,
        consistency_lag_ms: 1500,
        ..Faults::default()
    });
    env.start_operator(&["--resync-interval", "5s"]).await?;
    let samples = env.samples()?;
    env.apply(&samples).await?;
    env.wait_ready(&samples, "True", Duration::from_secs(120))
        .await?;
    let total = env.sim.control().requests().total;
    // Let a few resyncs run under the same faults: nothing may drift or duplicate.
    tokio::time::sleep(Duration::from_secs(8)).await;
    env.sim.control().set_faults(Faults::default());
    let operators = groups_named(&env, "[Storefront]\\Storefront Operators");
    assert_eq!(operators.len(), 1, "no duplicate groups");
    assert_eq!(
        members_of(&env, &operators[0].0).len(),
        4,
        "no lost or extra members"
    );
    let contributors =
        crate::sim_api::descriptor_of(&env, "[Storefront]\\Contributors").ok_or("contributors")?;
    let members = members_of(&env, &contributors);
    assert_eq!(
        members
            .iter()
            .filter(|m| m.contains("Storefront Operators") || m.contains("christie"))
            .count(),
        2,
        "{members:?}"
    );
    assert!(
        total < 1500,
        "backoff kept the request count bounded: {total} requests to converge"
    );
    eprintln!("converged under faults with {total} requests");
    let (orgs, others): (Vec<_>, Vec<_>) = samples.iter().cloned().partition(|d| {
        d["kind"]
            .as_str()
            .is_some_and(|k| k.ends_with("DevOpsOrganization"))
    });
    env.delete_and_wait(&others, Duration::from_secs(60))
        .await?;
    env.delete_and_wait(&orgs, Duration::from_secs(30)).await?;
    assert!(groups_named(&env, "[Storefront]\\Storefront Operators").is_empty());
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_entra_outage_is_reported_and_recovered_from() -> TestResult {
    let mut env = OperatorEnv::start("outage").await?;
    env.sim.control().set_faults(Faults {
        token_outage: true,
        ..Faults::default()
    });
    env.start_operator(&[]).await?;
    let org = organization(&env);
    env.apply(std::slice::from_ref(&org)).await?;
    let message = wait_reason(&env, &org, "AuthenticationFailed", Duration::from_secs(60)).await?;
    assert!(
        message.contains("temporarily_unavailable") || message.contains("503"),
        "{message}"
    );
    env.sim.control().set_faults(Faults::default());
    let started = Instant::now();
    env.wait_ready(std::slice::from_ref(&org), "True", Duration::from_secs(60))
        .await?;
    eprintln!("recovered {:?} after the outage ended", started.elapsed());
    env.delete_and_wait(&[org], Duration::from_secs(20)).await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn semantic_errors_end_with_a_precise_reason_and_touch_nothing() -> TestResult {
    let mut env = OperatorEnv::start("semantic").await?;
    env.start_operator(&[]).await?;
    let org = organization(&env);
    let no_project = manifest(&env, "apiVersion: azdo.io/v1alpha1\nkind: DevOpsGroup\nmetadata: {name: no-project}\nspec:\n  organizationRef: {name: contoso}\n  project: Atlantis\n  displayName: Sailors");
    let self_member = manifest(&env, "apiVersion: azdo.io/v1alpha1\nkind: DevOpsMembership\nmetadata: {name: self}\nspec:\n  organizationRef: {name: contoso}\n  group: {principalName: '[Storefront]\\Frontend'}\n  members: [{group: '[Storefront]\\Frontend'}]");
    let unknown_pipeline = manifest(&env, "apiVersion: azdo.io/v1alpha1\nkind: PipelineResourceAuthorization\nmetadata: {name: no-pipeline}\nspec:\n  organizationRef: {name: contoso}\n  project: Storefront\n  resource: {type: environment, name: storefront-staging}\n  pipelines: [{name: does-not-exist}]");
    let unknown_resource = manifest(&env, "apiVersion: azdo.io/v1alpha1\nkind: PipelineResourceAuthorization\nmetadata: {name: no-resource}\nspec:\n  organizationRef: {name: contoso}\n  project: Storefront\n  resource: {type: variablegroup, name: nope}\n  pipelines: [{id: 16}]");
    let unknown_group = manifest(&env, "apiVersion: azdo.io/v1alpha1\nkind: DevOpsMembership\nmetadata: {name: no-group}\nspec:\n  organizationRef: {name: contoso}\n  group: {principalName: '[Storefront]\\Nobody Here'}\n  members: [{user: adele.vance@contoso.com}]");
    let cycle_a = manifest(&env, "apiVersion: azdo.io/v1alpha1\nkind: DevOpsMembership\nmetadata: {name: cycle-a}\nspec:\n  organizationRef: {name: contoso}\n  group: {groupRef: {name: ring-a}}\n  members: [{groupRef: {name: ring-b}}]");
    let before = crate::operator_env::sim_snapshot(&env.sim);
    let docs = [
        org.clone(),
        no_project.clone(),
        self_member.clone(),
        unknown_pipeline.clone(),
        unknown_resource.clone(),
        unknown_group.clone(),
        cycle_a.clone(),
    ];
    env.apply(&docs).await?;
    let cases = [
        (&no_project, "ProjectNotFound", "Atlantis"),
        (&self_member, "SelfMembership", "member of itself"),
        (&unknown_pipeline, "PipelineNotFound", "does-not-exist"),
        (&unknown_resource, "ResourceNotFound", "nope"),
        (&unknown_group, "GroupNotFound", "Nobody Here"),
        (&cycle_a, "GroupNotFound", "ring-a"),
    ];
    for (doc, reason, fragment) in cases {
        let message = wait_reason(&env, doc, reason, Duration::from_secs(30)).await?;
        assert!(message.contains(fragment), "{reason}: {message}");
    }
    // The valid organization is unaffected by its broken neighbours.
    env.wait_ready(std::slice::from_ref(&org), "True", Duration::from_secs(10))
        .await?;
    let after = crate::operator_env::sim_snapshot(&env.sim);
    assert_eq!(before["groups"], after["groups"], "no group created");
    assert_eq!(
        before["memberships"], after["memberships"],
        "no membership changed"
    );
    assert_eq!(
        before["permissions"], after["permissions"],
        "no authorization changed"
    );
    env.delete_and_wait(&docs[1..], Duration::from_secs(30))
        .await?;
    env.delete_and_wait(&[org], Duration::from_secs(20)).await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_and_tokens_never_appear_in_logs_events_or_status() -> TestResult {
    let mut env = OperatorEnv::start("secrets").await?;
    let client = env.client().await?;
    let pat = "simoperatorpat0000000000000000000000000000000000000000";
    let client_secret = "sim-operator-secret";
    let secrets: Api<Secret> = Api::namespaced(client.clone(), &env.namespace);
    for (name, key, value) in [
        ("azdo-pat", "token", pat),
        ("azdo-app", "clientSecret", client_secret),
    ] {
        let secret: Secret = serde_json::from_value(
            serde_json::json!({"metadata": {"name": name}, "stringData": {key: value}}),
        )?;
        secrets.create(&PostParams::default(), &secret).await?;
    }
    env.start_operator(&["--log-level", "debug"]).await?;
    let ns = env.namespace.clone();
    let pat_org = manifest(&env, "apiVersion: azdo.io/v1alpha1\nkind: DevOpsOrganization\nmetadata: {name: by-pat}\nspec:\n  url: x\n  auth: {pat: {secretRef: {name: azdo-pat}}}");
    let secret_org = manifest(&env, &format!("apiVersion: azdo.io/v1alpha1\nkind: ClusterDevOpsOrganization\nmetadata: {{name: by-secret-{ns}}}\nspec:\n  url: x\n  auth: {{clientSecret: {{tenantId: {}, clientId: 0b1c2d3e-4f5a-4b6c-8d7e-9f0a1b2c3d4e, secretRef: {{name: azdo-app, namespace: {ns}}}}}}}", env.tenant_id));
    let bad_pat = manifest(&env, "apiVersion: azdo.io/v1alpha1\nkind: DevOpsOrganization\nmetadata: {name: missing-secret}\nspec:\n  url: x\n  auth: {pat: {secretRef: {name: nothing-here}}}");
    let group = manifest(&env, "apiVersion: azdo.io/v1alpha1\nkind: DevOpsGroup\nmetadata: {name: via-pat}\nspec:\n  organizationRef: {kind: DevOpsOrganization, name: by-pat}\n  project: Storefront\n  displayName: Via Pat");
    env.apply(&[
        pat_org.clone(),
        secret_org.clone(),
        bad_pat.clone(),
        group.clone(),
    ])
    .await?;
    env.wait_ready(
        &[pat_org.clone(), secret_org.clone(), group.clone()],
        "True",
        Duration::from_secs(30),
    )
    .await?;
    let message = wait_reason(&env, &bad_pat, "SecretNotFound", Duration::from_secs(30)).await?;
    assert!(message.contains("nothing-here"), "{message}");
    let token = std::fs::read_to_string(env.dir.join("azure-identity-token"))?;
    let access_token = env.sim.control().issue_token("azdo-operator")?;
    let access_prefix = &access_token[..access_token.find('.').unwrap_or(20)]; // the JWT header is shared by every sim token
    let mut haystack = env.operator_log();
    let events: Api<Event> = Api::namespaced(client.clone(), &env.namespace);
    for e in events.list(&ListParams::default()).await? {
        haystack.push_str(&serde_json::to_string(&e)?);
    }
    for doc in [&pat_org, &secret_org, &bad_pat, &group] {
        let obj: kube::api::DynamicObject = serde_yaml::from_value(doc.clone())?;
        let api = dynamic_api(&client, &obj)?;
        haystack.push_str(&serde_json::to_string(
            &api.get(&kube::ResourceExt::name_any(&obj)).await?,
        )?);
    }
    assert!(haystack.len() > 1000, "there is something to search");
    for (what, needle) in [
        ("PAT", pat),
        ("client secret", client_secret),
        ("service account token", token.trim()),
        ("an access token", &format!("{access_prefix}.")),
    ] {
        assert!(
            !haystack.contains(needle),
            "the {what} leaked into logs, events or status"
        );
    }
    let base64_pat = base64::Engine::encode(
        &base64::engine::general_purpose::STANDARD,
        format!(":{pat}"),
    );
    assert!(
        !haystack.contains(&base64_pat),
        "the PAT's Basic header leaked"
    );
    env.delete_and_wait(
        &[group, bad_pat, pat_org, secret_org],
        Duration::from_secs(30),
    )
    .await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_ambiguous_pipeline_name_is_refused_and_a_path_settles_it() -> TestResult {
    // A second storefront-ci, in another folder: legal in Azure DevOps, ambiguous by name.
    let mut env = OperatorEnv::start_with_seed("ambiguous", |seed| {
        let pipelines = seed["organizations"][0]["projects"][0]["pipelines"]
            .as_sequence_mut()
            .ok_or("no Storefront pipelines in the seed")?;
        pipelines.push(serde_yaml::from_str(
            "{ id: 21, name: storefront-ci, path: '\\Legacy' }",
        )?);
        Ok(())
    })
    .await?;
    env.start_operator(&[]).await?;
    let org = organization(&env);
    let by_name = manifest(&env, "apiVersion: azdo.io/v1alpha1\nkind: PipelineResourceAuthorization\nmetadata: {name: ambiguous}\nspec:\n  organizationRef: {name: contoso}\n  project: Storefront\n  resource: {type: environment, name: storefront-production}\n  pipelines: [{name: storefront-ci}, {name: storefront-deploy}]");
    let before = crate::operator_env::sim_snapshot(&env.sim);
    env.apply(&[org.clone(), by_name.clone()]).await?;
    let message = wait_reason(&env, &by_name, "AmbiguousName", Duration::from_secs(30)).await?;
    assert!(
        message.contains("2 pipelines are named \"storefront-ci\"")
            && message.contains("\\CI")
            && message.contains("\\Legacy"),
        "{message}"
    );
    // The unambiguous pipeline is authorized; neither storefront-ci is.
    // storefront-production is environment 2 in the seed.
    let authorized = |env: &OperatorEnv| -> Vec<String> {
        crate::operator_env::sim_snapshot(&env.sim)["permissions"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|p| p.as_str())
            .filter(|p| p.starts_with("Storefront/environment/2:"))
            .map(str::to_string)
            .collect()
    };
    assert_eq!(
        authorized(&env),
        ["Storefront/environment/2: [18] all=false"]
    );
    assert_ne!(
        before["permissions"],
        crate::operator_env::sim_snapshot(&env.sim)["permissions"]
    );

    // A path settles it.
    let mut by_path = by_name.clone();
    by_path["spec"]["pipelines"][0]["path"] = Value::from("\\CI");
    env.apply(std::slice::from_ref(&by_path)).await?;
    env.wait_ready(
        std::slice::from_ref(&by_path),
        "True",
        Duration::from_secs(30),
    )
    .await?;
    assert_eq!(
        authorized(&env),
        ["Storefront/environment/2: [16, 18] all=false"]
    );
    env.delete_and_wait(&[by_path], Duration::from_secs(30))
        .await?;
    env.delete_and_wait(&[org], Duration::from_secs(20)).await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cycle_of_group_refs_is_refused_and_touches_nothing_else() -> TestResult {
    let mut env = OperatorEnv::start("cycle").await?;
    // No resync within the test: what wakes the refused memberships up is the watch.
    env.start_operator(&["--resync-interval", "10m"]).await?;
    let org = organization(&env);
    let group = |name: &str, display: &str| {
        manifest(&env, &format!("apiVersion: azdo.io/v1alpha1\nkind: DevOpsGroup\nmetadata: {{name: {name}}}\nspec:\n  organizationRef: {{name: contoso}}\n  project: Storefront\n  displayName: {display}"))
    };
    let ring_a = group("ring-a", "Ring A");
    let ring_b = group("ring-b", "Ring B");
    let ring_c = group("ring-c", "Ring C");
    // a contains b (and a user), b contains c, c contains a: a cycle of three.
    let membership = |name: &str, container: &str, members: &str| {
        manifest(&env, &format!("apiVersion: azdo.io/v1alpha1\nkind: DevOpsMembership\nmetadata: {{name: {name}}}\nspec:\n  organizationRef: {{name: contoso}}\n  group: {{groupRef: {{name: {container}}}}}\n  members: {members}"))
    };
    let a = membership(
        "in-a",
        "ring-a",
        "[{groupRef: {name: ring-b}}, {user: adele.vance@contoso.com}]",
    );
    let b = membership("in-b", "ring-b", "[{groupRef: {name: ring-c}}]");
    let c = membership("in-c", "ring-c", "[{groupRef: {name: ring-a}}]");
    env.apply(&[org.clone(), ring_a.clone(), ring_b.clone(), ring_c.clone()])
        .await?;
    env.wait_ready(
        &[ring_a.clone(), ring_b.clone(), ring_c.clone()],
        "True",
        Duration::from_secs(30),
    )
    .await?;
    env.apply(&[a.clone(), b.clone(), c.clone()]).await?;

    // Every membership settles, and at least one refuses the member that closes the cycle.
    let deadline = Instant::now() + Duration::from_secs(30);
    let (settled, refused) = loop {
        let mut states = Vec::new();
        for doc in [&a, &b, &c] {
            states.push(ready(&env, doc).await?);
        }
        let refused: Vec<String> = states
            .iter()
            .flatten()
            .filter(|(_, reason, _)| reason == "MembershipCycle")
            .map(|(_, _, message)| message.clone())
            .collect();
        let settled = states.iter().all(|s| {
            s.as_ref()
                .is_some_and(|(status, reason, _)| status == "True" || reason == "MembershipCycle")
        });
        if settled && !refused.is_empty() {
            break (states, refused);
        }
        if Instant::now() > deadline {
            return Err(format!("memberships did not settle: {states:?}\n{}", env.tail()).into());
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    eprintln!("settled: {settled:?}");
    assert!(
        refused
            .iter()
            .all(|m| m.contains("would make a cycle of group memberships")
                && m.contains("(DevOpsMembership")),
        "{refused:?}"
    );
    // Azure DevOps holds no cycle: of the three edges at most two exist, and the user was
    // added all the same.
    let descriptor =
        |name: &str| crate::sim_api::descriptor_of(&env, &format!("[Storefront]\\{name}"));
    let (da, db, dc) = (
        descriptor("Ring A").ok_or("ring a")?,
        descriptor("Ring B").ok_or("ring b")?,
        descriptor("Ring C").ok_or("ring c")?,
    );
    let edges = [
        members_of(&env, &da).contains(&"[Storefront]\\Ring B".to_string()),
        members_of(&env, &db).contains(&"[Storefront]\\Ring C".to_string()),
        members_of(&env, &dc).contains(&"[Storefront]\\Ring A".to_string()),
    ];
    assert!(
        edges.iter().filter(|e| **e).count() < 3,
        "a cycle was made: {edges:?}"
    );
    assert!(members_of(&env, &da).contains(&"adele.vance@contoso.com".to_string()));

    // Breaking the cycle lets the refused memberships converge at once: a change to any
    // membership wakes those that refused a member for a cycle.
    env.delete_and_wait(std::slice::from_ref(&c), Duration::from_secs(30))
        .await?;
    env.wait_ready(&[a.clone(), b.clone()], "True", Duration::from_secs(30))
        .await?;
    assert!(members_of(&env, &da).contains(&"[Storefront]\\Ring B".to_string()));
    assert!(members_of(&env, &db).contains(&"[Storefront]\\Ring C".to_string()));
    env.delete_and_wait(&[a, b], Duration::from_secs(30))
        .await?;
    env.delete_and_wait(&[ring_a, ring_b, ring_c], Duration::from_secs(30))
        .await?;
    env.delete_and_wait(&[org], Duration::from_secs(20)).await?;
    Ok(())
}
