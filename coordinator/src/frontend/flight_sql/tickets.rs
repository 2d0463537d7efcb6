//! Queries between GetFlightInfo and the end of their DoGet. A ticket names a query planned in
//! GetFlightInfo, so the rows fetched are from the snapshots pinned then; a ticket nobody
//! fetches expires. A query can be cancelled in either state: a pending one is dropped, a
//! streaming one ends with a CANCELLED error, and either way its plan (and with it every task
//! on every executor) is dropped.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use arrow::record_batch::RecordBatch;
use datafusion::error::DataFusionError;
use futures::{Stream, StreamExt, stream};
use tokio::sync::watch;

use crate::auth::Principal;
use crate::error::EngineError;
use crate::query::{QueryId, QueryResult};

struct Pending {
    owner: Principal,
    planned_at: Instant,
    result: QueryResult,
}

struct Streaming {
    owner: Principal,
    cancel: watch::Sender<bool>,
}

/// Whether a cancel request found its query.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cancelled {
    /// The query was pending or streaming and is stopped now.
    Stopped,
    /// No such query of this caller: finished, expired or never there.
    NotFound,
}

/// Planned and streaming queries.
pub struct Tickets {
    ttl: Duration,
    pending: Mutex<HashMap<QueryId, Pending>>,
    streaming: Arc<Mutex<HashMap<QueryId, Streaming>>>,
}

/// The rows of a claimed query, ending early with an error if it is cancelled.
pub type ClaimedStream =
    std::pin::Pin<Box<dyn Stream<Item = Result<RecordBatch, DataFusionError>> + Send + 'static>>;

impl Tickets {
    pub fn new(ttl: Duration) -> Self {
        Self {
            ttl,
            pending: Mutex::new(HashMap::new()),
            streaming: Arc::default(),
        }
    }

    /// Parks a planned query and drops any that waited longer than the ticket lifetime.
    pub fn park(&self, owner: Principal, result: QueryResult) -> QueryId {
        let id = result.id;
        let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
        let ttl = self.ttl;
        pending.retain(|_, p| p.planned_at.elapsed() < ttl);
        pending.insert(
            id,
            Pending {
                owner,
                planned_at: Instant::now(),
                result,
            },
        );
        id
    }

    /// Takes the query for its owner (a ticket is good for one fetch) and returns its schema
    /// and rows; while they stream, [`Tickets::cancel`] can stop them.
    pub fn claim(
        &self,
        id: QueryId,
        caller: &Principal,
    ) -> Option<(arrow::datatypes::SchemaRef, ClaimedStream)> {
        let result = {
            let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
            match pending.get(&id) {
                Some(p) if &p.owner == caller && p.planned_at.elapsed() < self.ttl => {
                    pending.remove(&id).map(|p| p.result)
                }
                _ => None,
            }
        }?;
        let (cancel, cancelled) = watch::channel(false);
        self.streaming
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(
                id,
                Streaming {
                    owner: caller.clone(),
                    cancel,
                },
            );
        let registration = Registration {
            id,
            streaming: self.streaming.clone(),
        };
        Some((
            result.schema,
            cancellable(id, result.stream, cancelled, registration),
        ))
    }

    /// Stops the caller's query `id`, pending or streaming.
    pub fn cancel(&self, id: QueryId, caller: &Principal) -> Cancelled {
        {
            let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
            if pending.get(&id).is_some_and(|p| &p.owner == caller) {
                pending.remove(&id);
                return Cancelled::Stopped;
            }
        }
        let streaming = self.streaming.lock().unwrap_or_else(|e| e.into_inner());
        match streaming.get(&id) {
            Some(s) if &s.owner == caller => {
                let _ = s.cancel.send(true);
                Cancelled::Stopped
            }
            _ => Cancelled::NotFound,
        }
    }
}

/// Removes a streaming query from the table when its stream is dropped, however it ended.
struct Registration {
    id: QueryId,
    streaming: Arc<Mutex<HashMap<QueryId, Streaming>>>,
}

impl Drop for Registration {
    fn drop(&mut self) {
        self.streaming
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&self.id);
    }
}

/// `rows` until `cancelled` turns true; then one error, and the rows (the running plan) are
/// dropped at once.
fn cancellable(
    id: QueryId,
    rows: datafusion::physical_plan::SendableRecordBatchStream,
    cancelled: watch::Receiver<bool>,
    registration: Registration,
) -> ClaimedStream {
    let state = Some((rows, cancelled, registration));
    Box::pin(stream::unfold(state, move |state| async move {
        let (mut rows, mut cancelled, registration) = state?;
        let next = tokio::select! {
            biased;
            Ok(_) = cancelled.wait_for(|c| *c) => None,
            next = rows.next() => Some(next?),
        };
        match next {
            Some(next) => Some((next, Some((rows, cancelled, registration)))),
            None => {
                let err = EngineError::Cancelled {
                    query: id.to_string(),
                };
                Some((Err(DataFusionError::External(Box::new(err))), None))
            }
        }
    }))
}
