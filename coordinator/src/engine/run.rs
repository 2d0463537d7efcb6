//! [`QueryRun`]: what watches a running query: its deadline (`query.timeout_secs`), its
//! reruns, the naming of its memory limit when an executor runs out, its resource group slot
//! and the cached result it leads.
//!
//! A distributed query that fails before any row reached the client is rerun when the failure
//! coincides with an executor becoming unreachable: the dead executor is dropped from placement
//! and the query planned again on those left, up to `query.max_attempts` runs. Errors of the
//! query itself (bad SQL, division by zero) are never rerun: no executor is found dead then.
//! Once a row has been sent, a failure reaches the client as it is.
//!
//! An executor that hangs (stopped, wedged, cut off) neither fails nor finishes its streams: it
//! only stops heartbeating. While a query waits, its executors' heartbeats are checked once per
//! interval; one silent past `cluster.heartbeat_timeout_ms` that does not answer a connection
//! either (late heartbeats alone mean a busy executor, not a hung one) is dropped and the query
//! rerun without it, or, once rows were sent, failed with an error naming it rather than left
//! hanging. How executors are found gone or hung is [`super::liveness`].

use std::sync::Arc;
use std::time::Duration;

use datafusion::arrow::array::RecordBatch;
use datafusion::error::DataFusionError;
use datafusion::physical_plan::SendableRecordBatchStream;
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use futures::future::BoxFuture;
use futures::{StreamExt, stream};
use tokio::time::Instant;
use url::Url;

use super::liveness::{lost_an_executor, silence};
use crate::admission::Slot;
use crate::cache::Leader;
use crate::error::EngineError;
use crate::query::QueryResult;
use crate::registry::ExecutorRegistry;

/// Plans the query again and starts it: on the executors left after one was lost.
pub type Replan =
    Box<dyn Fn() -> BoxFuture<'static, Result<QueryResult, EngineError>> + Send + Sync>;

/// What one query's run needs besides its first start.
pub struct QueryRun {
    /// Where executors are found; `None` runs in this process (nothing to rerun on).
    pub registry: Option<Arc<ExecutorRegistry>>,
    pub limits: RunLimits,
    pub replan: Replan,
    /// Its resource group slot, held until the last batch is read.
    pub slot: Option<Slot>,
    /// The cache entry it fills for everyone who asks the same meanwhile.
    pub leader: Option<Leader>,
}

/// What one query may use: time, runs and memory.
#[derive(Debug, Clone, Copy)]
pub struct RunLimits {
    /// `query.timeout_secs`; `None` is no deadline.
    pub timeout: Option<Duration>,
    /// Runs in all, reruns after a lost executor included.
    pub max_attempts: usize,
    /// `query.memory_limit_bytes` per executor; `None` is unbounded.
    pub memory_limit_bytes: Option<usize>,
}

struct Run {
    registry: Option<Arc<ExecutorRegistry>>,
    replan: Replan,
    current: SendableRecordBatchStream,
    /// The executors work could be placed on when the current run started.
    placement: Vec<Url>,
    runs_left: usize,
    sent_rows: bool,
    deadline: Option<Instant>,
}

impl QueryRun {
    /// `first`, obeying its deadline, rerun after losing an executor, holding its slot, and
    /// feeding the cache entry it leads.
    pub fn start(self, first: QueryResult) -> QueryResult {
        let QueryRun {
            registry,
            limits,
            replan,
            slot,
            leader,
        } = self;
        let QueryResult {
            id,
            schema,
            stream,
            plan,
            snapshots,
        } = first;
        let run = Run {
            placement: placement_of(registry.as_ref()),
            registry,
            replan,
            current: stream,
            runs_left: limits.max_attempts.saturating_sub(1),
            sent_rows: false,
            deadline: limits.timeout.map(|t| Instant::now() + t),
        };
        // The state is `None` once the query ended in an error: the run, and with it every
        // stream of the plan on every executor, is dropped as the error is handed out.
        let batches = stream::unfold(Some(run), move |run| async move {
            let mut run = run?;
            loop {
                let next = match run.next_event().await {
                    Event::Next(next) => next,
                    Event::TimedOut => {
                        let err = EngineError::TimedOut {
                            query: id.to_string(),
                            limit_secs: limits.timeout.map_or(0, |t| t.as_secs()),
                        };
                        return Some((Err(DataFusionError::External(Box::new(err))), None));
                    }
                    Event::Silent(url, window) => {
                        if let Some(registry) = &run.registry {
                            registry.remove(&url);
                        }
                        if !run.can_rerun() {
                            let err = EngineError::Execution {
                                message: format!(
                                    "executor {url} stopped answering (no heartbeat for \
                                     {window:?}) after rows were sent; run the query again"
                                ),
                                cause: None,
                            };
                            return Some((Err(DataFusionError::External(Box::new(err))), None));
                        }
                        tracing::warn!(%id, executor = %url, "an executor stopped answering; running the query again without it");
                        if let Err(e) = run.rerun().await {
                            return Some((Err(DataFusionError::External(Box::new(e))), None));
                        }
                        continue;
                    }
                };
                match next {
                    Some(Ok(batch)) => {
                        run.sent_rows |= batch.num_rows() > 0;
                        return Some((Ok(batch), Some(run)));
                    }
                    Some(Err(err))
                        if run.can_rerun()
                            && lost_an_executor(run.registry.as_ref(), &run.placement, &err)
                                .await =>
                    {
                        tracing::warn!(%id, error = %err, "an executor was lost; running the query again");
                        if let Err(e) = run.rerun().await {
                            return Some((Err(DataFusionError::External(Box::new(e))), None));
                        }
                    }
                    Some(Err(err)) => {
                        tracing::debug!(%id, sent_rows = run.sent_rows, runs_left = run.runs_left, "query failed; not rerun");
                        let err = match (err.find_root(), limits.memory_limit_bytes) {
                            (DataFusionError::ResourcesExhausted(message), Some(limit_bytes)) => {
                                DataFusionError::External(Box::new(EngineError::MemoryLimit {
                                    query: id.to_string(),
                                    limit_bytes,
                                    message: message.clone(),
                                }))
                            }
                            _ => err,
                        };
                        return Some((Err(err), None));
                    }
                    None => return None,
                }
            }
        });
        let mut stream: SendableRecordBatchStream =
            Box::pin(RecordBatchStreamAdapter::new(schema.clone(), batches));
        if let Some(leader) = leader {
            stream = leader.start(stream, snapshots.clone());
        }
        // The slot is held by what the client reads: a led run is driven to its end in the
        // background, but the query runs for its group until its client has read it or left.
        if let Some(slot) = slot {
            let schema = stream.schema();
            let batches = stream.map(move |batch| {
                let _held = &slot;
                batch
            });
            stream = Box::pin(RecordBatchStreamAdapter::new(schema, batches));
        }
        QueryResult {
            id,
            schema,
            stream,
            plan,
            snapshots,
        }
    }
}

/// What a run waits for next.
enum Event {
    Next(Option<Result<RecordBatch, DataFusionError>>),
    TimedOut,
    /// An executor the run may be using stopped heartbeating: a stopped or hung process, whose
    /// streams may never end nor fail.
    Silent(Url, Duration),
}

impl Run {
    /// Whether a failed or stuck run may start over: nothing was sent yet and runs are left.
    fn can_rerun(&self) -> bool {
        !self.sent_rows && self.runs_left > 0
    }

    /// Plans the query again on the executors now placeable and carries on with that run.
    async fn rerun(&mut self) -> Result<(), EngineError> {
        self.runs_left -= 1;
        self.placement = placement_of(self.registry.as_ref());
        self.current = (self.replan)().await?.stream;
        Ok(())
    }

    async fn next_event(&mut self) -> Event {
        let deadline = self.deadline;
        let until_deadline = async move {
            match deadline {
                Some(deadline) => tokio::time::sleep_until(deadline).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            next = self.current.next() => Event::Next(next),
            () = until_deadline => Event::TimedOut,
            (url, window) = silence(self.registry.as_ref(), &self.placement) => {
                Event::Silent(url, window)
            }
        }
    }
}

fn placement_of(registry: Option<&Arc<ExecutorRegistry>>) -> Vec<Url> {
    registry.map(|r| r.placement()).unwrap_or_default()
}
