//! [`QueryTracker`]: every query the engine runs, whichever front end sent it, from planning
//! to its last batch. It answers "what runs now and what ran lately" (`GET /v1/queries`, the
//! page at `/`), cancels a query by id for any front end (Flight SQL, HTTP, Trino, PostgreSQL
//! cancel requests all end here), and keeps the counts and latencies `/metrics` exports.

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use tokio::sync::{Notify, watch};

use crate::audit::{AuditEntry, AuditLog, AuditPolicy, AuditTable};
use crate::auth::Principal;
use crate::query::QueryId;
use crate::session::ClientLabel;

mod metrics;
mod tracked;

pub use metrics::{Histogram, LATENCY_BUCKETS, QueryMetrics};
pub use tracked::Tracked;

/// How many finished queries are remembered for `GET /v1/queries`.
const RECENT: usize = 200;
/// The longest SQL text kept per query; longer texts are cut (with a marker).
const MAX_SQL_CHARS: usize = 4096;
/// A kept plan's text is cut here: recent queries' plans stay bounded in memory.
const MAX_PLAN_CHARS: usize = 32 * 1024;

/// Where a query is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum QueryState {
    /// Waiting for a slot in its resource group.
    Queued,
    /// Parsing, resolving tables, pinning snapshots, planning.
    Planning,
    /// Planned; rows flow as the client reads them.
    Running,
    Finished,
    Failed,
    /// Cancelled by a client or operator, or the client stopped reading.
    Cancelled,
}

impl QueryState {
    pub fn as_str(self) -> &'static str {
        match self {
            QueryState::Queued => "QUEUED",
            QueryState::Planning => "PLANNING",
            QueryState::Running => "RUNNING",
            QueryState::Finished => "FINISHED",
            QueryState::Failed => "FAILED",
            QueryState::Cancelled => "CANCELLED",
        }
    }

    pub fn is_done(self) -> bool {
        matches!(
            self,
            QueryState::Finished | QueryState::Failed | QueryState::Cancelled
        )
    }
}

/// One query as `GET /v1/queries` shows it.
#[derive(Debug, Clone)]
pub struct QueryInfo {
    pub id: QueryId,
    pub user: String,
    pub front_end: ClientLabel,
    pub sql: String,
    pub state: QueryState,
    pub started: SystemTime,
    pub elapsed: Duration,
    /// Time spent waiting for a resource group slot.
    pub queued: Duration,
    pub rows: u64,
    pub bytes: u64,
    pub error: Option<String>,
    /// The distributed plan as EXPLAIN draws it, once planned (shared: lists copy it).
    pub plan: Option<Arc<str>>,
}

/// What a cancel request found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CancelOutcome {
    /// The query was running and is stopping now: its plan, and every executor task of it,
    /// is dropped.
    Cancelled,
    /// The query had already ended.
    AlreadyDone,
    /// No such query, or it belongs to someone else (who is not told it exists).
    NotFound,
}

/// What the audit log says of a query besides what every query's record holds; the engine
/// fills it in as it learns it (who, from where; then what was read, under which policy).
#[derive(Debug, Clone, Default)]
pub struct AuditDetails {
    pub groups: Vec<String>,
    pub client_address: Option<String>,
    pub tables: Vec<AuditTable>,
    pub filters: Vec<AuditPolicy>,
    pub cache_hit: bool,
}

/// A query not yet done.
struct Live {
    owner: Principal,
    details: AuditDetails,
    queued: Duration,
    front_end: ClientLabel,
    sql: String,
    state: QueryState,
    started: SystemTime,
    started_at: Instant,
    counters: Arc<Counters>,
    cancel: watch::Sender<bool>,
    plan: Option<Arc<str>>,
}

#[derive(Default)]
struct Counters {
    rows: AtomicU64,
    bytes: AtomicU64,
}

#[derive(Default)]
struct Inner {
    live: HashMap<QueryId, Live>,
    recent: VecDeque<QueryInfo>,
    metrics: QueryMetrics,
}

/// Running and recent queries. Shared by the engine and every front end.
#[derive(Default)]
pub struct QueryTracker {
    inner: Mutex<Inner>,
    /// Where each finished statement is recorded.
    audit: AuditLog,
    /// Woken whenever a query ends.
    ended: Notify,
}

impl fmt::Debug for QueryTracker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("QueryTracker").finish_non_exhaustive()
    }
}

impl QueryTracker {
    /// A tracker that records every finished statement in `audit`.
    pub fn with_audit(audit: AuditLog) -> Self {
        Self {
            inner: Mutex::default(),
            audit,
            ended: Notify::new(),
        }
    }

    /// Whether finished statements are recorded (so details are worth gathering).
    pub fn audits(&self) -> bool {
        self.audit.is_on()
    }

    /// Adds to what the audit log will say of query `id`.
    pub fn annotate(&self, id: QueryId, add: impl FnOnce(&mut AuditDetails)) {
        if let Some(live) = self.lock().live.get_mut(&id) {
            add(&mut live.details);
        }
    }

    /// Records query `id`'s plan as drawn for its page, cut to [`MAX_PLAN_CHARS`].
    pub fn set_plan(&self, id: QueryId, plan: String) {
        let plan = if plan.chars().count() > MAX_PLAN_CHARS {
            let cut: String = plan.chars().take(MAX_PLAN_CHARS).collect();
            format!("{cut}…")
        } else {
            plan
        };
        if let Some(live) = self.lock().live.get_mut(&id) {
            live.plan = Some(plan.into());
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Registers query `id` as planning. The returned handle records how it ends.
    pub fn begin(
        self: &Arc<Self>,
        id: QueryId,
        owner: &Principal,
        front_end: ClientLabel,
        sql: &str,
    ) -> Tracked {
        let (cancel, cancelled) = watch::channel(false);
        let sql = if sql.chars().count() > MAX_SQL_CHARS {
            let cut: String = sql.chars().take(MAX_SQL_CHARS).collect();
            format!("{cut}…")
        } else {
            sql.to_string()
        };
        let counters = Arc::new(Counters::default());
        self.lock().live.insert(
            id,
            Live {
                owner: owner.clone(),
                details: AuditDetails::default(),
                queued: Duration::ZERO,
                front_end,
                sql,
                state: QueryState::Planning,
                started: SystemTime::now(),
                started_at: Instant::now(),
                counters: counters.clone(),
                cancel,
                plan: None,
            },
        );
        Tracked {
            tracker: self.clone(),
            id,
            counters,
            cancelled,
            ended: false,
        }
    }

    /// Stops `caller`'s query `id` (any query for an operator).
    pub fn cancel(&self, id: QueryId, caller: &Principal, operator: bool) -> CancelOutcome {
        let inner = self.lock();
        if let Some(live) = inner.live.get(&id) {
            if operator || &live.owner == caller {
                let _ = live.cancel.send(true);
                drop(inner);
                // Its plan stops now (see `cancel_signal`), so it ends now: a client between
                // pages may never come back to see it end.
                self.end(id, QueryState::Cancelled, Some("cancelled".into()));
                return CancelOutcome::Cancelled;
            }
            return CancelOutcome::NotFound;
        }
        let done = inner
            .recent
            .iter()
            .any(|q| q.id == id && (operator || q.user == caller.name));
        if done {
            CancelOutcome::AlreadyDone
        } else {
            CancelOutcome::NotFound
        }
    }

    /// Resolves once query `id` is cancelled; never, for a query that ends otherwise (or is
    /// not running). A running plan stops on it without waiting for its reader.
    pub fn cancel_signal(
        &self,
        id: QueryId,
    ) -> impl std::future::Future<Output = ()> + Send + 'static {
        let receiver = self
            .lock()
            .live
            .get(&id)
            .map(|live| live.cancel.subscribe());
        async move {
            let cancelled = match receiver {
                Some(mut cancelled) => cancelled.wait_for(|c| *c).await.is_ok(),
                None => false,
            };
            if !cancelled {
                std::future::pending::<()>().await;
            }
        }
    }

    /// Whether query `id` was asked to stop.
    pub fn is_cancelled(&self, id: QueryId) -> bool {
        self.lock()
            .live
            .get(&id)
            .is_some_and(|live| *live.cancel.borrow())
    }

    /// Running queries first (oldest first), then finished ones (newest first).
    pub fn list(&self) -> Vec<QueryInfo> {
        let inner = self.lock();
        let mut live: Vec<QueryInfo> = inner
            .live
            .iter()
            .map(|(id, live)| QueryInfo {
                id: *id,
                user: live.owner.name.clone(),
                front_end: live.front_end,
                sql: live.sql.clone(),
                state: live.state,
                started: live.started,
                elapsed: live.started_at.elapsed(),
                queued: live.queued,
                rows: live.counters.rows.load(Ordering::Relaxed),
                bytes: live.counters.bytes.load(Ordering::Relaxed),
                error: None,
                plan: live.plan.clone(),
            })
            .collect();
        live.sort_by_key(|q| q.started);
        live.extend(inner.recent.iter().rev().cloned());
        live
    }

    /// One query, live or recent.
    pub fn get(&self, id: QueryId) -> Option<QueryInfo> {
        self.list().into_iter().find(|q| q.id == id)
    }

    /// Queries registered and not yet ended (queued, planning, running or streaming): the one
    /// count of running queries, which metrics report and a stopping coordinator waits for.
    pub fn running(&self) -> usize {
        self.lock().live.len()
    }

    /// Waits until no query runs or `grace` passed; says whether all ended.
    pub async fn wait_idle(&self, grace: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + grace;
        loop {
            let ended = self.ended.notified();
            if self.running() == 0 {
                return true;
            }
            if tokio::time::timeout_at(deadline, ended).await.is_err() {
                return self.running() == 0;
            }
        }
    }

    pub fn metrics(&self) -> QueryMetrics {
        let inner = self.lock();
        let mut metrics = inner.metrics.clone();
        for live in inner.live.values() {
            *metrics.live.entry(live.state).or_default() += 1;
        }
        metrics
    }

    /// Query `id` waits for a resource group slot.
    pub fn set_queued(&self, id: QueryId) {
        if let Some(live) = self.lock().live.get_mut(&id) {
            live.state = QueryState::Queued;
        }
    }

    /// Query `id` got its slot after waiting `queued`, and plans now.
    pub fn set_admitted(&self, id: QueryId, queued: Duration) {
        let mut inner = self.lock();
        if let Some(live) = inner.live.get_mut(&id) {
            live.state = QueryState::Planning;
            live.queued = queued;
        } else {
            return;
        }
        if !queued.is_zero() {
            inner.metrics.queued_total += 1;
            inner.metrics.queued_secs += queued.as_secs_f64();
        }
    }

    fn set_running(&self, id: QueryId) {
        if let Some(live) = self.lock().live.get_mut(&id) {
            live.state = QueryState::Running;
        }
    }

    fn end(&self, id: QueryId, state: QueryState, error: Option<String>) {
        let mut inner = self.lock();
        let Some(live) = inner.live.remove(&id) else {
            return;
        };
        self.ended.notify_waiters();
        let elapsed = live.started_at.elapsed();
        *inner
            .metrics
            .outcomes
            .entry((live.front_end, state))
            .or_default() += 1;
        inner
            .metrics
            .latency
            .entry(live.front_end)
            .or_default()
            .observe(elapsed.as_secs_f64());
        if inner.recent.len() == RECENT {
            inner.recent.pop_front();
        }
        let info = QueryInfo {
            id,
            user: live.owner.name,
            front_end: live.front_end,
            sql: live.sql,
            state,
            started: live.started,
            elapsed,
            queued: live.queued,
            rows: live.counters.rows.load(Ordering::Relaxed),
            bytes: live.counters.bytes.load(Ordering::Relaxed),
            error,
            plan: live.plan,
        };
        inner.metrics.result_rows += info.rows;
        inner.metrics.result_bytes += info.bytes;
        // One line per query for the operator's log search, with the id the client was given.
        tracing::info!(
            query_id = %id,
            user = %info.user,
            client = %info.front_end,
            state = ?state,
            elapsed_ms = elapsed.as_millis() as u64,
            rows = info.rows,
            bytes = info.bytes,
            error = info.error.as_deref().unwrap_or(""),
            "query ended"
        );
        if self.audit.is_on() {
            self.audit.record(&audit_entry(&info, live.details));
        }
        inner.recent.push_back(info);
    }
}

fn audit_entry(info: &QueryInfo, details: AuditDetails) -> AuditEntry {
    AuditEntry {
        time: chrono::DateTime::<chrono::Utc>::from(info.started)
            .to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        query_id: info.id.to_string(),
        user: info.user.clone(),
        groups: details.groups,
        front_end: info.front_end.as_str(),
        client_address: details.client_address,
        sql: info.sql.clone(),
        tables: details.tables,
        filters: details.filters,
        state: info.state.as_str(),
        rows: info.rows,
        bytes: info.bytes,
        elapsed_ms: info.elapsed.as_millis() as u64,
        error: info.error.clone(),
        cache_hit: details.cache_hit,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::Int32Array;
    use arrow::datatypes::{DataType, Field, Schema};
    use arrow::record_batch::RecordBatch;
    use datafusion::physical_plan::SendableRecordBatchStream;
    use datafusion::physical_plan::memory::MemoryStream;
    use futures::StreamExt;

    use crate::error::EngineError;

    fn rows(n: usize) -> SendableRecordBatchStream {
        let schema = Arc::new(Schema::new(vec![Field::new("x", DataType::Int32, false)]));
        let batch = RecordBatch::try_new(
            schema.clone(),
            vec![Arc::new(Int32Array::from(vec![1; 10]))],
        )
        .unwrap();
        Box::pin(MemoryStream::try_new(vec![batch; n], schema, None).unwrap())
    }

    #[tokio::test]
    async fn counts_rows_and_records_the_end() {
        let tracker = Arc::new(QueryTracker::default());
        let ana = Principal::new("ana");
        let id = QueryId::new();
        let stream = tracker
            .begin(id, &ana, ClientLabel::new("http"), "SELECT 1")
            .watch(rows(3), None);
        assert_eq!(tracker.get(id).unwrap().state, QueryState::Running);
        let batches: Vec<_> = stream.collect().await;
        assert_eq!(batches.len(), 3);
        let info = tracker.get(id).unwrap();
        assert_eq!((info.state, info.rows), (QueryState::Finished, 30));
        let metrics = tracker.metrics();
        assert_eq!(
            metrics.outcomes[&(ClientLabel::new("http"), QueryState::Finished)],
            1
        );
        assert_eq!(metrics.latency[&ClientLabel::new("http")].count, 1);
    }

    #[tokio::test]
    async fn only_the_owner_or_an_operator_cancels() {
        let tracker = Arc::new(QueryTracker::default());
        let (ana, bob) = (Principal::new("ana"), Principal::new("bob"));
        let id = QueryId::new();
        let mut stream = tracker
            .begin(id, &ana, ClientLabel::new("trino"), "SELECT 1")
            .watch(rows(3), None);
        assert!(stream.next().await.unwrap().is_ok());
        assert_eq!(tracker.cancel(id, &bob, false), CancelOutcome::NotFound);
        assert_eq!(tracker.cancel(id, &ana, false), CancelOutcome::Cancelled);
        let err = stream.next().await.unwrap().unwrap_err();
        assert!(err.to_string().contains("cancelled"), "{err}");
        assert!(stream.next().await.is_none());
        assert_eq!(tracker.get(id).unwrap().state, QueryState::Cancelled);
        assert_eq!(tracker.cancel(id, &ana, false), CancelOutcome::AlreadyDone);
    }

    #[tokio::test]
    async fn a_dropped_stream_and_a_planning_failure_are_recorded() {
        let tracker = Arc::new(QueryTracker::default());
        let ana = Principal::new("ana");
        let dropped = QueryId::new();
        drop(
            tracker
                .begin(dropped, &ana, ClientLabel::new("flight_sql"), "SELECT 1")
                .watch(rows(1), None),
        );
        assert_eq!(tracker.get(dropped).unwrap().state, QueryState::Cancelled);
        let failed = QueryId::new();
        tracker
            .begin(failed, &ana, ClientLabel::new("flight_sql"), "SELEC")
            .failed(&EngineError::Internal("bad".into()));
        let info = tracker.get(failed).unwrap();
        assert_eq!(info.state, QueryState::Failed);
        assert!(info.error.unwrap().contains("bad"));
    }
}
