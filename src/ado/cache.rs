//! A small bounded cache with optional time-to-live, for ids that save calls, and single-flight
//! fetching: concurrent misses of one key wait for the first fetch instead of each sending
//! their own request.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use tokio::sync::{Mutex as AsyncMutex, OwnedMutexGuard};

pub(crate) struct TtlCache<K, V> {
    entries: Mutex<HashMap<K, (V, Instant)>>,
    ttl: Option<Duration>,
    capacity: usize,
    /// One lock per key being fetched (only keys with a fetch in flight stay in the map).
    fetches: Mutex<HashMap<K, Weak<AsyncMutex<()>>>>,
}

impl<K: Eq + Hash + Clone, V: Clone> TtlCache<K, V> {
    /// `ttl = None`: entries stay until removed or evicted for capacity.
    pub(crate) fn new(ttl: Option<Duration>, capacity: usize) -> Self {
        Self {
            entries: Mutex::new(HashMap::new()),
            ttl,
            capacity: capacity.max(1),
            fetches: Mutex::new(HashMap::new()),
        }
    }

    /// Hold the returned guard while fetching `key` after a miss, then look again: a concurrent
    /// fetch of the same key waits here and, once the first one has inserted the value, finds
    /// it in the cache instead of sending a second request.
    pub(crate) async fn fetching(&self, key: &K) -> OwnedMutexGuard<()> {
        let lock = {
            let mut fetches = self.fetches.lock().unwrap_or_else(|p| p.into_inner());
            fetches.retain(|_, lock| lock.strong_count() > 0);
            match fetches.get(key).and_then(Weak::upgrade) {
                Some(lock) => lock,
                None => {
                    let lock = Arc::new(AsyncMutex::new(()));
                    fetches.insert(key.clone(), Arc::downgrade(&lock));
                    lock
                }
            }
        };
        lock.lock_owned().await
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<K, (V, Instant)>> {
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn expired(&self, inserted: Instant, now: Instant) -> bool {
        self.ttl
            .is_some_and(|ttl| now.duration_since(inserted) >= ttl)
    }

    pub(crate) fn get(&self, key: &K) -> Option<V> {
        let now = Instant::now();
        let mut entries = self.lock();
        match entries.get(key) {
            Some((value, inserted)) if !self.expired(*inserted, now) => Some(value.clone()),
            Some(_) => {
                entries.remove(key);
                None
            }
            None => None,
        }
    }

    pub(crate) fn insert(&self, key: K, value: V) {
        let now = Instant::now();
        let mut entries = self.lock();
        if entries.len() >= self.capacity && !entries.contains_key(&key) {
            entries.retain(|_, (_, inserted)| !self.expired(*inserted, now));
            if entries.len() >= self.capacity {
                if let Some(oldest) = entries
                    .iter()
                    .min_by_key(|(_, (_, inserted))| *inserted)
                    .map(|(k, _)| k.clone())
                {
                    entries.remove(&oldest);
                }
            }
        }
        entries.insert(key, (value, now));
    }

    pub(crate) fn remove(&self, key: &K) {
        self.lock().remove(key);
    }

    /// Remove every entry whose value matches.
    pub(crate) fn remove_where(&self, mut predicate: impl FnMut(&K, &V) -> bool) {
        self.lock().retain(|k, (v, _)| !predicate(k, v));
    }

    /// The key of a live entry whose value matches.
    pub(crate) fn key_where(&self, mut predicate: impl FnMut(&V) -> bool) -> Option<K> {
        let now = Instant::now();
        self.lock()
            .iter()
            .find(|(_, (v, inserted))| !self.expired(*inserted, now) && predicate(v))
            .map(|(k, _)| k.clone())
    }

    pub(crate) fn clear(&self) {
        self.lock().clear();
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.lock().len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_expire_after_the_ttl() {
        let cache = TtlCache::new(Some(Duration::from_millis(30)), 10);
        cache.insert("a", 1);
        assert_eq!(cache.get(&"a"), Some(1));
        std::thread::sleep(Duration::from_millis(40));
        assert_eq!(cache.get(&"a"), None);
        assert_eq!(cache.len(), 0);
    }

    #[tokio::test]
    async fn concurrent_misses_of_one_key_fetch_once() {
        let cache: Arc<TtlCache<&str, u32>> = Arc::new(TtlCache::new(None, 10));
        let fetched = Arc::new(std::sync::atomic::AtomicU32::new(0));
        let lookup = |cache: Arc<TtlCache<&'static str, u32>>,
                      fetched: Arc<std::sync::atomic::AtomicU32>,
                      key: &'static str| async move {
            if let Some(v) = cache.get(&key) {
                return v;
            }
            let _guard = cache.fetching(&key).await;
            if let Some(v) = cache.get(&key) {
                return v;
            }
            fetched.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            tokio::time::sleep(Duration::from_millis(20)).await;
            cache.insert(key, 7);
            7
        };
        let all = futures::future::join_all((0..8).map(|i| {
            lookup(
                cache.clone(),
                fetched.clone(),
                if i < 6 { "a" } else { "b" },
            )
        }))
        .await;
        assert!(all.iter().all(|v| *v == 7));
        // One fetch per key, not one per caller.
        assert_eq!(fetched.load(std::sync::atomic::Ordering::SeqCst), 2);
        assert!(cache
            .fetches
            .lock()
            .unwrap()
            .values()
            .all(|w| w.strong_count() == 0));
    }

    #[test]
    fn capacity_evicts_the_oldest_entry() {
        let cache = TtlCache::new(None, 2);
        cache.insert("a", 1);
        std::thread::sleep(Duration::from_millis(2));
        cache.insert("b", 2);
        cache.insert("b", 3);
        cache.insert("c", 4);
        assert_eq!(cache.get(&"a"), None);
        assert_eq!(cache.get(&"b"), Some(3));
        assert_eq!(cache.get(&"c"), Some(4));
        cache.remove_where(|_, v| *v == 3);
        assert_eq!(cache.get(&"b"), None);
        cache.clear();
        assert_eq!(cache.get(&"c"), None);
    }
}
