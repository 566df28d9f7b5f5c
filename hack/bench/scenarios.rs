//! The scenarios, run in this order on one control plane and one simulator:
//! a) cold converge, e) restart on the converged namespace, b) the first full resync after it
//! (nothing changed), c) 1% of the edges removed out of band and repaired by the next resync,
//! d) the cold converge again in a fresh namespace with the simulator's rate limit on.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use azdo_operator::api::ClusterDevOpsOrganization;
use azdo_sim::{Faults, Latency, Throttling};
use kube::api::PostParams;

use crate::bounds::{self, Pace, RateLimit};
use crate::cluster::{self, KINDS};
use crate::operator_env::{OperatorEnv, TestResult};
use crate::probe::{Footprint, Operator};
use crate::report::{Check, ScenarioResult};
use crate::requests::Traffic;
use crate::support::kit::objects::reference;
use crate::support::kit::{self, api_for};
use crate::support::ports::free_loopback_ports;
use crate::workload::{organization_manifest, Workload, ORGANIZATION};

/// Peak RSS target at full scale.
const RSS_TARGET_MIB: f64 = 100.0;
/// The share of edges removed out of band in the drift scenario.
const DRIFT_SHARE: f64 = 0.01;
/// The operator's default resync spread: a resync comes within interval x (1 +/- spread), at
/// the object's slot.
const RESYNC_JITTER: f64 = 0.5;
/// Long enough that no resync happens during a cold converge.
const NO_RESYNC: Duration = Duration::from_secs(3600);
/// No request for this long: the operator has nothing left to do.
const QUIET: Duration = Duration::from_secs(3);

/// How the bench drives the operator.
#[derive(Debug, Clone)]
pub struct Settings {
    pub workload: Workload,
    pub pace: Pace,
    pub operator_binary: PathBuf,
    pub operator_args: Vec<String>,
    pub reconcile_concurrency: usize,
    pub create_concurrency: usize,
    pub resync: Duration,
    /// The simulator's Graph list page size.
    pub graph_page_size: usize,
    pub throttling: RateLimit,
}

/// The reads of one protection snapshot of the organization (the workload's own groups are
/// nested in nothing protected, so the seed decides it).
#[derive(Debug, Clone, Copy, Default)]
struct SnapshotSize {
    /// Pages of the organization's group list.
    pages: u64,
    /// Protected groups whose members are protected, and groups nested in them: one read each.
    walked: u64,
}

impl SnapshotSize {
    fn of(control: &azdo_sim::Control, page_size: usize) -> Self {
        use azdo_operator::api::{DEFAULT_PROTECTED_GROUPS, IMPLICIT_MEMBERSHIP_GROUPS};
        let bare = |name: &str| name.rsplit('\\').next().unwrap_or(name).to_string();
        let is =
            |list: &[&str], name: &str| list.iter().any(|p| p.eq_ignore_ascii_case(&bare(name)));
        control.with_state(|state| {
            let Some(org) = state.organization(ORGANIZATION) else {
                return SnapshotSize::default();
            };
            let groups: Vec<_> = org
                .subjects
                .iter()
                .filter(|s| s.is_group() && !s.deleted)
                .collect();
            let mut seen: std::collections::BTreeSet<String> = groups
                .iter()
                .filter(|g| is(&DEFAULT_PROTECTED_GROUPS, &g.principal_name))
                .filter(|g| !is(&IMPLICIT_MEMBERSHIP_GROUPS, &g.principal_name))
                .map(|g| g.descriptor.clone())
                .collect();
            let mut level: Vec<String> = seen.iter().cloned().collect();
            while !level.is_empty() {
                let next: Vec<String> = org
                    .memberships
                    .iter()
                    .filter(|m| level.contains(&m.container))
                    .filter(|m| m.member.starts_with("vssgp.") || m.member.starts_with("aadgp."))
                    .map(|m| m.member.clone())
                    .filter(|m| seen.insert(m.clone()))
                    .collect();
                level = next;
            }
            SnapshotSize {
                pages: (groups.len() as u64).div_ceil(page_size.max(1) as u64),
                walked: seen.len() as u64,
            }
        })
    }
}

/// One control plane, one simulator, the operators started so far.
pub struct Bench {
    pub env: OperatorEnv,
    pub settings: Settings,
    client: kube::Client,
    operators_started: usize,
    /// The running operator: its index in the environment and its probe.
    current: Option<(usize, Operator)>,
    /// Whole-lifetime footprint of each operator process, taken before it was stopped.
    pub lifetimes: Vec<Footprint>,
    /// What one protection snapshot of the seeded organization reads.
    snapshot: SnapshotSize,
    lifetime_start: Option<crate::probe::Sample>,
}

impl Bench {
    pub async fn new(env: OperatorEnv, settings: Settings) -> TestResult<Self> {
        let client = env.client().await?;
        let control = env.sim.control();
        control.set_faults(latency_faults(&settings.pace));
        control.set_behaviours(azdo_sim::Behaviours {
            graph_page_size: settings.graph_page_size,
            ..control.behaviours()
        });
        let entitlements = format!("{}/{ORGANIZATION}", env.sim.vsaex_url());
        let org = organization_manifest(&env.org_url(), &env.graph_url(), &entitlements);
        api_for(&client, &org)?
            .create(&PostParams::default(), &org)
            .await?;
        let snapshot = SnapshotSize::of(&control, settings.graph_page_size);
        Ok(Self {
            env,
            settings,
            client,
            snapshot,
            operators_started: 0,
            current: None,
            lifetimes: Vec::new(),
            lifetime_start: None,
        })
    }

    fn operator(&self) -> TestResult<&Operator> {
        self.current
            .as_ref()
            .map(|(_, o)| o)
            .ok_or_else(|| "no operator is running".into())
    }

    /// Start an operator that resyncs every `resync` and watches `only` (one namespace) or, as
    /// deployed by default, every namespace.
    async fn start_operator(&mut self, only: Option<&str>, resync: Duration) -> TestResult<()> {
        self.stop_operator().await?;
        let port = free_loopback_ports(1)?[0];
        let s = &self.settings;
        let mut args: Vec<String> = [
            "--metrics-addr",
            &format!("127.0.0.1:{port}"),
            "--log-format",
            "text",
            "--log-level",
            "info",
            "--leader-election",
            "false",
            "--resync-interval",
            &format!("{}ms", resync.as_millis()),
            "--resync-jitter",
            &RESYNC_JITTER.to_string(),
            "--org-concurrency",
            &s.pace.concurrency.to_string(),
            "--reconcile-concurrency",
            &s.reconcile_concurrency.to_string(),
        ]
        .iter()
        .map(|a| a.to_string())
        .collect();
        if let Some(namespace) = only {
            args.extend(["--watch-namespaces".to_string(), namespace.to_string()]);
        }
        args.extend(s.operator_args.iter().cloned());
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        let binary = s.operator_binary.clone();
        let pid = self.env.start_operator_with(&binary, &refs).await?;
        let operator = Operator::new(pid, port);
        self.lifetime_start = Some(operator.start()?);
        operator.wait_serving(Duration::from_secs(60)).await?;
        self.current = Some((self.operators_started, operator));
        self.operators_started += 1;
        Ok(())
    }

    /// SIGKILL the running operator, after noting its whole-lifetime footprint.
    async fn stop_operator(&mut self) -> TestResult<()> {
        if let Some((index, operator)) = self.current.take() {
            if let Some(start) = self.lifetime_start.take() {
                self.lifetimes.push(operator.footprint(start)?);
            }
            self.env.kill_operator_at(index).await;
        }
        Ok(())
    }

    pub async fn finish(&mut self) -> TestResult<()> {
        self.stop_operator().await
    }

    /// The last lines of the most recently started operator's log.
    pub fn log_tail(&self) -> String {
        let name = match self.operators_started {
            0 | 1 => "operator.log".to_string(),
            n => format!("operator-{}.log", n - 1),
        };
        let text = std::fs::read_to_string(self.env.dir.join(&name)).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        format!(
            "--- {name} (tail) in {} ---\n{}",
            self.env.dir.display(),
            lines[lines.len().saturating_sub(40)..].join("\n")
        )
    }

    /// Wait until the simulator has seen no request for [`QUIET`].
    async fn wait_quiet(&self, timeout: Duration) -> TestResult<()> {
        let control = self.env.sim.control();
        let deadline = Instant::now() + timeout;
        let mut last = control.requests().total;
        let mut since = Instant::now();
        loop {
            tokio::time::sleep(Duration::from_millis(500)).await;
            let now = control.requests().total;
            if now != last {
                last = now;
                since = Instant::now();
            } else if since.elapsed() >= QUIET {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(format!("the operator kept sending requests for {timeout:?}").into());
            }
        }
    }

    async fn wait_organization_ready(&self, timeout: Duration) -> TestResult<()> {
        let org = reference::<ClusterDevOpsOrganization>(None, ORGANIZATION);
        kit::wait_ready(&self.client, &[org], "True", timeout)
            .await
            .map_err(|e| format!("{e}\n{}", self.log_tail()))?;
        Ok(())
    }

    /// Wait until every kind has been reconciled `per_kind` more times than in `before`.
    async fn wait_reconciled(
        &self,
        before: &BTreeMap<String, u64>,
        timeout: Duration,
    ) -> TestResult<BTreeMap<String, u64>> {
        let w = &self.settings.workload;
        let expected = [
            w.groups,
            w.memberships,
            w.authorizations,
            w.role_assignments,
            w.resource_checks,
            w.entitlements,
        ];
        let what = format!("every object reconciled again (before: {before:?})");
        kit::until_every(&what, timeout, Duration::from_millis(250), || async {
            let now = self.operator()?.reconciles().await?;
            let done = KINDS.iter().zip(expected).all(|(kind, n)| {
                let was = before.get(*kind).copied().unwrap_or(0);
                now.get(*kind).copied().unwrap_or(0) >= was + n as u64
            });
            Ok(if done {
                kit::Check::Done(now)
            } else {
                kit::Check::NotYet(format!("{now:?}"))
            })
        })
        .await
    }

    fn extra_reconciles(
        &self,
        before: &BTreeMap<String, u64>,
        after: &BTreeMap<String, u64>,
    ) -> BTreeMap<String, i64> {
        let w = &self.settings.workload;
        KINDS
            .iter()
            .zip([
                w.groups,
                w.memberships,
                w.authorizations,
                w.role_assignments,
                w.resource_checks,
                w.entitlements,
            ])
            .map(|(kind, n)| {
                let delta = after.get(*kind).copied().unwrap_or(0) as i64
                    - before.get(*kind).copied().unwrap_or(0) as i64;
                (kind.to_string(), delta - n as i64)
            })
            .collect()
    }

    /// Create the workload in `namespace` from nothing and wait until all of it is Ready.
    /// `first_entitled` is the first directory user the entitlements name (see
    /// [`Workload::manifests_entitling_from`]).
    async fn converge(
        &mut self,
        namespace: &str,
        first_entitled: usize,
    ) -> TestResult<(f64, f64, Traffic, Footprint, u64)> {
        let control = self.env.sim.control();
        let w = self.settings.workload;
        self.wait_quiet(Duration::from_secs(60)).await?;
        control.clear_requests();
        control.clear_throttle();
        let sample = self.operator()?.start()?;
        let started = Instant::now();
        cluster::create_all(
            &self.client,
            &w.manifests_entitling_from(namespace, first_entitled),
            self.settings.create_concurrency,
        )
        .await?;
        let created = started.elapsed().as_secs_f64();
        let ready = cluster::wait_all_ready(
            &self.client,
            namespace,
            w.objects(),
            started,
            Duration::from_millis(500),
            // 15 minutes, or a quarter of a second per object when that is longer (8,000
            // objects: 33 minutes).
            Duration::from_secs(900).max(Duration::from_millis(250) * w.objects() as u32),
        )
        .await?;
        self.wait_quiet(Duration::from_secs(120)).await?;
        let traffic = Traffic::from_log(&control.requests());
        let footprint = self.operator()?.footprint(sample)?;
        Ok((
            ready.as_secs_f64(),
            created,
            traffic,
            footprint,
            control.total_retry_after_violations(),
        ))
    }

    /// a) Cold converge.
    pub async fn cold(&mut self) -> TestResult<ScenarioResult> {
        let namespace = self.env.namespace.clone();
        // Every namespace, as deployed by default (the bench's is the only one with objects).
        self.start_operator(None, NO_RESYNC).await?;
        self.wait_organization_ready(Duration::from_secs(60))
            .await?;
        let (seconds, created, traffic, footprint, violations) =
            self.converge(&namespace, 0).await?;
        let s = &self.settings;
        let bound = bounds::cold(&s.workload, &s.pace);
        let mut result = ScenarioResult {
            id: "a",
            name: "cold converge",
            objects: s.workload.objects(),
            seconds_meaning: "from the first create until every object is Ready",
            seconds,
            traffic,
            retry_after_violations: violations,
            footprint,
            bound,
            notes: vec![
                ("objects created in".into(), format!("{created:.1} s")),
                (
                    "distinct members".into(),
                    s.workload.distinct_members().to_string(),
                ),
            ],
            checks: Vec::new(),
        };
        result.checks = vec![
            Check::new(
                "requests <= 1.3 x lower bound",
                format!("{:.2}x", result.requests_ratio()),
                result.requests_ratio() <= 1.3,
            ),
            Check::new(
                "time <= 2 x latency-bound minimum",
                format!("{:.2}x", result.seconds_ratio()),
                result.seconds_ratio() <= 2.0,
            ),
            rss_check(&footprint),
        ];
        Ok(result)
    }

    /// e) Restart the operator on the converged namespace: every object is reconciled once.
    pub async fn restart(&mut self) -> TestResult<ScenarioResult> {
        let control = self.env.sim.control();
        self.stop_operator().await?;
        control.clear_requests();
        let started = Instant::now();
        let resync = self.settings.resync;
        self.start_operator(None, resync).await?;
        let sample = self.operator()?.start()?;
        let after = self
            .wait_reconciled(&BTreeMap::new(), Duration::from_secs(300))
            .await?;
        let seconds = started.elapsed().as_secs_f64();
        // No wait for quiet: at larger scales the first spread resyncs begin before the restart
        // pass is over (the target counts the window's reconciles).
        let traffic = Traffic::from_log(&control.requests());
        let footprint = self.operator()?.footprint(sample)?;
        let s = &self.settings;
        let bound = bounds::resync(&s.workload, &s.pace, 0);
        let extra = self.extra_reconciles(&BTreeMap::new(), &after);
        let writes = traffic.writes;
        let mut result = ScenarioResult {
            id: "e",
            name: "operator restart",
            objects: s.workload.objects(),
            seconds_meaning: "from the operator's start until every object was reconciled",
            seconds,
            traffic,
            retry_after_violations: control.total_retry_after_violations(),
            footprint,
            bound,
            notes: vec![(
                "reconciles beyond one per object".into(),
                format!("{extra:?}"),
            )],
            checks: Vec::new(),
        };
        let one_read = self
            .one_read_per_object(&result.traffic, &BTreeMap::new())
            .await?;
        result.checks = vec![
            Check::new(
                "a restart causes no writes",
                format!("{writes} writes"),
                writes == 0,
            ),
            one_read,
            rss_check(&footprint),
        ];
        Ok(result)
    }

    /// b) One full resync with nothing changed (the first after the restart).
    pub async fn steady(&mut self) -> TestResult<ScenarioResult> {
        let control = self.env.sim.control();
        let before = self.operator()?.reconciles().await?;
        control.clear_requests();
        let sample = self.operator()?.start()?;
        let resync = self.settings.resync;
        let after = self
            .wait_reconciled(
                &before,
                resync.mul_f64(1.0 + RESYNC_JITTER) + Duration::from_secs(60),
            )
            .await?;
        // Resyncs are spread over the interval (each object at its slot), so the requests never
        // stop: the pass is the window until every object was reconciled once more.
        let traffic = Traffic::from_log(&control.requests());
        let footprint = self.operator()?.footprint(sample)?;
        let s = &self.settings;
        let bound = bounds::resync(&s.workload, &s.pace, 0);
        let extra = self.extra_reconciles(&before, &after);
        let objects = s.workload.objects();
        let writes = traffic.writes;
        let mut result = ScenarioResult {
            id: "b",
            name: "steady resync",
            objects,
            seconds_meaning:
                "first to last request of the resync pass (spread over the interval by design)",
            seconds: traffic.span_seconds,
            traffic,
            retry_after_violations: control.total_retry_after_violations(),
            footprint,
            bound,
            notes: vec![
                ("resync interval".into(), format!("{resync:?}")),
                (
                    "reconciles beyond one per object".into(),
                    format!("{extra:?}"),
                ),
            ],
            checks: Vec::new(),
        };
        let one_read = self.one_read_per_object(&result.traffic, &before).await?;
        result.checks = vec![
            Check::new(
                "steady state: 0 writes",
                format!("{writes} writes"),
                writes == 0,
            ),
            one_read,
            rss_check(&footprint),
        ];
        Ok(result)
    }

    /// The target "one read per object" of a pass: the organization resyncs too (one access
    /// check), and the protection snapshot (the organization's group list and one read per
    /// protected group and per group nested in one, shared by every object and read at most
    /// every 30 s) is the organization's, not any object's; so are the project's id and scope
    /// descriptor, read once per process (the workload has one project).
    /// Spread resyncs can reconcile an object whose slot came early in the window twice, so the
    /// target counts the reconciles of the window (`before`: the counts at its start).
    async fn one_read_per_object(
        &self,
        traffic: &Traffic,
        before: &BTreeMap<String, u64>,
    ) -> TestResult<Check> {
        let now = self.operator()?.reconciles().await?;
        let since = |kind: &str| {
            now.get(kind)
                .copied()
                .unwrap_or(0)
                .saturating_sub(before.get(kind).copied().unwrap_or(0))
        };
        let resyncs: u64 = KINDS.iter().map(|k| since(k)).sum();
        let organizations = since("ClusterDevOpsOrganization").max(1);
        let listings = traffic.count("GET", "/_apis/graph/groups");
        let snapshots = listings.div_ceil(self.snapshot.pages.max(1));
        let snapshot_reads = listings + snapshots * self.snapshot.walked;
        let project = (traffic.count("GET", "/_apis/projects/{project}")
            + traffic.count("GET", "/_apis/graph/descriptors/{storage_key}"))
        .min(2);
        let reads = traffic.reads;
        let allowed = resyncs + organizations + snapshot_reads + project;
        Ok(Check::new(
            "one read per object resync (+ organization, project and protection snapshot)",
            format!(
                "{reads} reads = {:.3} per object resync; {resyncs} object resyncs + {organizations} organization + {project} project id and scope + {snapshot_reads} for {snapshots} protection snapshot(s) = {allowed} allowed",
                reads as f64 / resyncs.max(1) as f64
            ),
            reads <= allowed,
        ))
    }

    /// c) Remove 1% of the edges out of band; the next resync repairs them.
    pub async fn drift(&mut self) -> TestResult<ScenarioResult> {
        let control = self.env.sim.control();
        let namespace = self.env.namespace.clone();
        let containers = cluster::group_descriptors(&self.client, &namespace).await?;
        let w = self.settings.workload;
        let drift = ((w.edges() as f64 * DRIFT_SHARE).ceil() as usize).max(1);
        let before = self.operator()?.reconciles().await?;
        control.clear_requests();
        let sample = self.operator()?.start()?;
        let removed: Vec<(String, String)> = control.with_state(|state| {
            let Some(org) = state.organization_mut(ORGANIZATION) else {
                return Vec::new();
            };
            let mut ours: Vec<(String, String)> = org
                .memberships
                .iter()
                .filter(|m| containers.contains(&m.container))
                .map(|m| (m.container.clone(), m.member.clone()))
                .collect();
            ours.sort();
            let step = (ours.len() / drift).max(1);
            let chosen: Vec<(String, String)> =
                ours.into_iter().step_by(step).take(drift).collect();
            org.memberships
                .retain(|m| !chosen.contains(&(m.container.clone(), m.member.clone())));
            chosen
        });
        if removed.len() != drift {
            return Err(format!("removed {} edges, wanted {drift}", removed.len()).into());
        }
        let injected = Instant::now();
        let resync = self.settings.resync;
        let limit = resync.mul_f64(1.0 + RESYNC_JITTER) + Duration::from_secs(60);
        let repaired = loop {
            let missing = control.with_state(|state| {
                state
                    .organization(ORGANIZATION)
                    .map_or(removed.len(), |org| {
                        removed
                            .iter()
                            .filter(|(c, m)| !org.has_membership(c, m))
                            .count()
                    })
            });
            if missing == 0 {
                break injected.elapsed();
            }
            if injected.elapsed() > limit {
                return Err(format!("{missing}/{drift} removed edges still missing").into());
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        };
        let after = self.wait_reconciled(&before, limit).await?;
        let traffic = Traffic::from_log(&control.requests());
        let footprint = self.operator()?.footprint(sample)?;
        let s = &self.settings;
        let bound = bounds::resync(&s.workload, &s.pace, drift as u64);
        let extra = self.extra_reconciles(&before, &after);
        let writes = traffic.writes;
        let puts = traffic.count("PUT", "/memberships/{subject}/{container}");
        let within = resync.mul_f64(1.0 + RESYNC_JITTER).as_secs_f64() + bound.seconds + 5.0;
        let mut result = ScenarioResult {
            id: "c",
            name: "drift repair",
            objects: s.workload.objects(),
            seconds_meaning: "first to last request of the resync pass that repaired the drift",
            seconds: traffic.span_seconds,
            traffic,
            retry_after_violations: control.total_retry_after_violations(),
            footprint,
            bound,
            notes: vec![
                ("edges removed".into(), drift.to_string()),
                (
                    "repaired after".into(),
                    format!(
                        "{:.1} s (resync interval {resync:?})",
                        repaired.as_secs_f64()
                    ),
                ),
                (
                    "reconciles beyond one per object".into(),
                    format!("{extra:?}"),
                ),
            ],
            checks: Vec::new(),
        };
        result.checks = vec![
            Check::new(
                "drift writes == drift",
                format!("{writes} writes ({puts} edge PUTs) for {drift} removed edges"),
                writes == drift as u64,
            ),
            Check::new(
                "repaired within one resync",
                format!("{:.1} s <= {within:.1} s", repaired.as_secs_f64()),
                repaired.as_secs_f64() <= within,
            ),
            rss_check(&footprint),
        ];
        Ok(result)
    }

    /// d) The cold converge in a fresh namespace, with the simulator back at its seed and its
    /// per-identity rate limit on.
    pub async fn throttled(&mut self) -> TestResult<ScenarioResult> {
        self.stop_operator().await?;
        let control = self.env.sim.control();
        control.reset()?;
        let limit = self.settings.throttling;
        let mut faults = latency_faults(&self.settings.pace);
        faults.throttling = Some(Throttling {
            budget: limit.budget as f64,
            window_seconds: limit.window_seconds as u64,
            delay_from: limit.delay_from,
            ..Throttling::default()
        });
        control.set_faults(faults);
        let namespace = self.env.cp.new_namespace("bench-throttled").await?;
        // Only the new namespace: the first one's objects stay in the cluster, untouched.
        self.start_operator(Some(&namespace), NO_RESYNC).await?;
        self.wait_organization_ready(Duration::from_secs(60))
            .await?;
        // The first namespace's objects still hold their users' entitlements (one object per
        // entitlement, cluster-wide): this namespace entitles the next users of the directory.
        let first_entitled = self.settings.workload.entitlements;
        let (seconds, created, traffic, footprint, violations) =
            self.converge(&namespace, first_entitled).await?;
        let s = &self.settings;
        let mut pace = s.pace;
        pace.rate_limit = Some(limit);
        let bound = bounds::cold(&s.workload, &pace);
        let mut result = ScenarioResult {
            id: "d",
            name: "cold, rate-limited",
            objects: s.workload.objects(),
            seconds_meaning: "from the first create until every object is Ready",
            seconds,
            traffic,
            retry_after_violations: violations,
            footprint,
            bound,
            notes: vec![
                ("objects created in".into(), format!("{created:.1} s")),
                (
                    "rate limit".into(),
                    format!(
                        "{} requests per {} s sliding window per identity; answers delayed past {:.0}%",
                        limit.budget,
                        limit.window_seconds,
                        limit.delay_from * 100.0
                    ),
                ),
            ],
            checks: Vec::new(),
        };
        result.checks = vec![
            Check::new(
                "no request before Retry-After elapsed",
                format!(
                    "{violations} violations ({} requests arrived < 1 s after a 429 of theirs, at most {:.1} ms after it)",
                    result.traffic.early_after_429.count,
                    result.traffic.early_after_429.max_gap_ms
                ),
                violations == 0,
            ),
            Check::new(
                "requests <= 1.3 x lower bound",
                format!("{:.2}x", result.requests_ratio()),
                result.requests_ratio() <= 1.3,
            ),
            rss_check(&footprint),
        ];
        Ok(result)
    }
}

fn latency_faults(pace: &Pace) -> Faults {
    Faults {
        latency: Some(Latency {
            fixed_ms: (pace.latency_seconds * 1000.0).round() as u64,
            jitter_ms: 0,
        }),
        ..Faults::default()
    }
}

fn rss_check(footprint: &Footprint) -> Check {
    Check::new(
        format!("peak RSS <= {RSS_TARGET_MIB} MiB"),
        format!("{:.1} MiB", footprint.peak_rss_mib),
        footprint.peak_rss_mib <= RSS_TARGET_MIB,
    )
}
