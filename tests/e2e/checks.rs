//! PipelineResourceCheck end to end: every check type created, updated and repaired after
//! drift (each type's settings changed and a check deleted through the checks API, as another
//! administrator would in the portal), steady state (one read, no write), a check removed from
//! the spec, Exclusive failing closed then removing what nobody listed, and both deletion
//! policies (only this object's checks go). The simulator's state is read directly.

use std::time::Duration;

use azdo_operator::api::{
    ApprovalCheck, BranchControlCheck, BusinessHoursCheck, Check, CheckGrant, CheckState,
    DeletionPolicy, ExclusiveLockCheck, Member, MembershipMode, PipelineResourceCheck,
    RequiredTemplateCheck, ResourceType, TemplateRepositoryType, TemplateSource, Weekday,
};
use azdo_operator::reason::Reason;
use azdo_sim::model::checks::{CheckConfiguration, CheckKind};
use azdo_sim::model::permissions::{Actor, ResourceType as SimResourceType};
use azdo_sim::{Faults, HostKind, LostAnswer};
use kube::api::DynamicObject;
use serde_json::{json, Value};

use crate::operator_env::{OperatorEnv, TestResult};
use crate::support::kit::fixtures::{resource_named, storefront_grant};
use crate::support::kit::{typed, Check as Poll, ToObject};

pub const WAIT: Duration = Duration::from_secs(60);
const RESYNC: &str = "3s";
/// Longer than one resync.
pub const A_RESYNC: Duration = Duration::from_secs(4);
pub const ADELE: &str = "adele.vance@contoso.com";
/// `storefront-production`'s id.
pub const PRODUCTION: &str = "2";

pub async fn start(prefix: &str) -> TestResult<OperatorEnv> {
    let mut env = OperatorEnv::start(prefix).await?;
    env.start_operator(&["--resync-interval", RESYNC, "--resync-jitter", "0"])
        .await?;
    Ok(env)
}

/// ClusterDevOpsOrganization granting the test's namespace [`storefront_grant`] (checks on the
/// `storefront-*` environments), with Exclusive mode too when `exclusive`; applied and Ready.
pub async fn organization(env: &OperatorEnv, exclusive: bool) -> TestResult<DynamicObject> {
    let mut grant = storefront_grant(&[env.namespace.as_str()]);
    grant.checks = vec![CheckGrant {
        type_: Some(ResourceType::Environment),
        names: vec!["storefront-*".into()],
        exclusive,
        ..CheckGrant::default()
    }];
    let org = env
        .fixtures()
        .cluster_organization_granting(vec![grant])
        .object();
    env.apply(std::slice::from_ref(&org)).await?;
    env.wait_ready(std::slice::from_ref(&org), "True", WAIT)
        .await?;
    Ok(org)
}

pub fn user(upn: &str) -> Member {
    Member {
        user: Some(upn.to_string()),
        ..Member::default()
    }
}

pub fn approval(approvers: Vec<Member>, minimum: u32) -> Check {
    Check {
        approval: Some(ApprovalCheck {
            approvers,
            minimum_approvers: Some(minimum),
            requester_cannot_approve: true,
            in_sequence: false,
            instructions: Some("Check the change record".into()),
        }),
        timeout_minutes: Some(1440),
        ..Check::default()
    }
}

pub fn branches(allowed: &[&str]) -> Check {
    Check {
        branch_control: Some(BranchControlCheck {
            allowed_branches: allowed.iter().map(|b| b.to_string()).collect(),
            require_branch_protection: true,
            allow_unknown_status: false,
            retry_interval_minutes: Some(10),
        }),
        ..Check::default()
    }
}

pub fn hours(end: &str) -> Check {
    Check {
        business_hours: Some(BusinessHoursCheck {
            days: vec![Weekday::Monday, Weekday::Friday],
            start: "08:00".into(),
            end: end.into(),
            time_zone: "W. Europe Standard Time".into(),
            retry_interval_minutes: None,
        }),
        ..Check::default()
    }
}

pub fn lock(timeout: u32) -> Check {
    Check {
        exclusive_lock: Some(ExclusiveLockCheck {}),
        timeout_minutes: Some(timeout),
        ..Check::default()
    }
}

pub fn template(path: &str) -> Check {
    Check {
        required_template: Some(RequiredTemplateCheck {
            templates: vec![TemplateSource {
                repository_type: TemplateRepositoryType::AzureRepos,
                repository: "Storefront/storefront".into(),
                ref_: "refs/heads/main".into(),
                path: path.into(),
            }],
        }),
        ..Check::default()
    }
}

/// PipelineResourceCheck `name` on the production environment with `checks` in `mode`.
pub fn checks(
    env: &OperatorEnv,
    name: &str,
    checks: Vec<Check>,
    mode: MembershipMode,
) -> PipelineResourceCheck {
    let mut c = env.fixtures().resource_check(
        name,
        resource_named(ResourceType::Environment, "storefront-production"),
        checks,
    );
    c.spec.mode = mode;
    c
}

/// The checks on an environment of Storefront in the simulator, by id.
pub fn on_environment(env: &OperatorEnv, id: &str) -> Vec<CheckConfiguration> {
    env.sim.control().with_state(|state| {
        let org = state.organization("contoso").expect("contoso");
        let project = org.project("Storefront").expect("Storefront");
        project
            .checks
            .iter()
            .filter(|c| c.resource_type == SimResourceType::Environment && c.resource_id == id)
            .cloned()
            .collect()
    })
}

/// Add a check out of band (as someone in the web UI would); its id.
pub fn add_out_of_band(env: &OperatorEnv, kind: CheckKind, settings: Value, timeout: u32) -> u32 {
    env.sim.control().with_state(|state| {
        let org = state.organization_mut("contoso").expect("contoso");
        org.last_check_id += 1;
        let id = org.last_check_id;
        let someone = Actor {
            display_name: "Someone Else".into(),
            id: "00000000-0000-0000-0000-0000000000ee".into(),
            unique_name: "someone@contoso.com".into(),
            descriptor: String::new(),
        };
        let now = chrono::Utc::now();
        let project = org.project_mut("Storefront").expect("Storefront");
        project.checks.push(CheckConfiguration {
            id,
            kind,
            resource_type: SimResourceType::Environment,
            resource_id: PRODUCTION.into(),
            resource_name: "storefront-production".into(),
            timeout,
            settings,
            created_by: someone.clone(),
            created_on: now,
            modified_by: someone,
            modified_on: now,
        });
        id
    })
}

/// A summary of a check: kind and the setting a test changes.
fn summary(c: &CheckConfiguration) -> String {
    let s = &c.settings;
    let detail = match c.kind {
        CheckKind::Approval => format!("min={}", s["minRequiredApprovers"]),
        CheckKind::TaskCheck if s["definitionRef"]["name"] == "evaluateBusinessHours" => {
            format!(
                "hours end={}",
                s["inputs"]["endTime"].as_str().unwrap_or_default()
            )
        }
        CheckKind::TaskCheck => format!(
            "branches={}",
            s["inputs"]["allowedBranches"].as_str().unwrap_or_default()
        ),
        CheckKind::ExclusiveLock => format!("lock timeout={}", c.timeout),
        CheckKind::ExtendsCheck => format!(
            "template={}",
            s["extendsChecks"][0]["templatePath"]
                .as_str()
                .unwrap_or_default()
        ),
    };
    format!("{:?} {detail}", c.kind)
}

/// Wait until the production environment carries exactly `want` (summaries, any order).
pub async fn until_checks(env: &OperatorEnv, want: &[&str]) -> TestResult<Vec<CheckConfiguration>> {
    let mut want: Vec<String> = want.iter().map(|s| s.to_string()).collect();
    want.sort();
    env.until("the environment's checks", WAIT, || {
        let want = want.clone();
        async move {
            let now = on_environment(env, PRODUCTION);
            let mut seen: Vec<String> = now.iter().map(summary).collect();
            seen.sort();
            Ok(match seen == want {
                true => Poll::Done(now),
                false => Poll::NotYet(format!("{seen:?}, want {want:?}")),
            })
        }
    })
    .await
}

/// An administrator of the Storefront project changing checks in the portal: the checks API
/// (7.1-preview.1) under an identity of its own (`storefront-automation`), not the operator's.
pub struct Portal {
    http: reqwest::Client,
    token: String,
    checks: String,
}

impl Portal {
    pub fn new(env: &OperatorEnv) -> TestResult<Self> {
        let http = reqwest::Client::builder()
            .add_root_certificate(reqwest::Certificate::from_pem(env.sim.ca_pem().as_bytes())?)
            .build()?;
        Ok(Self {
            http,
            token: env.sim.control().issue_token("storefront-automation")?,
            checks: format!(
                "{}/Storefront/_apis/pipelines/checks/configurations",
                env.org_url()
            ),
        })
    }

    async fn send(
        &self,
        method: reqwest::Method,
        id: u32,
        body: Option<&Value>,
    ) -> TestResult<(u16, Value)> {
        let url = format!(
            "{}/{id}?$expand=settings&api-version=7.1-preview.1",
            self.checks
        );
        let mut request = self
            .http
            .request(method, url)
            .bearer_auth(&self.token)
            .header("X-TFS-FedAuthRedirect", "Suppress");
        if let Some(body) = body {
            request = request
                .header("content-type", "application/json")
                .body(body.to_string());
        }
        let response = request.send().await?;
        let status = response.status().as_u16();
        let text = response.text().await?;
        Ok((status, serde_json::from_str(&text).unwrap_or(Value::Null)))
    }

    /// Read a check with its settings, change it, and save it back (PATCH).
    pub async fn change(&self, id: u32, edit: impl FnOnce(&mut Value)) -> TestResult {
        let (status, mut check) = self.send(reqwest::Method::GET, id, None).await?;
        assert_eq!(status, 200, "reading check {id}: {check}");
        edit(&mut check);
        let (status, body) = self.send(reqwest::Method::PATCH, id, Some(&check)).await?;
        assert_eq!(status, 200, "changing check {id}: {body}");
        Ok(())
    }

    pub async fn delete(&self, id: u32) -> TestResult {
        let (status, body) = self.send(reqwest::Method::DELETE, id, None).await?;
        assert_eq!(status, 204, "deleting check {id}: {body}");
        Ok(())
    }
}

/// What a check holds, comparable: its type, timeout and settings exactly as stored.
fn held(c: &CheckConfiguration) -> String {
    format!("{:?} timeout={} {}", c.kind, c.timeout, c.settings)
}

/// The checks as declared (read back after the operator wrote them), comparable.
fn declared_by_id(checks: &[CheckConfiguration]) -> Vec<String> {
    let mut all: Vec<String> = checks.iter().map(held).collect();
    all.sort();
    all
}

/// Wait until the production environment holds exactly `declared` again (any ids).
async fn until_declared(
    env: &OperatorEnv,
    declared: &[String],
) -> TestResult<Vec<CheckConfiguration>> {
    env.until("the declared checks restored", WAIT, || async move {
        let now = on_environment(env, PRODUCTION);
        Ok(match declared_by_id(&now) == declared {
            true => Poll::Done(now),
            false => Poll::NotYet(format!("{:?}", declared_by_id(&now))),
        })
    })
    .await
}

/// Calls to the checks API since the request log was cleared, by method.
fn check_calls(env: &OperatorEnv, method: &str) -> usize {
    env.sim
        .control()
        .requests()
        .requests
        .iter()
        .filter(|r| r.method == method && r.route.contains("/pipelines/checks/"))
        .count()
}

fn id_of(checks: &[CheckConfiguration], kind_and_detail: &str) -> u32 {
    checks
        .iter()
        .find(|c| summary(c) == kind_and_detail)
        .map(|c| c.id)
        .unwrap_or_else(|| {
            panic!(
                "no {kind_and_detail} in {:?}",
                checks.iter().map(summary).collect::<Vec<_>>()
            )
        })
}

/// Every check type: created; steady state reads once and writes nothing; a restart writes
/// nothing and resolves no approver again; each updated in place (same ids); drift repaired (a setting changed, a check deleted); one removed from the
/// spec; deletion removes only this object's checks (a hand-made one stays throughout).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_check_type_is_created_updated_and_repaired() -> TestResult {
    let mut env = start("checks-crud").await?;
    let org = organization(&env, false).await?;
    let hand_made = add_out_of_band(
        &env,
        CheckKind::ExtendsCheck,
        json!({"extendsChecks": [{"repositoryType": "git", "repositoryName": "Storefront/storefront", "repositoryRef": "refs/heads/main", "templatePath": "hand.yml"}]}),
        43200,
    );
    let mut c = checks(
        &env,
        "prod",
        vec![
            approval(
                vec![
                    user(ADELE),
                    Member {
                        group: Some(r"[Storefront]\Release Approvers".into()),
                        ..Member::default()
                    },
                ],
                1,
            ),
            branches(&["refs/heads/main"]),
            hours("17:00"),
            lock(60),
            template("deploy.yml"),
        ],
        MembershipMode::Additive,
    );
    env.apply(&[c.object()]).await?;
    env.wait_ready(&[c.object()], "True", WAIT).await?;
    let created = until_checks(
        &env,
        &[
            "Approval min=1",
            "TaskCheck branches=refs/heads/main",
            "TaskCheck hours end=17:00",
            "ExclusiveLock lock timeout=60",
            "ExtendsCheck template=deploy.yml",
            "ExtendsCheck template=hand.yml",
        ],
    )
    .await?;
    let approval_check = created
        .iter()
        .find(|x| x.kind == CheckKind::Approval)
        .unwrap();
    assert_eq!(
        approval_check.settings["approvers"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    assert_eq!(approval_check.settings["requesterCannotBeApprover"], true);
    assert_eq!(approval_check.timeout, 1440);

    // Steady state: a resync reads the resource's checks once and writes nothing.
    env.sim.control().clear_requests();
    tokio::time::sleep(A_RESYNC).await;
    let reads = check_calls(&env, "GET");
    assert!((1..=2).contains(&reads), "one read per resync, saw {reads}");
    assert_eq!(
        check_calls(&env, "POST") + check_calls(&env, "PATCH") + check_calls(&env, "DELETE"),
        0
    );

    // A restart writes nothing and looks no approver up: their identities come from status
    // (recorded there once configured), since the check still names them.
    let now: PipelineResourceCheck = typed(&env.get(&c.object()).await?)?;
    let recorded = now.status.unwrap_or_default().checks;
    let approvers = &recorded
        .iter()
        .find(|s| s.check == "approval#1")
        .ok_or("no approval#1 in status")?
        .approvers;
    let named: Vec<&str> = approval_check.settings["approvers"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|a| a["id"].as_str())
        .collect();
    assert_eq!(approvers.len(), 2, "{approvers:?}");
    assert!(approvers
        .iter()
        .all(|a| named.iter().any(|n| n.eq_ignore_ascii_case(&a.identity_id))));
    env.kill_operator().await;
    env.sim.control().clear_requests();
    env.start_operator(&["--resync-interval", RESYNC, "--resync-jitter", "0"])
        .await?;
    env.eventually("the restarted operator reading the checks", WAIT, || {
        let env = &env;
        async move { Ok(check_calls(env, "GET") > 0) }
    })
    .await?;
    tokio::time::sleep(A_RESYNC).await;
    let sent = env.sim.control().requests().requests;
    let looked_up: Vec<String> = sent
        .iter()
        .filter(|r| r.host != HostKind::Login)
        .filter(|r| r.method != "GET" || r.route.contains("storagekeys"))
        .map(|r| format!("{} {}", r.method, r.route))
        .collect();
    assert!(
        looked_up.is_empty(),
        "no write and no identity lookup after a restart: {looked_up:?}"
    );

    // Update every type: updated in place, the same ids.
    c.spec.checks = vec![
        approval(
            vec![
                user(ADELE),
                Member {
                    group: Some(r"[Storefront]\Release Approvers".into()),
                    ..Member::default()
                },
            ],
            2,
        ),
        branches(&["refs/heads/main", "refs/heads/release/*"]),
        hours("18:00"),
        lock(120),
        template("deploy-v2.yml"),
    ];
    env.apply(&[c.object()]).await?;
    let updated = until_checks(
        &env,
        &[
            "Approval min=2",
            "TaskCheck branches=refs/heads/main,refs/heads/release/*",
            "TaskCheck hours end=18:00",
            "ExclusiveLock lock timeout=120",
            "ExtendsCheck template=deploy-v2.yml",
            "ExtendsCheck template=hand.yml",
        ],
    )
    .await?;
    let mut before_ids: Vec<u32> = created.iter().map(|x| x.id).collect();
    let mut after_ids: Vec<u32> = updated.iter().map(|x| x.id).collect();
    before_ids.sort();
    after_ids.sort();
    assert_eq!(before_ids, after_ids, "updated in place, not recreated");
    env.wait_ready(&[c.object()], "True", WAIT).await?;

    // Drift, made as an administrator in the portal makes it (the checks API, another
    // identity): the approval, branch control, business hours and template checks changed
    // (settings and timeout), the lock deleted. One resync repairs them: each changed check
    // holds exactly the declared settings again under its id, the lock is recreated under a new
    // id, the hand-made check is untouched, and status names the ids the resource carries.
    let declared = declared_by_id(&updated);
    let portal = Portal::new(&env)?;
    let approval_id = id_of(&updated, "Approval min=2");
    portal
        .change(approval_id, |c| {
            let s = &mut c["settings"];
            s["approvers"]
                .as_array_mut()
                .expect("approvers")
                .truncate(1);
            s["minRequiredApprovers"] = json!(1);
            s["instructions"] = json!("Anyone may approve");
            s["requesterCannotBeApprover"] = json!(false);
            c["timeout"] = json!(60);
        })
        .await?;
    let branches_id = id_of(
        &updated,
        "TaskCheck branches=refs/heads/main,refs/heads/release/*",
    );
    portal
        .change(branches_id, |c| {
            let inputs = &mut c["settings"]["inputs"];
            inputs["allowedBranches"] = json!("*");
            inputs["ensureProtectionOfBranch"] = json!("false");
            inputs["allowUnknownStatusBranch"] = json!("true");
        })
        .await?;
    let hours_id = id_of(&updated, "TaskCheck hours end=18:00");
    portal
        .change(hours_id, |c| {
            c["settings"]["inputs"]["endTime"] = json!("23:00");
            c["timeout"] = json!(5);
        })
        .await?;
    let template_id = id_of(&updated, "ExtendsCheck template=deploy-v2.yml");
    portal
        .change(template_id, |c| {
            let template = &mut c["settings"]["extendsChecks"][0];
            template["templatePath"] = json!("anything.yml");
            template["repositoryRef"] = json!("refs/heads/dev");
        })
        .await?;
    let lock_id = id_of(&updated, "ExclusiveLock lock timeout=120");
    portal.delete(lock_id).await?;
    let repaired = until_declared(&env, &declared).await?;
    for id in [approval_id, branches_id, hours_id, template_id, hand_made] {
        assert!(
            repaired.iter().any(|x| x.id == id),
            "check {id} repaired in place"
        );
    }
    let new_lock = id_of(&repaired, "ExclusiveLock lock timeout=120");
    assert_ne!(new_lock, lock_id, "recreated");
    let mut ids = repaired.iter().map(|x| x.id).collect::<Vec<_>>();
    ids.retain(|id| *id != hand_made);
    ids.sort();
    env.until("status naming the repaired checks", WAIT, || {
        let (env, c, ids) = (&env, &c, ids.clone());
        async move {
            let now: PipelineResourceCheck = typed(&env.get(&c.object()).await?)?;
            let status = now.status.unwrap_or_default();
            let mut seen: Vec<u32> = status
                .checks
                .iter()
                .filter(|s| s.state == CheckState::Configured)
                .filter_map(|s| s.id.map(|id| id as u32))
                .collect();
            seen.sort();
            Ok(match seen == ids && status.checks.len() == 5 {
                true => Poll::Done(()),
                false => Poll::NotYet(format!("{:?}", status.checks)),
            })
        }
    })
    .await?;

    // The template leaves the spec: this object's is removed, the hand-made one stays.
    c.spec.checks.pop();
    env.apply(&[c.object()]).await?;
    until_checks(
        &env,
        &[
            "Approval min=2",
            "TaskCheck branches=refs/heads/main,refs/heads/release/*",
            "TaskCheck hours end=18:00",
            "ExclusiveLock lock timeout=120",
            "ExtendsCheck template=hand.yml",
        ],
    )
    .await?;
    env.wait_ready(&[c.object()], "True", WAIT).await?;

    env.delete_in_order(&[c.object()], WAIT).await?;
    let left = until_checks(&env, &["ExtendsCheck template=hand.yml"]).await?;
    assert_eq!(left[0].id, hand_made);
    env.delete_in_order(&[org], WAIT).await?;
    Ok(())
}

/// Exclusive mode: nothing is removed while a listed approver does not resolve; once it does,
/// every unlisted check goes (a hand-made one too), and a check added by hand is removed at the
/// next resync. With deletionPolicy Orphan, deleting the object leaves its checks.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exclusive_fails_closed_and_orphan_keeps_checks() -> TestResult {
    let env = start("checks-exclusive").await?;
    let org = organization(&env, true).await?;
    add_out_of_band(&env, CheckKind::ExclusiveLock, json!({}), 30);
    let mut c = checks(
        &env,
        "prod",
        vec![
            lock(60),
            approval(vec![user("no.such.user@contoso.com")], 1),
        ],
        MembershipMode::Exclusive,
    );
    env.apply(&[c.object()]).await?;
    env.wait_for_reason(&c.object(), Reason::UserNotFound, WAIT)
        .await?;
    tokio::time::sleep(A_RESYNC).await;
    until_checks(
        &env,
        &[
            "ExclusiveLock lock timeout=30",
            "ExclusiveLock lock timeout=60",
        ],
    )
    .await?;

    c.spec.checks = vec![lock(60), approval(vec![user(ADELE)], 1)];
    env.apply(&[c.object()]).await?;
    until_checks(&env, &["ExclusiveLock lock timeout=60", "Approval min=1"]).await?;
    env.wait_ready(&[c.object()], "True", WAIT).await?;

    // A check added by hand is removed.
    add_out_of_band(&env, CheckKind::ExclusiveLock, json!({}), 45);
    until_checks(&env, &["ExclusiveLock lock timeout=60", "Approval min=1"]).await?;

    c.spec.deletion_policy = DeletionPolicy::Orphan;
    env.apply(&[c.object()]).await?;
    env.wait_ready(&[c.object()], "True", WAIT).await?;
    env.delete_in_order(&[c.object()], WAIT).await?;
    tokio::time::sleep(A_RESYNC).await;
    until_checks(&env, &["ExclusiveLock lock timeout=60", "Approval min=1"]).await?;
    env.delete_in_order(&[org], WAIT).await?;
    Ok(())
}

/// A check the service refuses (a time zone it does not offer) fails alone with CheckRefused;
/// the others are configured. The lock's create lands but its answer is lost (the connection
/// closes after the service added it): the operator adds no second lock, records the one it
/// added as its own (status names it), and deleting the object removes it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_check_fails_alone() -> TestResult {
    let env = start("checks-refused").await?;
    let org = organization(&env, false).await?;
    env.sim.control().set_faults(Faults {
        lose_answers: vec![LostAnswer {
            method: "POST".into(),
            path_contains: "/pipelines/checks/configurations".into(),
            times: 1,
            ..Default::default()
        }],
        ..Faults::default()
    });
    let mut mars = hours("17:00");
    if let Some(h) = &mut mars.business_hours {
        h.time_zone = "Olympus Mons Time".into();
    }
    let c = checks(&env, "prod", vec![lock(60), mars], MembershipMode::Additive);
    env.apply(&[c.object()]).await?;
    let ready = env
        .wait_for_reason(&c.object(), Reason::CheckRefused, WAIT)
        .await?;
    assert!(ready.message.contains("1/2"), "{}", ready.message);
    let lost: Vec<_> = env
        .sim
        .control()
        .requests()
        .requests
        .into_iter()
        .filter(|r| r.method == "POST" && r.route.contains("/pipelines/checks/"))
        .collect();
    assert_eq!(
        lost.first().map(|r| r.status),
        Some(200),
        "the lock's create landed, its answer lost: {lost:?}"
    );
    let locks = until_checks(&env, &["ExclusiveLock lock timeout=60"]).await?;
    tokio::time::sleep(A_RESYNC).await;
    until_checks(&env, &["ExclusiveLock lock timeout=60"]).await?;
    let now: PipelineResourceCheck = typed(&env.get(&c.object()).await?)?;
    let lock_status = now
        .status
        .unwrap_or_default()
        .checks
        .into_iter()
        .find(|s| s.check == "exclusiveLock#1")
        .ok_or("no exclusiveLock#1 in status")?;
    assert_eq!(lock_status.state, CheckState::Configured);
    assert_eq!(lock_status.id, Some(i64::from(locks[0].id)));
    env.delete_in_order(&[c.object()], WAIT).await?;
    until_checks(&env, &[]).await?;
    env.delete_in_order(&[org], WAIT).await?;
    Ok(())
}
