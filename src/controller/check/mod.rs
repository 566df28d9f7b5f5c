//! Reconciler of `PipelineResourceCheck`: resolve the project and the resource, check the
//! grants, hold the claims (Exclusive: the resource's checks; every check this object created),
//! read the resource's checks once, resolve the listed checks (approvers to identity ids, on the
//! set-sync core, reusing those the last status recorded), recognise what creates whose answer
//! was lost added (`pending`), plan (create / update / remove, Additive or Exclusive, failing
//! closed), record the intent of each create, write (each write read back by the client), then
//! record what this object created in its ledger. Cleanup removes only the checks the ledger
//! records.

mod pending;
mod plan;
pub(crate) mod resolve;

use std::collections::{BTreeMap, BTreeSet, HashMap};

use async_trait::async_trait;
use kube::runtime::events::EventType;

use crate::ado::{AdoError, DesiredCheck};
use crate::api::{ApproverStatus, CheckState, CheckStatus, MembershipMode, PipelineResourceCheck};
use crate::reason::Reason;

use super::authorization::resolve::kind_of;
use super::claims::Key;
use super::error::{Error, Retry};
use super::grants::Project;
use super::ledger::Entry;
use super::object_context::Cx;
use super::reconcile::{Ready, Reconciled};
use super::set_sync::{self, Item, ItemState, ItemStatus, Mode, Nouns, Problem, Settled};
use pending::Pending;
use plan::{Observed, Plan, Step};
use resolve::Target;

#[async_trait]
impl Reconciled for PipelineResourceCheck {
    async fn converge(&self, cx: &Cx<'_>, status: &mut Self::Status) -> Result<Ready, Error> {
        let client = &cx.org().client;
        let org_url = cx.org().spec.url.clone();
        let project = cx.project(&self.spec.project).await?;
        let kind = kind_of(self.spec.resource.type_);
        // The resource is immutable in the spec: once resolved, it comes from the ledger.
        let before = cx.ledger.read(self).await?;
        let target = match before
            .target
            .as_deref()
            .and_then(|t| Target::parse(t, kind))
        {
            Some(target) => target,
            None => resolve::resource(self, cx, &project).await?,
        };
        status.resource_id = Some(target.resource_id.clone());
        status.resource_name = Some(target.name.clone());
        let exclusive = self.spec.mode == MembershipMode::Exclusive;
        cx.granted().check_resource(
            self.spec.resource.type_,
            &project,
            &target.resource_id,
            &target.name,
            exclusive,
        )?;
        // One object decides a resource's checks exclusively; every check an object created is
        // claimed by it, so another object's Exclusive mode leaves it alone.
        let exclusive_key =
            Key::exclusive_checks(&org_url, &project.id, kind.as_str(), &target.resource_id);
        let mut ours = ours(&before, &target);
        let keys = self.claims(&org_url, &project, &ours);
        let before = self.hold(cx, before, &exclusive_key, &keys).await?;
        if !exclusive {
            // Adding to a set another object decides exclusively would only fight it.
            cx.claims.refuse_held(self, &exclusive_key).await?;
        }

        // One read of the resource's checks, then the listed checks resolved (approvers the
        // last reconcile resolved and the checks still name are reused: no lookup, no write).
        let read = client
            .check_configurations(&project.id, kind, &target.resource_id)
            .await
            .map_err(|e| Error::ado("reading the resource's checks", e));
        let current: Option<Vec<Observed>> = read.as_ref().ok().map(|all| {
            all.iter()
                .map(|c| Observed {
                    id: c.id,
                    check: c.observed(),
                })
                .collect()
        });
        let last_status = self.status.as_ref().map_or(&[][..], |s| &s.checks[..]);
        let known = resolve::known(last_status, current.as_deref());
        let listed = resolve::keyed(&self.spec.checks);
        let resolved = set_sync::resolve(
            listed
                .iter()
                .map(|keyed| (keyed.0.clone(), keyed))
                .collect(),
            &HashMap::new(),
            |_| false,
            |(key, check)| resolve::check(cx, check, known.get(key)),
        )
        .await;
        let (items, approvers) = split(resolved);
        // Creates sent earlier whose answer was lost: the check each added, once judged, is
        // this object's (recorded below, so cleanup removes it).
        let mut undecided = before.pending_creates.clone();
        if let (Some(current), false) = (current.as_deref(), cx.observing()) {
            let judged = self
                .judge_pending(cx, &org_url, &project, &undecided, &items, current, &ours)
                .await?;
            ours.extend(judged.landed);
            undecided = judged.undecided;
        }
        let mode = match self.spec.mode {
            MembershipMode::Additive => Mode::Additive,
            MembershipMode::Exclusive => Mode::Exclusive,
        };
        let mut plan = plan::plan(&items, current.as_deref(), &ours, mode, &BTreeSet::new());
        if exclusive && !plan.remove.is_empty() {
            let held = self
                .held_elsewhere(cx, &org_url, &project, &plan.remove)
                .await?;
            if !held.is_empty() {
                plan = plan::plan(&items, current.as_deref(), &ours, mode, &held);
            }
        }
        let all = read?;
        let existing: BTreeSet<i64> = all.iter().map(|c| c.id).collect();
        // The intent to create is recorded before any create is sent, so a create whose answer
        // is lost is recognised at the next reconcile (see `pending`).
        let creates: BTreeSet<String> = plan
            .steps
            .iter()
            .filter(|(_, step)| *step == Step::Create)
            .map(|(key, _)| Pending::line(key, &existing))
            .collect();
        let last = match cx.observing() || creates.is_empty() {
            true => before.clone(),
            false => {
                let intent = Entry {
                    target: Some(target.recorded()),
                    added: as_lines(&ours),
                    pending_creates: undecided.union(&creates).cloned().collect(),
                    ..before.clone()
                };
                cx.ledger.write(self, &before, &intent).await?;
                intent
            }
        };
        let written = match cx.observing() {
            true => observe(cx, &plan),
            false => self.write(cx, &project, &target, &items, &plan).await,
        };
        let now_ours = after(&plan, &written, &ours, &existing);
        let unsure = written.unsure.iter().map(|k| Pending::line(k, &existing));
        let now = Entry {
            target: Some(target.recorded()),
            added: as_lines(&now_ours),
            pending_creates: undecided.into_iter().chain(unsure).collect(),
            ..before.clone()
        };
        if !cx.observing() {
            cx.ledger.write(self, &last, &now).await?;
            let keys = self.claims(&org_url, &project, &now_ours);
            self.hold(cx, now, &exclusive_key, &keys).await?;
        }

        let settled = settle(items, &plan, &written);
        status.checks = settled.statuses();
        for check in &mut status.checks {
            if check.state == CheckState::Configured {
                check.approvers = approvers.get(&check.check).cloned().unwrap_or_default();
            }
        }
        status.summary = Some(settled.summary());
        if let Some(err) = written.remove_error {
            return Err(err);
        }
        let ready = set_sync::ready(&settled, &NOUNS, plan.held_back)?;
        if !plan.refused.is_empty() {
            return Err(Error::new(
                Reason::CheckHeldElsewhere,
                format!(
                    "Exclusive mode leaves check(s) {:?}: created by another PipelineResourceCheck, which holds them",
                    plan.refused
                ),
                Retry::Resync,
            ));
        }
        Ok(ready)
    }

    async fn cleanup(&self, cx: &Cx<'_>) -> Result<(), Error> {
        let done = cx.ledger.read(self).await?;
        let kind = kind_of(self.spec.resource.type_);
        let Some(target) = done.target.as_deref().and_then(|t| Target::parse(t, kind)) else {
            return Ok(());
        };
        let ours = ours(&done, &target);
        if ours.is_empty() {
            return Ok(());
        }
        let client = &cx.org().client;
        let project = match cx.project(&self.spec.project).await {
            Ok(project) => project,
            // The project is gone, and its checks with it.
            Err(e) if e.reason == Reason::ProjectNotFound => return Ok(()),
            Err(e) => return Err(e),
        };
        let current = match client
            .check_configurations(&project.id, kind, &target.resource_id)
            .await
        {
            Ok(all) => all.into_iter().map(|c| c.id).collect::<BTreeSet<_>>(),
            Err(e) if e.is_not_found() => return Ok(()),
            Err(e) => return Err(Error::ado("reading the resource's checks", e)),
        };
        let mut removed = 0;
        for id in ours.values().filter(|id| current.contains(id)) {
            client
                .delete_check(&project.id, *id)
                .await
                .map_err(|e| Error::ado(&format!("removing check {id} this object created"), e))?;
            removed += 1;
        }
        if removed > 0 {
            let note = format!("removed {removed} check(s) from {} {}", kind, target.name);
            cx.publish(self, EventType::Normal, Reason::ChecksRemoved, note)
                .await;
        }
        Ok(())
    }
}

/// Under Observe: say what the writes would be, and send none.
fn observe(cx: &Cx<'_>, plan: &Plan) -> Written {
    let mut written = Written::default();
    for (key, step) in &plan.steps {
        let (change, why) = match step {
            Step::InPlace { id, .. } => {
                written.ids.insert(key.clone(), *id);
                continue;
            }
            Step::Create => (
                format!("create check {key}"),
                "absent: Manage would create it",
            ),
            Step::Update { id } => (
                format!("update check {key} ({id})"),
                "differs: Manage would update it",
            ),
            Step::Unresolved => continue,
        };
        cx.would(change);
        let problem = Problem::pending(Reason::DriftDetected, why);
        written.failed.insert(key.clone(), problem);
    }
    for id in &plan.remove {
        cx.would(format!("remove check {id}"));
    }
    written
}

/// What the writes of a plan did.
#[derive(Debug, Default)]
struct Written {
    /// Key -> the check id now carrying it (created, updated, or already in place).
    ids: BTreeMap<String, i64>,
    /// Key -> why its write failed.
    failed: BTreeMap<String, Problem>,
    removed: BTreeSet<i64>,
    remove_error: Option<Error>,
    /// Keys whose create failed in a way that may still have added the check (no answer).
    unsure: BTreeSet<String>,
}

impl PipelineResourceCheck {
    /// The claims on the checks this object created.
    fn claims(&self, org_url: &str, project: &Project, ours: &BTreeMap<String, i64>) -> Vec<Key> {
        ours.values()
            .map(|id| Key::check(org_url, &project.id, *id))
            .collect()
    }

    /// Hold exactly these claims (taking new ones, releasing the others), the ledger written
    /// before anything is sent to Azure DevOps: the resource's Exclusive key in Exclusive mode
    /// (`Conflict` when another object holds it), and a claim on each check this object
    /// created. A check claim another live object holds is left to it: the service gave that
    /// id to this object's check, so the other claim is stale (it can only make another
    /// object's Exclusive mode leave the check alone, the safe side).
    async fn hold(
        &self,
        cx: &Cx<'_>,
        before: Entry,
        exclusive: &Key,
        checks: &[Key],
    ) -> Result<Entry, Error> {
        // An observer takes and releases nothing; another object's Exclusive claim still
        // refuses it, as under Manage.
        if cx.observing() {
            if self.spec.mode == MembershipMode::Exclusive {
                cx.claims.refuse_held(self, exclusive).await?;
            }
            return Ok(before);
        }
        let mut entry = before.clone();
        let mut keep: Vec<&Key> = Vec::new();
        let claimed = async {
            if self.spec.mode == MembershipMode::Exclusive {
                cx.claims.take(self, &mut entry, exclusive).await?;
                keep.push(exclusive);
            }
            for key in checks {
                match cx.claims.take(self, &mut entry, key).await {
                    Ok(()) => keep.push(key),
                    Err(e) if e.reason == Reason::Conflict => {}
                    Err(e) => return Err(e),
                }
            }
            cx.claims.release_others(self, &mut entry, &keep).await
        }
        .await;
        cx.ledger.write(self, &before, &entry).await?;
        claimed.map(|()| entry)
    }

    /// The checks this object's lost creates added (see `pending`), leaving any check another
    /// live object holds to it; and the intents that cannot be judged yet. One apiserver read
    /// per check found (none without intents).
    #[allow(clippy::too_many_arguments)]
    async fn judge_pending(
        &self,
        cx: &Cx<'_>,
        org_url: &str,
        project: &Project,
        intents: &BTreeSet<String>,
        items: &[Item<DesiredCheck>],
        current: &[Observed],
        ours: &BTreeMap<String, i64>,
    ) -> Result<pending::Judged, Error> {
        if intents.is_empty() {
            return Ok(pending::Judged::default());
        }
        let mut judged = pending::judge(&Pending::all(intents), items, current, ours);
        let found = std::mem::take(&mut judged.landed);
        let held = self
            .held_elsewhere(
                cx,
                org_url,
                project,
                &found.values().copied().collect::<Vec<_>>(),
            )
            .await?;
        for (key, id) in found {
            if held.contains(&id) {
                continue;
            }
            tracing::info!(check = id, key = %key, "a create whose answer was lost added this check: recorded as this object's");
            judged.landed.insert(key, id);
        }
        Ok(judged)
    }

    /// Of the checks Exclusive mode would remove, those another live object holds. One
    /// apiserver read per check to remove (none in steady state).
    async fn held_elsewhere(
        &self,
        cx: &Cx<'_>,
        org_url: &str,
        project: &Project,
        remove: &[i64],
    ) -> Result<BTreeSet<i64>, Error> {
        let mut held = BTreeSet::new();
        for id in remove {
            let holder = cx
                .claims
                .live_holder::<PipelineResourceCheck>(&Key::check(org_url, &project.id, *id))
                .await?;
            if holder.is_some_and(|h| Some(h.uid.as_str()) != self.metadata.uid.as_deref()) {
                held.insert(*id);
            }
        }
        Ok(held)
    }

    /// Create, update, remove, in that order (a new check is in place before an old one
    /// goes). Nothing when the plan is empty (steady state: 0 writes).
    async fn write(
        &self,
        cx: &Cx<'_>,
        project: &Project,
        target: &Target,
        items: &[Item<DesiredCheck>],
        plan: &Plan,
    ) -> Written {
        let mut written = Written::default();
        if plan.is_empty() {
            for (key, step) in &plan.steps {
                if let Step::InPlace { id, .. } = step {
                    written.ids.insert(key.clone(), *id);
                }
            }
            return written;
        }
        let client = &cx.org().client;
        let desired: BTreeMap<&str, &DesiredCheck> = items
            .iter()
            .filter_map(|i| i.resolved.as_ref().ok().map(|d| (i.key.as_str(), d)))
            .collect();
        let (mut created, mut updated) = (0, 0);
        for (key, step) in &plan.steps {
            let outcome = match (step, desired.get(key.as_str())) {
                (Step::InPlace { id, .. }, _) => Ok(*id),
                (Step::Create, Some(d)) => client
                    .create_check(&project.id, target.kind, &target.resource_id, d)
                    .await
                    .map(|c| {
                        created += 1;
                        c.id
                    })
                    .inspect_err(|e| {
                        if pending::may_have_landed(e) {
                            written.unsure.insert(key.clone());
                        }
                    }),
                (Step::Update { id }, Some(d)) => client
                    .update_check(&project.id, *id, target.kind, &target.resource_id, d)
                    .await
                    .map(|c| {
                        updated += 1;
                        c.id
                    }),
                _ => continue,
            };
            match outcome {
                Ok(id) => {
                    written.ids.insert(key.clone(), id);
                }
                Err(e) => {
                    written.failed.insert(key.clone(), write_problem(key, e));
                }
            }
        }
        for id in &plan.remove {
            match client.delete_check(&project.id, *id).await {
                Ok(()) => {
                    written.removed.insert(*id);
                }
                Err(e) => {
                    written.remove_error = Some(Error::ado(&format!("removing check {id}"), e));
                    break;
                }
            }
        }
        let mut changes = Vec::new();
        for (n, what) in [
            (created, "added"),
            (updated, "updated"),
            (written.removed.len(), "removed"),
        ] {
            if n > 0 {
                changes.push(format!("{what} {n} check(s)"));
            }
        }
        if !changes.is_empty() {
            let note = format!("{} on {} {}", changes.join(", "), target.kind, target.name);
            cx.publish(self, EventType::Normal, Reason::ChecksConfigured, note)
                .await;
        }
        written
    }
}

/// The resolved checks as the plan takes them, and each approval's approvers (for status).
fn split(
    resolved: Vec<Item<resolve::Resolved>>,
) -> (
    Vec<Item<DesiredCheck>>,
    BTreeMap<String, Vec<ApproverStatus>>,
) {
    let mut approvers = BTreeMap::new();
    let items = resolved
        .into_iter()
        .map(|item| Item {
            resolved: item.resolved.map(|r| {
                if !r.approvers.is_empty() {
                    approvers.insert(item.key.clone(), r.approvers);
                }
                r.check
            }),
            key: item.key,
            previous: None,
        })
        .collect();
    (items, approvers)
}

/// A refused write: the service's 400 is the spec's fault (`CheckRefused`).
fn write_problem(key: &str, e: AdoError) -> Problem {
    match e {
        AdoError::InvalidInput(detail) => Problem::failed(
            Reason::CheckRefused,
            format!("Azure DevOps refused {key}: {}", detail.message),
        ),
        e => Problem::from_ado(&format!("writing {key}"), Reason::ResourceNotFound, e),
    }
}

/// The ledger's lines for this object's checks (`key=id`).
fn as_lines(ours: &BTreeMap<String, i64>) -> BTreeSet<String> {
    ours.iter().map(|(k, id)| format!("{k}={id}")).collect()
}

/// What this object created on this resource, as its ledger records it (`key=id`).
fn ours(done: &Entry, target: &Target) -> BTreeMap<String, i64> {
    if done.target.as_deref() != Some(target.recorded().as_str()) {
        return BTreeMap::new();
    }
    done.added
        .iter()
        .filter_map(|a| {
            let (key, id) = a.split_once('=')?;
            Some((key.to_string(), id.parse().ok()?))
        })
        .collect()
}

/// The ledger after the writes: each listed key's check when this object created (or still
/// owns) it; an unlisted one until it is removed; nothing that went away.
fn after(
    plan: &Plan,
    written: &Written,
    ours: &BTreeMap<String, i64>,
    existing: &BTreeSet<i64>,
) -> BTreeMap<String, i64> {
    let mut now = BTreeMap::new();
    for (key, step) in &plan.steps {
        let id = match step {
            Step::InPlace { ours: false, .. } => None,
            Step::InPlace { id, ours: true } | Step::Update { id } => Some(*id),
            Step::Create => written.ids.get(key).copied(),
            Step::Unresolved => ours.get(key).copied().filter(|id| existing.contains(id)),
        };
        if let Some(id) = id {
            now.insert(key.clone(), id);
        }
    }
    let listed: BTreeSet<&String> = plan.steps.iter().map(|(k, _)| k).collect();
    for (key, id) in ours {
        if !listed.contains(key) && existing.contains(id) && !written.removed.contains(id) {
            now.insert(key.clone(), *id);
        }
    }
    now
}

/// Per listed check: its id and, when it is not in place, why.
fn settle(items: Vec<Item<DesiredCheck>>, plan: &Plan, written: &Written) -> Settled<i64> {
    let steps: BTreeMap<&String, &Step> = plan.steps.iter().map(|(k, s)| (k, s)).collect();
    let entries = items
        .into_iter()
        .map(|item| {
            let problem = match (&item.resolved, written.failed.get(&item.key)) {
                (Err(p), _) => Some(p.clone()),
                (Ok(_), Some(p)) => Some(p.clone()),
                (Ok(_), None) => None,
            };
            let id = written
                .ids
                .get(&item.key)
                .copied()
                .or(match steps.get(&item.key) {
                    Some(Step::Update { id }) => Some(*id),
                    _ => None,
                });
            (item.key, id, problem)
        })
        .collect();
    Settled {
        ours: BTreeSet::new(),
        items: entries,
    }
}

impl ItemStatus<i64> for CheckStatus {
    fn of(check: String, id: Option<i64>, problem: Option<&Problem>) -> Self {
        let state = match problem.map(|p| p.state) {
            None => CheckState::Configured,
            Some(ItemState::Pending) => CheckState::Pending,
            Some(ItemState::Failed) => CheckState::Failed,
        };
        let (reason, message) = set_sync::why(problem);
        CheckStatus {
            check,
            id,
            state,
            reason,
            message,
            approvers: Vec::new(),
        }
    }
}

/// How checks are named in Ready messages.
const NOUNS: Nouns = Nouns {
    in_place: "checks configured",
    field: "status.checks",
    several_failed: Reason::ChecksFailed,
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ledger_keeps_what_this_object_created_and_still_stands() {
        let plan = Plan {
            steps: vec![
                ("exclusiveLock#1".into(), Step::Create),
                ("approval#1".into(), Step::InPlace { id: 3, ours: false }),
                ("businessHours#1".into(), Step::Update { id: 4 }),
                ("approval#2".into(), Step::Unresolved),
            ],
            remove: vec![6],
            held_back: false,
            refused: vec![],
        };
        let written = Written {
            ids: BTreeMap::from([("exclusiveLock#1".into(), 9)]),
            removed: BTreeSet::from([6]),
            ..Written::default()
        };
        let ours = BTreeMap::from([
            ("businessHours#1".into(), 4),
            ("approval#2".into(), 5),
            ("branchControl#1".into(), 6),
            ("requiredTemplate#1".into(), 7),
        ]);
        let existing = BTreeSet::from([3, 4, 5, 6]);
        let now = after(&plan, &written, &ours, &existing);
        assert_eq!(
            now,
            BTreeMap::from([
                ("exclusiveLock#1".into(), 9),
                ("businessHours#1".into(), 4),
                ("approval#2".into(), 5),
            ]),
            "not the foreign check 3, not the removed 6, not the vanished 7"
        );
    }

    #[test]
    fn ours_reads_only_this_targets_entries() {
        let target = Target {
            kind: crate::ado::ResourceKind::Environment,
            resource_id: "2".into(),
            name: "prod".into(),
        };
        let done = Entry {
            target: Some(target.recorded()),
            added: ["approval#1=17".to_string(), "garbage".to_string()].into(),
            ..Entry::default()
        };
        assert_eq!(
            ours(&done, &target),
            BTreeMap::from([("approval#1".into(), 17)])
        );
        let other = Target {
            resource_id: "3".into(),
            ..target
        };
        assert!(ours(&done, &other).is_empty());
    }
}
