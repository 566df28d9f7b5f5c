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

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::cache::TtlCache;

/// Scope -> its latest listing and when that listing began. A listing serves only callers that
/// asked before it began, all of them waiting while it is fetched, so it is kept briefly.
pub(crate) struct FreshListings<T> {
    latest: TtlCache<String, (Instant, Arc<Vec<T>>)>,
}

/// How long a listing is kept after it was fetched.
const KEPT: Duration = Duration::from_secs(10);

impl<T> FreshListings<T> {
    pub(crate) fn new(capacity: usize) -> Self {
        Self {
            latest: TtlCache::new(Some(KEPT), capacity),
        }
    }

    fn begun_since(&self, scope: &String, asked: Instant) -> Option<Arc<Vec<T>>> {
        let (begun, listing) = self.latest.get(scope)?;
        (begun >= asked).then_some(listing)
    }

    /// A listing of `scope` that began at `asked` or later: one that another caller fetched, or
    /// `fetch`'s. Fetches of a scope run one at a time ([`TtlCache::fetching`]). A failed fetch
    /// is this caller's error only; the next caller fetches again.
    pub(crate) async fn since<E, Fut>(
        &self,
        scope: &str,
        asked: Instant,
        fetch: impl FnOnce() -> Fut,
    ) -> Result<Arc<Vec<T>>, E>
    where
        Fut: Future<Output = Result<Vec<T>, E>>,
    {
        let scope = scope.to_string();
        if let Some(listing) = self.begun_since(&scope, asked) {
            return Ok(listing);
        }
        let _turn = self.latest.fetching(&scope).await;
        if let Some(listing) = self.begun_since(&scope, asked) {
            return Ok(listing);
        }
        let begun = Instant::now();
        let listing = Arc::new(fetch().await?);
        self.latest.insert(scope, (begun, listing.clone()));
        Ok(listing)
    }

    pub(crate) fn clear(&self) {
        self.latest.clear();
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
        let listings = FreshListings::new(10);
        let fetches = AtomicUsize::new(0);
        let first = list(&listings, &fetches, Instant::now()).await;
        let second = list(&listings, &fetches, Instant::now()).await;
        assert_eq!((first[0], second[0]), (0, 1));
        assert_eq!(fetches.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn callers_waiting_for_their_turn_share_the_next_listing() {
        let listings = FreshListings::new(10);
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
        let listings: FreshListings<u32> = FreshListings::new(10);
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
