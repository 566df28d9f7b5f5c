//! Attacks on shared machinery (issue 15, item 6): a tenant declaring a membership edge that
//! does not exist, to make another team's nesting look like a cycle.

use azdo_operator::api::Member;

use super::*;
use crate::support::kit::fixtures::{self, group_ref_member};

/// Team B declares, in its own namespace, "team A's Inner Crew contains Outer Crew" (a
/// membership it may not even manage: it is refused). Team A then nests Inner Crew in Outer
/// Crew. The fake edge would close a cycle, but another namespace's edge counts only when its
/// membership is Ready in the same organization: team A's nesting goes through.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fake_edge_in_another_namespace_does_not_block_nesting() -> TestResult {
    let env = start("attacks-edge").await?;
    let ns = env.namespace.clone();
    let team_b = env.cp.new_namespace("attacks-edge-b").await?;
    let org = organization(&env, vec![storefront_grant(&[team_b.as_str()])]).await?;
    let outer = group(&env, &ns, "outer", Some("Storefront"), "Outer Crew").object();
    let inner = group(&env, &ns, "inner", Some("Storefront"), "Inner Crew").object();
    env.apply(&[outer.clone(), inner.clone()]).await?;
    env.wait_ready(&[outer.clone(), inner.clone()], "True", WAIT)
        .await?;
    let outer_descriptor = descriptor(&env, r"[Storefront]\Outer Crew")?;
    let inner_descriptor = descriptor(&env, r"[Storefront]\Inner Crew")?;

    // Team B's fake edge: Inner Crew ⊇ Outer Crew, by descriptors.
    let mut fake = membership(
        &env,
        &team_b,
        "fake-edge",
        target_descriptor(&inner_descriptor),
        MembershipMode::Additive,
        &[],
    );
    fake.spec.members = vec![Member {
        descriptor: Some(outer_descriptor.clone()),
        ..Member::default()
    }];
    let fake = fake.object();
    env.apply(std::slice::from_ref(&fake)).await?;
    refused(&env, &fake, &[Reason::Conflict, Reason::NotAllowed]).await?;

    // Team A nests Inner Crew in Outer Crew.
    let mut nesting = membership(
        &env,
        &ns,
        "nesting",
        target_ref("outer"),
        MembershipMode::Additive,
        &[],
    );
    nesting.spec.members = vec![group_ref_member("inner")];
    let nesting = nesting.object();
    env.apply(std::slice::from_ref(&nesting)).await?;
    env.wait_ready(std::slice::from_ref(&nesting), "True", WAIT)
        .await?;
    let inner_subject = subject(&env, &inner_descriptor).ok_or("no Inner Crew")?.0;
    assert_eq!(members_of(&env, &outer_descriptor), [inner_subject]);
    env.delete_in_order(&[fake, nesting, inner, outer, org], WAIT)
        .await?;
    Ok(())
}

/// A PAT Secret `azdo-pat` in `namespace` (the simulator accepts this token).
async fn pat_secret(env: &OperatorEnv, namespace: &str) -> TestResult {
    use k8s_openapi::api::core::v1::Secret;
    let secrets: kube::Api<Secret> = kube::Api::namespaced(env.client().await?, namespace);
    let secret: Secret = serde_json::from_value(serde_json::json!({
        "metadata": {"name": "azdo-pat"},
        "stringData": {"token": "simoperatorpat0000000000000000000000000000000000000000"},
    }))?;
    secrets
        .create(&kube::api::PostParams::default(), &secret)
        .await?;
    Ok(())
}

/// A loopback listener that accepts connections and never answers: the slowest server there is.
async fn tarpit() -> TestResult<(String, tokio::task::JoinHandle<()>)> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("https://{}/slow", listener.local_addr()?);
    let task = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    Ok((url, task))
}

/// A tenant points six DevOpsOrganizations of its namespace at a server that never answers,
/// hoping to hold every reconcile worker (four here) for as long as its calls hang. Another
/// namespace's organization still connects within seconds: a namespace past its share of busy
/// workers leaves the last one to others.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_organization_does_not_starve_other_namespaces() -> TestResult {
    let mut env = OperatorEnv::start("attacks-slow").await?;
    env.start_operator(&["--reconcile-concurrency", "4", "--namespace-share", "2"])
        .await?;
    let slow_ns = env.cp.new_namespace("attacks-slow-b").await?;
    pat_secret(&env, &env.namespace).await?;
    pat_secret(&env, &slow_ns).await?;
    let (slow_url, _tarpit) = tarpit().await?;
    let fx = env.fixtures();
    let slow: Vec<DynamicObject> = (0..6)
        .map(|i| {
            let mut org = fx.organization(&format!("slow-{i}"), fixtures::pat("azdo-pat", None));
            org.metadata.namespace = Some(slow_ns.clone());
            org.spec.url = slow_url.clone();
            org.spec.graph_url = Some(slow_url.clone());
            org.object()
        })
        .collect();
    env.apply(&slow).await?;
    // Their reconciles are under way (and hanging) before the victim arrives.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let victim = fx
        .organization("fast", fixtures::pat("azdo-pat", None))
        .object();
    env.apply(std::slice::from_ref(&victim)).await?;
    // Without the share, the victim waits for a hung call to time out (30 s) at the least.
    env.wait_ready(
        std::slice::from_ref(&victim),
        "True",
        Duration::from_secs(20),
    )
    .await?;
    // The slow ones are indeed stuck: none is Ready.
    for org in &slow {
        let ready = env.ready(org).await?;
        assert!(
            !ready.as_ref().is_some_and(|r| r.is("True")),
            "{} cannot be Ready: {ready:?}",
            describe(org)
        );
    }
    env.delete_and_wait(&slow, WAIT).await?;
    env.delete_and_wait(std::slice::from_ref(&victim), WAIT)
        .await?;
    Ok(())
}
