//! Listings that must be fresh, shared by the callers who wait for one.
//!
//! Before creating a group, the operator lists the scope: a group that existed before must never
//! look created by this object (the search can lag behind, and a duplicate create may answer
//! with the existing group). Each caller needs a listing that *began after it asked*; an older
//! one may miss a group created meanwhile. That is all it needs: one listing that began after
//! several callers asked answers all of them. So listings of a scope run one at a time, and a
//! caller that finds one begun after it asked (just finished, or finished while it waited for its
//! turn) takes that one instead of sending its own. When 2,000 groups are created in one
//! project, the pages sent fall from one listing per group to one per round of waiting callers.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use tokio::sync::Mutex as AsyncMutex;

pub(crate) struct FreshListings<T> {
    scopes: Mutex<HashMap<String, Arc<Scope<T>>>>,
}

struct Scope<T> {
    /// Held while a listing of the scope is being fetched.
    turn: AsyncMutex<()>,
    /// The latest listing and when it began.
    latest: Mutex<Option<(Instant, Arc<Vec<T>>)>>,
}

impl<T> Default for FreshListings<T> {
    fn default() -> Self {
        Self {
            scopes: Mutex::new(HashMap::new()),
        }
    }
}

impl<T> Scope<T> {
    fn begun_since(&self, asked: Instant) -> Option<Arc<Vec<T>>> {
        let latest = self.latest.lock().unwrap_or_else(|p| p.into_inner());
        match &*latest {
            Some((begun, listing)) if *begun >= asked => Some(listing.clone()),
            _ => None,
        }
    }
}

impl<T> FreshListings<T> {
    /// A listing of `scope` that began at `asked` or later: one that another caller fetched, or
    /// `fetch`'s. A failed fetch is this caller's error only; the next caller fetches again.
    pub(crate) async fn since<E, Fut>(
        &self,
        scope: &str,
        asked: Instant,
        fetch: impl FnOnce() -> Fut,
    ) -> Result<Arc<Vec<T>>, E>
    where
        Fut: Future<Output = Result<Vec<T>, E>>,
    {
        let scope = {
            let mut scopes = self.scopes.lock().unwrap_or_else(|p| p.into_inner());
            scopes
                .entry(scope.to_string())
                .or_insert_with(|| {
                    Arc::new(Scope {
                        turn: AsyncMutex::new(()),
                        latest: Mutex::new(None),
                    })
                })
                .clone()
        };
        if let Some(listing) = scope.begun_since(asked) {
            return Ok(listing);
        }
        let _turn = scope.turn.lock().await;
        if let Some(listing) = scope.begun_since(asked) {
            return Ok(listing);
        }
        let begun = Instant::now();
        let listing = Arc::new(fetch().await?);
        *scope.latest.lock().unwrap_or_else(|p| p.into_inner()) = Some((begun, listing.clone()));
        Ok(listing)
    }

    /// Drop the listings kept (they are only reused while fresh; this frees their memory).
    pub(crate) fn clear(&self) {
        self.scopes
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    async fn list(
        listings: &FreshListings<u32>,
        fetches: &AtomicUsize,
        asked: Instant,
    ) -> Arc<Vec<u32>> {
        listings
            .since("scope", asked, || async {
                let n = fetches.fetch_add(1, Ordering::SeqCst) as u32;
                tokio::time::sleep(Duration::from_millis(50)).await;
                Ok::<_, ()>(vec![n])
            })
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn a_listing_begun_before_the_caller_asked_is_never_reused() {
        let listings = FreshListings::default();
        let fetches = AtomicUsize::new(0);
        let first = list(&listings, &fetches, Instant::now()).await;
        let second = list(&listings, &fetches, Instant::now()).await;
        assert_eq!((first[0], second[0]), (0, 1));
        assert_eq!(fetches.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn callers_waiting_for_their_turn_share_the_next_listing() {
        let listings = FreshListings::default();
        let fetches = AtomicUsize::new(0);
        // The first caller's listing is under way when ten more ask: none of them may take it,
        // and one listing begun after all of them asked answers them all.
        let first = list(&listings, &fetches, Instant::now());
        let later = async {
            tokio::time::sleep(Duration::from_millis(10)).await;
            let asked = Instant::now();
            futures::future::join_all((0..10).map(|_| list(&listings, &fetches, asked))).await
        };
        let (first, later) = tokio::join!(first, later);
        assert_eq!(first[0], 0);
        assert!(later.iter().all(|l| l[0] == 1), "{later:?}");
        assert_eq!(fetches.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn a_failed_listing_is_not_kept() {
        let listings: FreshListings<u32> = FreshListings::default();
        let asked = Instant::now();
        let failed = listings
            .since("scope", asked, || async { Err::<Vec<u32>, _>("down") })
            .await;
        assert_eq!(failed.unwrap_err(), "down");
        let fetches = AtomicUsize::new(0);
        assert_eq!(list(&listings, &fetches, asked).await[0], 0);
        assert_eq!(fetches.load(Ordering::SeqCst), 1);
    }
}
