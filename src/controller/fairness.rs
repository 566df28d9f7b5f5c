//! Reconcile workers shared fairly between namespaces. kube-runtime runs up to
//! `--reconcile-concurrency` reconciles of a kind at once, taken from one queue; a namespace
//! with many objects (or a slow organization) could hold every worker while other namespaces'
//! objects wait. When every other worker of the kind is busy and the namespace already runs its
//! share (`--namespace-share`), the reconcile is deferred by a moment instead of taking the last
//! worker, which goes to whoever is next in the queue. Nothing is reserved: a namespace alone
//! (or a quiet operator) uses every worker.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

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
}

/// One running reconcile; counted until dropped.
pub struct Turn {
    workers: Arc<Workers>,
    kind: String,
    namespace: String,
}

impl Drop for Turn {
    fn drop(&mut self) {
        let mut running = self.workers.running.lock().expect("workers lock");
        decrement(&mut running.by_kind, &self.kind);
        decrement(
            &mut running.by_namespace,
            &(self.kind.clone(), self.namespace.clone()),
        );
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
    /// other worker of the kind is busy and the namespace already runs its share.
    pub fn enter(self: &Arc<Self>, kind: &str, namespace: &str) -> Option<Turn> {
        let mut running = self.running.lock().expect("workers lock");
        let key = (kind.to_string(), namespace.to_string());
        let of_kind = running.by_kind.get(kind).copied().unwrap_or(0);
        let of_namespace = running.by_namespace.get(&key).copied().unwrap_or(0);
        if of_kind + 1 >= self.capacity && of_namespace >= self.share {
            return None;
        }
        *running.by_kind.entry(key.0.clone()).or_default() += 1;
        *running.by_namespace.entry(key).or_default() += 1;
        Some(Turn {
            workers: self.clone(),
            kind: kind.to_string(),
            namespace: namespace.to_string(),
        })
    }
}

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
