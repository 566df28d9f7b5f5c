//! Attacks on shared machinery (issue 15, item 6): a tenant declaring a membership edge that
//! does not exist, to make another team's nesting look like a cycle.

use azdo_operator::api::Member;

use super::*;
use crate::support::kit::fixtures::group_ref_member;

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
