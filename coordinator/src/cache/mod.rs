//! The result cache: repeated reads of unchanged tables answered without running anything.
//!
//! An entry's key holds everything that decides the answer ([`CacheKey`]): the statement as
//! the parser re-prints it (so whitespace, keyword case and comments do not matter), bound
//! parameters, the session settings that change results, the caller's access scope, and the
//! `(table, snapshot id)` of every table the plan reads. A commit makes a new snapshot, hence a
//! new key: an entry is never stale, it just stops being asked for and ages out.
//!
//! Identical misses that overlap run once ([`flight`]): the first starts a shared execution,
//! the others read the same batches as they arrive. Only a complete, successful result no
//! bigger than `cache.max_entry_bytes` is published.

mod flight;
mod key;
mod read_through;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use arrow::datatypes::SchemaRef;
use arrow::record_batch::RecordBatch;
use datafusion::physical_plan::SendableRecordBatchStream;
use datafusion::physical_plan::memory::MemoryStream;
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use futures::{StreamExt, stream};
use moka::future::Cache;

pub use flight::{Flight, Outcome};
pub use key::{CacheKey, StatementKey, cacheable};
pub use read_through::{Planned, ReadThrough};

use crate::catalog::{SnapshotId, TableRef};
use crate::config::CacheConfig;
use crate::query::{QueryId, QueryResult};

/// Statements whose tables are remembered for the fast hit path.
const TABLE_LISTS: u64 = 100_000;

/// A complete result.
#[derive(Debug)]
pub struct CachedResult {
    pub schema: SchemaRef,
    pub batches: Arc<Vec<RecordBatch>>,
    pub snapshots: Vec<(TableRef, Option<SnapshotId>)>,
    pub bytes: usize,
}

/// Counters since start, and the current size.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CacheStats {
    pub hits: u64,
    pub misses: u64,
    /// Misses that joined an identical running execution instead of starting one.
    pub coalesced: u64,
    pub evictions: u64,
    pub bytes: u64,
    pub entries: u64,
}

#[derive(Debug, Default)]
struct Counters {
    hits: AtomicU64,
    misses: AtomicU64,
    coalesced: AtomicU64,
    evictions: Arc<AtomicU64>,
}

/// Results by key, and the executions under way.
pub struct ResultCache {
    entries: Cache<CacheKey, Arc<CachedResult>>,
    /// The tables each cached statement read, learned when it was planned: a repeat looks up
    /// their current snapshots and finds its entry without being planned again.
    tables: Cache<StatementKey, Arc<Vec<TableRef>>>,
    in_flight: Mutex<HashMap<CacheKey, Arc<Flight>>>,
    max_entry_bytes: usize,
    counters: Counters,
}

impl std::fmt::Debug for ResultCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResultCache")
            .field("stats", &self.stats())
            .finish()
    }
}

/// What a lookup found.
pub enum Lookup {
    /// A complete result.
    Hit(Arc<CachedResult>),
    /// An identical query is running: read its batches.
    Joined(SchemaRef, SendableRecordBatchStream),
    /// Nothing: this caller runs the query, and identical queries from now on join it.
    Lead(Leader),
}

impl ResultCache {
    pub fn new(config: &CacheConfig) -> Self {
        let counters = Counters::default();
        let evictions = counters.evictions.clone();
        let mut builder = Cache::builder()
            .max_capacity(config.max_bytes)
            .weigher(|_key, value: &Arc<CachedResult>| {
                u32::try_from(value.bytes).unwrap_or(u32::MAX)
            })
            .eviction_listener(move |_key, _value, cause| {
                if cause.was_evicted() {
                    evictions.fetch_add(1, Ordering::Relaxed);
                }
            });
        if config.ttl_secs > 0 {
            builder = builder.time_to_live(Duration::from_secs(config.ttl_secs));
        }
        if config.idle_secs > 0 {
            builder = builder.time_to_idle(Duration::from_secs(config.idle_secs));
        }
        Self {
            entries: builder.build(),
            tables: Cache::new(TABLE_LISTS),
            in_flight: Mutex::new(HashMap::new()),
            max_entry_bytes: usize::try_from(config.max_entry_bytes).unwrap_or(usize::MAX),
            counters,
        }
    }

    /// A stored result, the running execution to join, or the lead of a new one. Joining and
    /// leading are decided under one lock, so of N identical misses exactly one leads.
    /// `use_entries` false (`SET cache = refresh`) skips stored results. `schema` is the
    /// result schema the plan promises.
    pub async fn lookup(
        self: &Arc<Self>,
        key: &CacheKey,
        use_entries: bool,
        schema: SchemaRef,
    ) -> Lookup {
        if use_entries && let Some(hit) = self.entries.get(key).await {
            self.counters.hits.fetch_add(1, Ordering::Relaxed);
            return Lookup::Hit(hit);
        }
        let mut in_flight = self.in_flight.lock().unwrap_or_else(|e| e.into_inner());
        // A finished flight is as good as a stored result, except to `refresh`, which runs.
        if let Some(flight) = in_flight.get(key)
            && (use_entries || flight.is_running())
            && let Some(reader) = flight.reader()
        {
            self.counters.coalesced.fetch_add(1, Ordering::Relaxed);
            return Lookup::Joined(flight.schema(), reader);
        }
        self.counters.misses.fetch_add(1, Ordering::Relaxed);
        let flight = Flight::new(schema, self.max_entry_bytes);
        let reader = flight.reader();
        in_flight.insert(key.clone(), flight.clone());
        Lookup::Lead(Leader {
            cache: self.clone(),
            key: key.clone(),
            flight,
            reader,
        })
    }

    /// The tables `statement` read when it was last planned.
    pub async fn tables_of(&self, statement: &StatementKey) -> Option<Arc<Vec<TableRef>>> {
        self.tables.get(statement).await
    }

    /// A stored result, without planning: counted as a hit when found.
    pub async fn get(&self, key: &CacheKey) -> Option<Arc<CachedResult>> {
        let hit = self.entries.get(key).await;
        if hit.is_some() {
            self.counters.hits.fetch_add(1, Ordering::Relaxed);
        }
        hit
    }

    /// Remembers the tables a cacheable statement reads.
    pub async fn learn_tables(&self, statement: StatementKey, tables: Vec<TableRef>) {
        self.tables.insert(statement, Arc::new(tables)).await;
    }

    fn forget_flight(&self, key: &CacheKey, flight: &Arc<Flight>) {
        let mut in_flight = self.in_flight.lock().unwrap_or_else(|e| e.into_inner());
        if in_flight.get(key).is_some_and(|f| Arc::ptr_eq(f, flight)) {
            in_flight.remove(key);
        }
    }

    pub fn stats(&self) -> CacheStats {
        CacheStats {
            hits: self.counters.hits.load(Ordering::Relaxed),
            misses: self.counters.misses.load(Ordering::Relaxed),
            coalesced: self.counters.coalesced.load(Ordering::Relaxed),
            evictions: self.counters.evictions.load(Ordering::Relaxed),
            bytes: self.entries.weighted_size(),
            entries: self.entries.entry_count(),
        }
    }

    /// Forgets every stored result (results of new snapshots would miss anyway; this frees
    /// the memory now).
    pub fn clear(&self) {
        self.entries.invalidate_all();
    }
}

/// The caller that runs a missed query for everyone who asks for it meanwhile. Dropped
/// without [`Leader::start`] (planning failed), it fails its flight so no follower waits.
pub struct Leader {
    cache: Arc<ResultCache>,
    key: CacheKey,
    flight: Arc<Flight>,
    reader: Option<SendableRecordBatchStream>,
}

impl Leader {
    /// Runs `rows` for every reader of the flight and returns this caller's stream; the
    /// result is stored when it completes whole and small enough.
    pub fn start(
        mut self,
        rows: SendableRecordBatchStream,
        snapshots: Vec<(TableRef, Option<SnapshotId>)>,
    ) -> SendableRecordBatchStream {
        let Some(reader) = self.reader.take() else {
            return rows;
        };
        let cache = self.cache.clone();
        let key = self.key.clone();
        let flight = self.flight.clone();
        let (stored, was_stored) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(async move {
            let schema = flight.schema();
            let outcome = flight.clone().drive(rows).await;
            if let Outcome::Complete(Some(batches)) = outcome {
                let bytes = batches.iter().map(RecordBatch::get_array_memory_size).sum();
                let result = CachedResult {
                    schema,
                    batches,
                    snapshots,
                    bytes,
                };
                cache.entries.insert(key.clone(), Arc::new(result)).await;
            }
            cache.forget_flight(&key, &flight);
            let _ = stored.send(());
        });
        // The leader's client sees its last batch only once the result is stored, so a
        // repeat it sends next is a hit rather than a second run.
        let schema = reader.schema();
        let batches = stream::unfold(Some((reader, was_stored)), |state| async move {
            let (mut reader, was_stored) = state?;
            match reader.next().await {
                Some(batch) => Some((batch, Some((reader, was_stored)))),
                None => {
                    let _ = was_stored.await;
                    None
                }
            }
        });
        Box::pin(RecordBatchStreamAdapter::new(schema, batches))
    }
}

impl Drop for Leader {
    fn drop(&mut self) {
        if self.reader.is_some() {
            self.flight
                .abandon("the identical query this one joined failed to start");
            self.cache.forget_flight(&self.key, &self.flight);
        }
    }
}

impl CachedResult {
    /// The stored result as the answer of query `id`.
    pub fn answer(&self, id: QueryId) -> datafusion::error::Result<QueryResult> {
        let stream = MemoryStream::try_new(self.batches.to_vec(), self.schema.clone(), None)?;
        Ok(QueryResult {
            id,
            schema: self.schema.clone(),
            stream: Box::pin(stream),
            plan: None,
            snapshots: self.snapshots.clone(),
        })
    }
}
