//! Reconcile workers shared fairly between namespaces. kube-runtime runs up to
//! `--reconcile-concurrency` reconciles of a kind at once, taken from one queue; a namespace
//! with many objects (or a slow organization) could hold every worker while other namespaces'
//! objects wait. When every other worker of the kind is busy and the namespace already runs its
//! share (`--namespace-share`), the reconcile is deferred by a moment instead of taking the last
//! worker, which goes to whoever is next in the queue.
//!
//! Deferring has a cost: the last worker then cycles through the namespace's whole backlog,
//! one deferral per object per wait (with a fixed one-second wait, at 8,000 objects in one
//! namespace, some 700 a second and most of the operator's CPU). So a deferred reconcile waits
//! at the namespace's pace ([`Workers::deferral`]), and the last worker is kept back only while
//! it can matter:
//! another namespace wanted a worker of the kind in the last [`RECENT`], or the namespace's
//! reconciles are not known to be quick (none finished yet, as when its calls hang, or their
//! mean exceeds [`QUICK`]). A namespace alone whose reconciles finish quickly uses every worker.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Another namespace that asked for a worker this recently may be waiting for one.
pub const RECENT: Duration = Duration::from_secs(2);
/// Reconciles that finish within this (on average) free their worker soon enough that keeping
/// the last one back is not needed while no other namespace waits. Well above what a
/// reconcile takes under load (a membership waiting for request slots takes seconds; at 1 s,
/// 10× the documented workload still deferred 1.6 million times in 13 minutes), well below a
/// hung call (the transport's 30 s timeout).
pub const QUICK: Duration = Duration::from_secs(10);

/// Running reconciles, per kind and per (kind, namespace).
pub struct Workers {
    capacity: usize,
    share: usize,
    running: Mutex<Running>,
}

#[derive(Default)]
struct Running {
    by_kind: HashMap<String, usize>,
    by_namespace: HashMap<(String, String), usize>,
    /// Per (kind, namespace): when it last asked for a worker, and how long its reconciles take.
    pace: HashMap<(String, String), Pace>,
}

#[derive(Clone, Copy)]
struct Pace {
    asked: Instant,
    /// Mean duration of its finished reconciles (exponentially weighted); `None` until one
    /// finished.
    mean: Option<Duration>,
}

/// One running reconcile; counted until dropped.
pub struct Turn {
    workers: Arc<Workers>,
    kind: String,
    namespace: String,
    started: Instant,
}

impl Drop for Turn {
    fn drop(&mut self) {
        let mut running = self.workers.running.lock().expect("workers lock");
        let key = (self.kind.clone(), self.namespace.clone());
        decrement(&mut running.by_kind, &self.kind);
        decrement(&mut running.by_namespace, &key);
        let took = self.started.elapsed();
        if let Some(pace) = running.pace.get_mut(&key) {
            pace.mean = Some(match pace.mean {
                Some(mean) => (mean * 7 + took) / 8,
                None => took,
            });
        }
    }
}

fn decrement<K: std::hash::Hash + Eq + Clone>(map: &mut HashMap<K, usize>, key: &K) {
    if let Some(n) = map.get_mut(key) {
        *n -= 1;
        if *n == 0 {
            map.remove(key);
        }
    }
}

impl Workers {
    /// `capacity` workers per kind; a namespace's share is `share` of them (at least one).
    pub fn new(capacity: usize, share: usize) -> Arc<Self> {
        Arc::new(Self {
            capacity: capacity.max(1),
            share: share.max(1),
            running: Mutex::new(Running::default()),
        })
    }

    /// A turn for a reconcile of `kind` in `namespace`, or `None` when it should wait: every
    /// other worker of the kind is busy, the namespace already runs its share, and keeping the
    /// last worker back can matter (see the module documentation).
    pub fn enter(self: &Arc<Self>, kind: &str, namespace: &str) -> Option<Turn> {
        let mut running = self.running.lock().expect("workers lock");
        let now = Instant::now();
        let key = (kind.to_string(), namespace.to_string());
        let of_kind = running.by_kind.get(kind).copied().unwrap_or(0);
        let of_namespace = running.by_namespace.get(&key).copied().unwrap_or(0);
        let last_worker = of_kind + 1 >= self.capacity && of_namespace >= self.share;
        let others_asked = running
            .pace
            .iter()
            .any(|((k, n), p)| k == kind && n != namespace && now.duration_since(p.asked) < RECENT);
        let pace = running.pace.entry(key.clone()).or_insert(Pace {
            asked: now,
            mean: None,
        });
        pace.asked = now;
        let quick = pace.mean.is_some_and(|mean| mean < QUICK);
        if last_worker && (others_asked || !quick) {
            return None;
        }
        *running.by_kind.entry(key.0.clone()).or_default() += 1;
        *running.by_namespace.entry(key).or_default() += 1;
        Some(Turn {
            workers: self.clone(),
            kind: kind.to_string(),
            namespace: namespace.to_string(),
            started: now,
        })
    }

    /// How long a reconcile [`Workers::enter`] turned away waits before it asks again: about as
    /// long as the namespace's reconciles of the kind take (a worker is not free sooner), within
    /// [`DEFERRAL_MIN`] and [`DEFERRAL_MAX`]; [`DEFERRAL_UNKNOWN`] before one finished. (A fixed
    /// second made the last worker cycle through a backlog of 2,000 slow group reconciles some
    /// 340 times a second.)
    pub fn deferral(&self, kind: &str, namespace: &str) -> Duration {
        let running = self.running.lock().expect("workers lock");
        running
            .pace
            .get(&(kind.to_string(), namespace.to_string()))
            .and_then(|p| p.mean)
            .map_or(DEFERRAL_UNKNOWN, |mean| {
                mean.clamp(DEFERRAL_MIN, DEFERRAL_MAX)
            })
    }
}

/// Bounds of [`Workers::deferral`], and its value while no reconcile finished.
const DEFERRAL_MIN: Duration = Duration::from_millis(500);
const DEFERRAL_MAX: Duration = Duration::from_secs(10);
const DEFERRAL_UNKNOWN: Duration = Duration::from_secs(1);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_namespace_alone_uses_every_worker() {
        let workers = Workers::new(4, 2);
        let turns: Vec<_> = (0..3)
            .map(|_| workers.enter("DevOpsGroup", "busy").expect("a worker"))
            .collect();
        assert_eq!(turns.len(), 3);
    }

    #[test]
    fn the_last_worker_is_not_taken_by_a_namespace_past_its_share() {
        let workers = Workers::new(4, 2);
        let _busy: Vec<_> = (0..3)
            .map(|_| workers.enter("DevOpsGroup", "busy").expect("a worker"))
            .collect();
        assert!(
            workers.enter("DevOpsGroup", "busy").is_none(),
            "busy runs 3 of 4, past its share of 2: the last worker is left to others"
        );
        assert!(workers.enter("DevOpsGroup", "quiet").is_some());
        assert!(
            workers.enter("DevOpsMembership", "busy").is_some(),
            "other kinds have their own workers"
        );
    }

    #[test]
    fn a_namespace_alone_with_quick_reconciles_takes_the_last_worker_until_another_asks() {
        let workers = Workers::new(4, 2);
        // One quick reconcile finished: the namespace is known to be quick.
        drop(workers.enter("DevOpsGroup", "busy").expect("a worker"));
        let _busy: Vec<_> = (0..3)
            .map(|_| workers.enter("DevOpsGroup", "busy").expect("a worker"))
            .collect();
        let last = workers.enter("DevOpsGroup", "busy");
        assert!(last.is_some(), "alone and quick: no worker is kept back");
        drop(last);
        // Another namespace asks (and gets the freed worker): the last worker is kept back again.
        let _quiet = workers.enter("DevOpsGroup", "quiet").expect("a worker");
        assert!(workers.enter("DevOpsGroup", "busy").is_none());
    }

    #[test]
    fn a_namespace_whose_reconciles_never_finished_does_not_take_the_last_worker() {
        // As when its calls hang: nothing is known to be quick, alone or not.
        let workers = Workers::new(4, 2);
        let _hung: Vec<_> = (0..3)
            .map(|_| {
                workers
                    .enter("DevOpsOrganization", "slow")
                    .expect("a worker")
            })
            .collect();
        assert!(workers.enter("DevOpsOrganization", "slow").is_none());
        assert!(workers.enter("DevOpsOrganization", "victim").is_some());
    }

    #[test]
    fn a_deferred_reconcile_waits_about_as_long_as_the_namespace_s_reconciles_take() {
        let workers = Workers::new(2, 1);
        assert_eq!(workers.deferral("K", "a"), DEFERRAL_UNKNOWN);
        let turn = workers.enter("K", "a").expect("a worker");
        drop(turn);
        assert_eq!(
            workers.deferral("K", "a"),
            DEFERRAL_MIN,
            "quick: the least wait"
        );
        let took = |seconds| {
            let mut running = workers.running.lock().unwrap();
            let pace = running.pace.get_mut(&("K".to_string(), "a".to_string()));
            pace.unwrap().mean = Some(Duration::from_secs(seconds));
        };
        took(4);
        assert_eq!(workers.deferral("K", "a"), Duration::from_secs(4));
        took(40);
        assert_eq!(workers.deferral("K", "a"), DEFERRAL_MAX);
        assert_eq!(workers.deferral("K", "b"), DEFERRAL_UNKNOWN);
    }

    #[test]
    fn finished_turns_free_their_worker() {
        let workers = Workers::new(2, 1);
        let first = workers.enter("K", "a").expect("a worker");
        assert!(workers.enter("K", "a").is_none());
        drop(first);
        assert!(workers.enter("K", "a").is_some());
        assert!(workers
            .running
            .lock()
            .unwrap()
            .by_kind
            .values()
            .all(|n| *n <= 1));
    }
}
