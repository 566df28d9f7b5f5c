//! A project's whole listing of pipelines or environments, shared by the name lookups for a
//! short time. Objects name pipelines and environments one by one; asking Azure DevOps for each
//! name costs one call per lookup (5,000 for 1,000 authorizations of 5 pipelines), where one
//! listing of the project (one call per page) answers them all.
//!
//! A name the listing does not hold is listed again only when the listing is older than
//! [`RELIST_ON_MISS_AFTER`] (a pipeline or environment created since), so a name that does not
//! exist costs at most one listing per that interval. A listing is dropped after its TTL
//! (`ClientLimits::listing_ttl`, 60 s by default), and when a lookup by id finds one of its
//! items gone.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::cache::TtlCache;
use super::AdoError;

/// A miss in a listing younger than this is a miss; an older listing is fetched again first.
pub const RELIST_ON_MISS_AFTER: Duration = Duration::from_secs(2);

/// Listings by key (the lower-cased project), with the time each was fetched.
pub(crate) struct Listings<T> {
    cache: TtlCache<String, (Arc<Vec<T>>, Instant)>,
}

impl<T: Clone> Listings<T> {
    pub(crate) fn new(ttl: Duration, capacity: usize) -> Self {
        Self {
            cache: TtlCache::new(Some(ttl), capacity),
        }
    }

    /// The items of `key`'s listing that match, from the cached listing when it holds one or
    /// is fresh, otherwise from a new listing (`fetch`, single-flight per key).
    pub(crate) async fn find<F, Fut>(
        &self,
        key: &str,
        matches: impl Fn(&T) -> bool,
        fetch: F,
    ) -> Result<Vec<T>, AdoError>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Vec<T>, AdoError>>,
    {
        let key = key.to_lowercase();
        let answered = |entry: Option<(Arc<Vec<T>>, Instant)>| {
            let (items, listed_at) = entry?;
            let found = matching(&items, &matches);
            (!found.is_empty() || listed_at.elapsed() < RELIST_ON_MISS_AFTER).then_some(found)
        };
        if let Some(found) = answered(self.cache.get(&key)) {
            return Ok(found);
        }
        let _fetch = self.cache.fetching(&key).await;
        if let Some(found) = answered(self.cache.get(&key)) {
            return Ok(found);
        }
        let items = Arc::new(fetch().await?);
        self.cache.insert(key, (items.clone(), Instant::now()));
        Ok(matching(&items, &matches))
    }

    pub(crate) fn clear(&self) {
        self.cache.clear();
    }

    /// Drop every listing holding an item that matches (it is gone from Azure DevOps).
    pub(crate) fn forget_holding(&self, gone: impl Fn(&T) -> bool) {
        self.cache
            .remove_where(|_, (items, _)| items.iter().any(&gone));
    }
}

fn matching<T: Clone>(items: &[T], matches: &impl Fn(&T) -> bool) -> Vec<T> {
    items.iter().filter(|t| matches(t)).cloned().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[tokio::test]
    async fn one_listing_answers_every_name_and_a_fresh_miss_is_a_miss() {
        let listings = Listings::<&'static str>::new(Duration::from_secs(60), 10);
        let fetches = AtomicUsize::new(0);
        let fetch = || async {
            fetches.fetch_add(1, Ordering::SeqCst);
            Ok(vec!["deploy", "ci", "nightly"])
        };
        let found = listings
            .find("Storefront", |n| *n == "ci", fetch)
            .await
            .unwrap();
        assert_eq!(found, vec!["ci"]);
        let found = listings
            .find("storefront", |n| *n == "deploy", fetch)
            .await
            .unwrap();
        assert_eq!(found, vec!["deploy"]);
        // Not listed, and the listing is fresh: a miss without another call.
        let found = listings
            .find("storefront", |n| *n == "missing", fetch)
            .await
            .unwrap();
        assert!(found.is_empty());
        assert_eq!(fetches.load(Ordering::SeqCst), 1);
        // Another project is another listing.
        listings
            .find("Checkout", |n| *n == "ci", fetch)
            .await
            .unwrap();
        assert_eq!(fetches.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn a_listing_holding_a_gone_item_is_listed_again() {
        let listings = Listings::<i64>::new(Duration::from_secs(60), 10);
        let fetches = AtomicUsize::new(0);
        let fetch = || async {
            fetches.fetch_add(1, Ordering::SeqCst);
            Ok(vec![1, 2, 3])
        };
        listings.find("p", |i| *i == 2, fetch).await.unwrap();
        listings.forget_holding(|i| *i == 9);
        listings.find("p", |i| *i == 2, fetch).await.unwrap();
        assert_eq!(fetches.load(Ordering::SeqCst), 1);
        listings.forget_holding(|i| *i == 3);
        listings.find("p", |i| *i == 2, fetch).await.unwrap();
        assert_eq!(fetches.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn concurrent_lookups_share_one_listing() {
        let listings = Listings::<i64>::new(Duration::from_secs(60), 10);
        let fetches = AtomicUsize::new(0);
        let fetch = || async {
            fetches.fetch_add(1, Ordering::SeqCst);
            tokio::time::sleep(Duration::from_millis(20)).await;
            Ok(vec![1, 2, 3])
        };
        let lookups = (1..=3).map(|n| listings.find("p", move |i| *i == n, fetch));
        let found = futures::future::join_all(lookups).await;
        assert!(found.iter().all(|f| f.as_ref().is_ok_and(|f| f.len() == 1)));
        assert_eq!(fetches.load(Ordering::SeqCst), 1);
    }
}
