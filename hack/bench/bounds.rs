//! Lower bounds: the fewest Azure DevOps requests any client of the documented API needs for a
//! scenario, and the least time they take at the configured concurrency and latency.
//!
//! Rules (docs/benchmark.md explains them): every object is reconciled on its own (no batching
//! across objects); an id resolved once may be reused (caches are allowed); an answer a write
//! already gives is not read again (a group create answers 409 when the group exists; a
//! permission PATCH merges and returns the merged document; a user materialization returns the
//! descriptor); a state that must be compared (drift) needs one read per object.

use serde::Serialize;

use crate::workload::Workload;

/// One line of a bound's derivation.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Term {
    pub what: &'static str,
    pub reads: u64,
    pub writes: u64,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Bound {
    pub reads: u64,
    pub writes: u64,
    /// Least time at the configured concurrency and latency (and rate limit, if any).
    pub seconds: f64,
    pub terms: Vec<Term>,
}

impl Bound {
    pub fn requests(&self) -> u64 {
        self.reads + self.writes
    }
}

/// How fast requests can go: the operator's per-organization concurrency, the simulator's
/// latency, and its rate limit when on.
#[derive(Debug, Clone, Copy, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Pace {
    pub concurrency: usize,
    pub latency_seconds: f64,
    pub rate_limit: Option<RateLimit>,
}

#[derive(Debug, Clone, Copy, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RateLimit {
    pub budget: u64,
    pub window_seconds: f64,
    /// Share of the budget from which answers are delayed (still 200).
    pub delay_from: f64,
}

/// Requests one after the other on the longest dependency chain of a cold converge: project,
/// scope descriptor, group create, member list (Exclusive), user materialization, edge.
const COLD_CHAIN: u64 = 6;

impl Pace {
    /// `requests` spread over `concurrency` slots, but no faster than `chain` requests in a row,
    /// nor than the rate limit lets through (the n-th request of an identity cannot go before
    /// `window * floor((n - 1) / budget)`).
    fn seconds(&self, requests: u64, chain: u64) -> f64 {
        let spread = requests as f64 * self.latency_seconds / self.concurrency.max(1) as f64;
        let chained = chain as f64 * self.latency_seconds;
        let limited = self
            .rate_limit
            .map(|r| r.window_seconds * (requests.saturating_sub(1) / r.budget.max(1)) as f64)
            .unwrap_or(0.0);
        spread.max(chained).max(limited)
    }
}

fn bound(terms: Vec<Term>, pace: &Pace, chain: u64) -> Bound {
    let reads = terms.iter().map(|t| t.reads).sum();
    let writes = terms.iter().map(|t| t.writes).sum();
    Bound {
        reads,
        writes,
        seconds: pace.seconds(reads + writes, chain),
        terms,
    }
}

/// Every object created from nothing in an empty project.
pub fn cold(w: &Workload, pace: &Pace) -> Bound {
    let n = |x: usize| x as u64;
    let terms = vec![
        Term {
            what: "project id and scope descriptor of the project (once)",
            reads: 2,
            writes: 0,
        },
        Term {
            what: "create each group (a duplicate would answer 409)",
            reads: 0,
            writes: n(w.groups),
        },
        Term {
            what: "materialize each distinct member once (POST answers the descriptor)",
            reads: 0,
            writes: n(w.distinct_members()),
        },
        Term {
            what: "read the members of each Exclusive membership's group",
            reads: n(w.exclusive_memberships()),
            writes: 0,
        },
        Term {
            what: "add each edge",
            reads: 0,
            writes: n(w.edges()),
        },
        Term {
            what: "list the project's environments and pipelines (once each)",
            reads: 2,
            writes: 0,
        },
        Term {
            what: "one merging PATCH per resource",
            reads: 0,
            writes: n(w.authorizations),
        },
        Term {
            what: "the roles the environment scope defines (once)",
            reads: 1,
            writes: 0,
        },
        Term {
            what: "identity id (storage key) of each distinct role member",
            reads: n(w.distinct_role_members()),
            writes: 0,
        },
        Term {
            what: "read each resource's role assignments (Additive must not replace a role someone else gave)",
            reads: n(w.role_assignments),
            writes: 0,
        },
        Term {
            what: "one PUT per resource with all its roles",
            reads: 0,
            writes: n(w.role_assignments),
        },
        Term {
            what: "read each resource's checks, with settings (approvers' identity ids are the role members', already resolved)",
            reads: n(w.resource_checks),
            writes: 0,
        },
        Term {
            what: "one POST per check (its answer is the created check)",
            reads: 0,
            writes: n(w.checks()),
        },
        Term {
            what: "identity id (storage key) of each entitled user (members, so already materialized) and a read of its entitlement (404)",
            reads: 2 * n(w.entitlements),
            writes: 0,
        },
        Term {
            what: "one POST per entitlement, level and project entitlement together",
            reads: 0,
            writes: n(w.entitlements),
        },
    ];
    bound(terms, pace, COLD_CHAIN)
}

/// One pass over converged objects: one read per object to compare, `drift` writes to repair.
pub fn resync(w: &Workload, pace: &Pace, drift: u64) -> Bound {
    let n = |x: usize| x as u64;
    let mut terms = vec![
        Term {
            what: "read each group",
            reads: n(w.groups),
            writes: 0,
        },
        Term {
            what: "list the members of each membership's group",
            reads: n(w.memberships),
            writes: 0,
        },
        Term {
            what: "read each resource's pipeline permissions",
            reads: n(w.authorizations),
            writes: 0,
        },
        Term {
            what: "read each resource's role assignments",
            reads: n(w.role_assignments),
            writes: 0,
        },
        Term {
            what: "read each resource's checks",
            reads: n(w.resource_checks),
            writes: 0,
        },
        Term {
            what: "read each user's entitlement",
            reads: n(w.entitlements),
            writes: 0,
        },
    ];
    if drift > 0 {
        terms.push(Term {
            what: "re-add each edge removed out of band",
            reads: 0,
            writes: drift,
        });
    }
    bound(terms, pace, if drift > 0 { 2 } else { 1 })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pace() -> Pace {
        Pace {
            concurrency: 8,
            latency_seconds: 0.025,
            rate_limit: None,
        }
    }

    #[test]
    fn cold_full_scale_bound() {
        let b = cold(&Workload::FULL, &pace());
        assert_eq!(b.writes, 200 + 2_000 + 5_000 + 100 + 100 + 200 + 100);
        assert_eq!(b.reads, 2 + 100 + 2 + 1 + 500 + 100 + 100 + 200);
        assert!((b.seconds - 8_705.0 * 0.025 / 8.0).abs() < 1e-9);
    }

    #[test]
    fn a_rate_limit_can_dominate() {
        let mut p = pace();
        p.rate_limit = Some(RateLimit {
            budget: 2_000,
            window_seconds: 30.0,
            delay_from: 0.8,
        });
        let b = cold(&Workload::FULL, &p);
        assert_eq!(b.seconds, 120.0);
        let r = resync(&Workload::FULL, &pace(), 50);
        assert_eq!((r.reads, r.writes), (800, 50));
    }
}
