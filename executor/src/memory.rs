//! Per-query memory on an executor: every fragment of one query running here draws from one
//! pool, so the limit bounds the query, not each of its tasks separately.
//!
//! The coordinator names the query and its limit in request headers ([`QUERY_ID_HEADER`],
//! [`MEMORY_LIMIT_HEADER`]); an executor's own configured limit applies when the coordinator
//! sends none. A pool lives as long as the query's fragments hold it: the registry keeps only
//! weak references.

use std::collections::HashMap;
use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex, Weak};

use datafusion::execution::memory_pool::{GreedyMemoryPool, MemoryPool, TrackConsumersPool};
use http::HeaderMap;
use lakegate_proto::headers::{MEMORY_LIMIT_HEADER, QUERY_ID_HEADER};

/// Consumers named in the error when a pool is exhausted.
const CONSUMERS_IN_ERROR: usize = 3;

/// The memory pools of the queries running on this executor.
#[derive(Debug, Default, Clone)]
pub struct QueryPools {
    pools: Arc<Mutex<HashMap<String, Weak<dyn MemoryPool>>>>,
}

impl QueryPools {
    /// The pool for the fragment whose request carried `headers`, or `None` when no limit applies
    /// (the fragment then uses the executor's unbounded pool).
    pub fn for_fragment(
        &self,
        headers: &HeaderMap,
        own_limit: Option<usize>,
    ) -> Option<Arc<dyn MemoryPool>> {
        let limit = header(headers, MEMORY_LIMIT_HEADER)
            .and_then(|v| v.parse::<usize>().ok())
            .filter(|limit| *limit > 0)
            .or(own_limit)?;
        let Some(query) = header(headers, QUERY_ID_HEADER) else {
            return Some(new_pool(limit));
        };
        let mut pools = self.pools.lock().unwrap_or_else(|e| e.into_inner());
        pools.retain(|_, pool| pool.strong_count() > 0);
        if let Some(pool) = pools.get(query).and_then(Weak::upgrade) {
            return Some(pool);
        }
        let pool = new_pool(limit);
        pools.insert(query.to_string(), Arc::downgrade(&pool));
        Some(pool)
    }

    /// Queries that hold a pool here now.
    #[cfg(test)]
    fn queries(&self) -> usize {
        let pools = self.pools.lock().unwrap_or_else(|e| e.into_inner());
        pools.values().filter(|p| p.strong_count() > 0).count()
    }
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// A greedy pool that names its biggest consumers when it runs out, so the error tells which
/// operator needed the memory.
fn new_pool(limit: usize) -> Arc<dyn MemoryPool> {
    let consumers = NonZeroUsize::new(CONSUMERS_IN_ERROR).unwrap_or(NonZeroUsize::MIN);
    Arc::new(TrackConsumersPool::new(
        GreedyMemoryPool::new(limit),
        consumers,
    ))
}

#[cfg(test)]
mod tests {
    use datafusion::execution::memory_pool::MemoryConsumer;
    use http::HeaderValue;

    use super::*;

    fn headers(query: &str, limit: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(QUERY_ID_HEADER, HeaderValue::from_str(query).unwrap());
        headers.insert(MEMORY_LIMIT_HEADER, HeaderValue::from_str(limit).unwrap());
        headers
    }

    #[test]
    fn fragments_of_one_query_share_its_limit() {
        let pools = QueryPools::default();
        let a = pools.for_fragment(&headers("q1", "1000"), None).unwrap();
        let b = pools.for_fragment(&headers("q1", "1000"), None).unwrap();
        let first = MemoryConsumer::new("first").register(&a);
        first.try_grow(600).unwrap();
        let second = MemoryConsumer::new("second").register(&b);
        let err = second.try_grow(600).unwrap_err();
        assert!(err.to_string().contains("first"), "{err}");

        // Another query has its own budget.
        let other = pools.for_fragment(&headers("q2", "1000"), None).unwrap();
        MemoryConsumer::new("other")
            .register(&other)
            .try_grow(600)
            .unwrap();
    }

    #[test]
    fn a_finished_query_leaves_no_pool() {
        let pools = QueryPools::default();
        let pool = pools.for_fragment(&headers("q1", "1000"), None).unwrap();
        assert_eq!(pools.queries(), 1);
        drop(pool);
        assert_eq!(pools.queries(), 0);
    }

    #[test]
    fn the_coordinator_limit_wins_and_the_own_limit_is_the_fallback() {
        let pools = QueryPools::default();
        assert!(pools.for_fragment(&HeaderMap::new(), None).is_none());
        let own = pools.for_fragment(&HeaderMap::new(), Some(10)).unwrap();
        let reservation = MemoryConsumer::new("c").register(&own);
        assert!(reservation.try_grow(11).is_err());
        let sent = pools.for_fragment(&headers("q", "100"), Some(10)).unwrap();
        let reservation = MemoryConsumer::new("c").register(&sent);
        reservation.try_grow(50).unwrap();
    }
}
