//! [`Tracked`]: one registered query's handle, through which its end is recorded however it
//! comes (rows read to the end, an error, a cancel, a client gone).

use std::sync::Arc;
use std::sync::atomic::Ordering;

use datafusion::error::DataFusionError;
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::{ExecutionPlan, SendableRecordBatchStream};
use datafusion_distributed::display_plan_ascii;
use futures::{StreamExt, stream};
use tokio::sync::watch;

use super::{Counters, QueryState, QueryTracker};
use crate::error::EngineError;
use crate::query::QueryId;

/// A registered query. Planning failures are recorded with [`Tracked::failed`]; a planned
/// query's rows go through [`Tracked::watch`], which counts them, ends the query with a
/// cancellation error when asked to, and records how it ended.
pub struct Tracked {
    pub(super) tracker: Arc<QueryTracker>,
    pub(super) id: QueryId,
    pub(super) counters: Arc<Counters>,
    pub(super) cancelled: watch::Receiver<bool>,
    pub(super) ended: bool,
}

impl Tracked {
    /// A statement with no rows to stream (`SET`, `USE`, ...) ran to its end.
    pub fn finished(mut self) {
        self.finish(QueryState::Finished, None);
    }

    pub fn failed(mut self, error: &EngineError) {
        let state = if matches!(error, EngineError::Cancelled { .. }) {
            QueryState::Cancelled
        } else {
            QueryState::Failed
        };
        self.tracker.end(self.id, state, Some(error.to_string()));
        self.ended = true;
    }

    /// `rows`, counted, stoppable by [`QueryTracker::cancel`], and recorded when they end,
    /// fail or are dropped unread. `plan`, the plan running them, is drawn again with its
    /// metrics when they end or fail (rows and time per operator, each stage's tasks: what
    /// EXPLAIN ANALYZE shows) for the query's page, then let go.
    pub fn watch(
        self,
        rows: SendableRecordBatchStream,
        plan: Option<Arc<dyn ExecutionPlan>>,
    ) -> SendableRecordBatchStream {
        self.tracker.set_running(self.id);
        let schema = rows.schema();
        let id = self.id;
        let state = Some((rows, self, plan));
        let batches = stream::unfold(state, move |state| async move {
            let (mut rows, mut tracked, plan) = state?;
            let draw = |tracked: &Tracked, plan: Option<Arc<dyn ExecutionPlan>>| {
                if let Some(plan) = plan {
                    tracked
                        .tracker
                        .set_plan(tracked.id, display_plan_ascii(plan.as_ref(), true));
                }
            };
            let next = tokio::select! {
                biased;
                Ok(_) = tracked.cancelled.wait_for(|c| *c) => None,
                next = rows.next() => Some(next),
            };
            match next {
                // Cancelled: the rows (the running plan) are dropped with this state.
                None => {
                    let err = EngineError::Cancelled {
                        query: id.to_string(),
                    };
                    tracked.finish(QueryState::Cancelled, Some(err.to_string()));
                    Some((Err(DataFusionError::External(Box::new(err))), None))
                }
                Some(None) => {
                    draw(&tracked, plan);
                    tracked.finish(QueryState::Finished, None);
                    None
                }
                Some(Some(Ok(batch))) => {
                    tracked
                        .counters
                        .rows
                        .fetch_add(batch.num_rows() as u64, Ordering::Relaxed);
                    tracked
                        .counters
                        .bytes
                        .fetch_add(batch.get_array_memory_size() as u64, Ordering::Relaxed);
                    Some((Ok(batch), Some((rows, tracked, plan))))
                }
                Some(Some(Err(err))) => {
                    draw(&tracked, plan);
                    tracked.finish(QueryState::Failed, Some(err.to_string()));
                    Some((Err(err), None))
                }
            }
        });
        Box::pin(RecordBatchStreamAdapter::new(schema, batches))
    }

    fn finish(&mut self, state: QueryState, error: Option<String>) {
        if !self.ended {
            self.ended = true;
            self.tracker.end(self.id, state, error);
        }
    }
}

impl Drop for Tracked {
    fn drop(&mut self) {
        // Dropped before its end: the client went away or stopped reading.
        if !self.ended {
            let cancelled = *self.cancelled.borrow();
            let reason = if cancelled {
                "cancelled"
            } else {
                "the client stopped reading before the last row"
            };
            self.finish(QueryState::Cancelled, Some(reason.to_string()));
        }
    }
}
