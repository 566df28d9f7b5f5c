//! Fairness between tenants inside one organization's client: the namespace a call is made for
//! and the time its reconcile may still take, carried as a task-local set by the reconcile loop
//! ([`on_behalf_of`]).
//!
//! - **A fair turn at the organization's request slots.** When the slots are all taken, the
//!   next free one goes to the next waiting namespace in turn, so however many calls one
//!   namespace queues, every other namespace gets one call through per round.
//! - **A deadline.** A call is not started once the reconcile's time is up: the reconcile ends
//!   with `DeadlineExceeded` and its worker goes back to the others. The check sits between
//!   calls, never inside one, so a write is never cut in half; what the reconcile did so far is
//!   recorded as usual and the rest continues at its next attempt.

use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::oneshot;
use tokio::time::Instant;

use super::AdoError;

/// Whom a call is made for.
#[derive(Debug, Clone)]
pub struct Tenant {
    /// The namespace of the object being reconciled.
    pub namespace: String,
    /// When the reconcile's time is up.
    pub deadline: Option<Instant>,
    /// The budget the deadline came from, for messages.
    pub budget: Duration,
    /// The reconcile only observes: the client refuses every write (a guard under the kinds'
    /// own Observe handling, which never sends one).
    pub observing: bool,
}

impl Tenant {
    pub fn new(namespace: impl Into<String>, budget: Duration) -> Self {
        Self {
            namespace: namespace.into(),
            deadline: Some(Instant::now() + budget),
            budget,
            observing: false,
        }
    }

    /// The same tenant, observing only (see `check_may_write`).
    pub fn observing(mut self, observing: bool) -> Self {
        self.observing = observing;
        self
    }
}

tokio::task_local! {
    static TENANT: Tenant;
}

/// Run `work` (one reconcile) on behalf of `tenant`: every call it makes counts against that
/// namespace's share and stops at its deadline.
pub async fn on_behalf_of<F: Future>(tenant: Tenant, work: F) -> F::Output {
    TENANT.scope(tenant, work).await
}

fn current() -> Option<Tenant> {
    TENANT.try_with(Tenant::clone).ok()
}

/// `DeadlineExceeded` when the current reconcile's time is up.
pub(crate) fn check_deadline(operation: &'static str) -> Result<(), AdoError> {
    match current() {
        Some(Tenant {
            deadline: Some(deadline),
            budget,
            ..
        }) if Instant::now() >= deadline => Err(AdoError::DeadlineExceeded { operation, budget }),
        _ => Ok(()),
    }
}

/// `ObserveOnly` when the current reconcile only observes: a write is never sent for it.
pub(crate) fn check_may_write(operation: &'static str, writes: bool) -> Result<(), AdoError> {
    match current() {
        Some(Tenant {
            observing: true, ..
        }) if writes => Err(AdoError::ObserveOnly { operation }),
        _ => Ok(()),
    }
}

/// One organization's request slots, handed out fairly between namespaces: a free slot goes
/// to whoever asks; when none is free, waiters are served round-robin by namespace, so a
/// namespace with a thousand calls queued waits its turn behind one call of each other waiting
/// namespace. Nothing is reserved: a namespace alone uses every slot.
pub(crate) struct Shares {
    capacity: usize,
    state: Mutex<Queue>,
}

#[derive(Default)]
struct Queue {
    in_use: usize,
    /// Waiters by namespace, and the namespaces in the order they are served.
    waiting: HashMap<String, VecDeque<oneshot::Sender<()>>>,
    turns: VecDeque<String>,
}

/// A request slot; freed (and handed to the next namespace in turn) on drop.
pub(crate) struct Slot {
    shares: Arc<Shares>,
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.shares.release();
    }
}

/// A waiter in the queue; see [`Shares::enter`].
struct Waiting {
    rx: Option<oneshot::Receiver<()>>,
    shares: Arc<Shares>,
}

impl Drop for Waiting {
    fn drop(&mut self) {
        if let Some(mut rx) = self.rx.take() {
            rx.close();
            if rx.try_recv().is_ok() {
                self.shares.release();
            }
        }
    }
}

impl Shares {
    pub(crate) fn new(capacity: usize) -> Arc<Self> {
        Arc::new(Self {
            capacity: capacity.max(1),
            state: Mutex::new(Queue::default()),
        })
    }

    /// Wait for a slot (outside a reconcile, calls count as one more namespace).
    pub(crate) async fn enter(self: &Arc<Self>) -> Slot {
        let namespace = current().map(|t| t.namespace).unwrap_or_default();
        let wait = {
            let mut q = self.state.lock().expect("shares lock");
            if q.in_use < self.capacity && q.turns.is_empty() {
                q.in_use += 1;
                None
            } else {
                let (tx, rx) = oneshot::channel();
                if !q.waiting.contains_key(&namespace) {
                    q.turns.push_back(namespace.clone());
                }
                q.waiting.entry(namespace).or_default().push_back(tx);
                Some(rx)
            }
        };
        if let Some(rx) = wait {
            // The slot is handed over with `in_use` already counted; a waiter dropped after it
            // was handed one gives it back.
            let mut waiting = Waiting {
                rx: Some(rx),
                shares: self.clone(),
            };
            if let Some(rx) = waiting.rx.as_mut() {
                let _ = rx.await;
            }
            waiting.rx = None;
        }
        Slot {
            shares: self.clone(),
        }
    }

    /// Free a slot: give it to the first waiter of the next namespace in turn.
    fn release(&self) {
        let mut q = self.state.lock().expect("shares lock");
        while let Some(namespace) = q.turns.pop_front() {
            let Some(waiters) = q.waiting.get_mut(&namespace) else {
                continue;
            };
            let next = waiters.pop_front();
            if waiters.is_empty() {
                q.waiting.remove(&namespace);
            } else {
                q.turns.push_back(namespace);
            }
            if let Some(tx) = next {
                if tx.send(()).is_ok() {
                    return; // the slot passes on; in_use is unchanged
                }
            }
        }
        q.in_use -= 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn waiting_namespaces_take_turns() {
        let shares = Shares::new(1);
        let held = shares.enter().await;
        let order = Arc::new(Mutex::new(Vec::new()));
        let mut tasks = Vec::new();
        // "busy" queues three calls before "quiet" queues one.
        for (i, namespace) in ["busy", "busy", "busy", "quiet"].into_iter().enumerate() {
            let (mine, order) = (shares.clone(), order.clone());
            tasks.push(tokio::spawn(on_behalf_of(
                Tenant::new(namespace, Duration::from_secs(60)),
                async move {
                    let _slot = mine.enter().await;
                    order.lock().unwrap().push(namespace);
                    tokio::task::yield_now().await;
                },
            )));
            // Let each queue up before the next, so the order of arrival is known.
            while shares
                .state
                .lock()
                .unwrap()
                .waiting
                .values()
                .map(VecDeque::len)
                .sum::<usize>()
                <= i
            {
                tokio::task::yield_now().await;
            }
        }
        drop(held);
        for task in tasks {
            task.await.unwrap();
        }
        assert_eq!(*order.lock().unwrap(), ["busy", "quiet", "busy", "busy"]);
        assert_eq!(
            shares.state.lock().unwrap().in_use,
            0,
            "every slot came back"
        );
    }

    #[tokio::test]
    async fn a_namespace_alone_uses_every_slot() {
        let shares = Shares::new(3);
        let slots = on_behalf_of(Tenant::new("alone", Duration::from_secs(60)), async {
            vec![
                shares.enter().await,
                shares.enter().await,
                shares.enter().await,
            ]
        })
        .await;
        assert_eq!(shares.state.lock().unwrap().in_use, 3);
        drop(slots);
        assert_eq!(shares.state.lock().unwrap().in_use, 0);
    }

    #[tokio::test(start_paused = true)]
    async fn calls_stop_at_the_deadline() {
        let tenant = Tenant::new("slow", Duration::from_secs(5));
        on_behalf_of(tenant, async {
            assert!(check_deadline("test").is_ok());
            tokio::time::sleep(Duration::from_secs(6)).await;
            assert!(matches!(
                check_deadline("test"),
                Err(AdoError::DeadlineExceeded { .. })
            ));
        })
        .await;
        assert!(
            check_deadline("test").is_ok(),
            "no deadline outside a reconcile"
        );
    }
}
