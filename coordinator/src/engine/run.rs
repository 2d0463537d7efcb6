//! [`QueryRun`]: what watches a running query: its deadline (`query.timeout_secs`), its
//! reruns, the naming of its memory limit when an executor runs out, its resource group slot
//! and the cached result it leads.
//!
//! A distributed query whose run fails when an executor becomes unreachable is rerun: the dead
//! executor is dropped from placement and the query planned again on those left, at the
//! snapshots the first run pinned, up to `query.max_attempts` runs. Errors of the query itself
//! (bad SQL, division by zero) are never rerun: no executor is found dead then. A rerun after
//! rows were sent carries on after them ([`super::resume`]); where it cannot (more rows sent
//! than it remembers), the failure reaches the client as it is.
//!
//! Whole-query reruns stand in for task retries, which datafusion-distributed 3 does not have:
//! the stages of the rerun read the lake again, each on the executors left.
//!
//! An executor that hangs (stopped, wedged, cut off) neither fails nor finishes its streams: it
//! only stops heartbeating. While a query waits, its executors' heartbeats are checked once per
//! interval; one silent past `cluster.heartbeat_timeout_ms` that does not answer a connection
//! either (late heartbeats alone mean a busy executor, not a hung one) is dropped and the query
//! rerun without it, or failed with an error naming it rather than left hanging. How executors are found gone or hung is [`super::liveness`].

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
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
use super::resume::{Resume, SentRows};
use crate::admission::Slot;
use crate::cache::Leader;
use crate::error::EngineError;
use crate::query::{QueryId, QueryResult};
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
    /// Where its reruns are counted.
    pub reruns: Arc<Reruns>,
}

/// Reruns of queries after a lost or hung executor, for `/metrics`.
#[derive(Debug, Default)]
pub struct Reruns {
    before_rows: AtomicU64,
    after_rows: AtomicU64,
}

impl Reruns {
    /// `(before any row was sent, after rows were sent)`.
    pub fn counts(&self) -> (u64, u64) {
        (
            self.before_rows.load(Ordering::Relaxed),
            self.after_rows.load(Ordering::Relaxed),
        )
    }
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
    /// `query.resume_max_rows`: rows sent that a rerun can still carry on after.
    pub resume_max_rows: usize,
}

struct Run {
    registry: Option<Arc<ExecutorRegistry>>,
    replan: Replan,
    current: SendableRecordBatchStream,
    /// The executors work could be placed on when the current run started.
    placement: Vec<Url>,
    runs_left: usize,
    sent: SentRows,
    /// The current run's rows still being matched against those sent before it.
    resume: Option<Resume>,
    deadline: Option<Instant>,
    reruns: Arc<Reruns>,
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
            reruns,
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
            sent: SentRows::new(&schema, limits.resume_max_rows),
            resume: None,
            deadline: limits.timeout.map(|t| Instant::now() + t),
            reruns,
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
                        let lost = format!(
                            "executor {url} stopped answering (no heartbeat for {window:?})"
                        );
                        if let Err(e) = run.rerun_after(id, lost).await {
                            return failure(e);
                        }
                        continue;
                    }
                };
                match next {
                    Some(Ok(batch)) => match run.pass(id, batch) {
                        Ok(Some(batch)) => return Some((Ok(batch), Some(run))),
                        Ok(None) => continue,
                        Err(e) => return failure(e),
                    },
                    Some(Err(err))
                        if lost_an_executor(run.registry.as_ref(), &run.placement, &err).await =>
                    {
                        let lost = format!("an executor was lost ({err})");
                        if let Err(e) = run.rerun_after(id, lost).await {
                            return failure(e);
                        }
                    }
                    Some(Err(err)) => {
                        tracing::debug!(%id, sent_rows = run.sent.any(), runs_left = run.runs_left, "query failed; not rerun");
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
                    None => match run.resume.take().map(|r| r.finish()) {
                        Some(Err(e)) => return failure(lost(id, e.to_string())),
                        _ => return None,
                    },
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

/// The end of a run that failed with `err`.
fn failure<S>(err: EngineError) -> Option<(Result<RecordBatch, DataFusionError>, Option<S>)> {
    Some((Err(DataFusionError::External(Box::new(err))), None))
}

fn lost(id: QueryId, reason: String) -> EngineError {
    EngineError::QueryLost {
        query: id.to_string(),
        reason,
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
    /// Whether a failed or stuck run may start over: runs are left, and the rows sent so far
    /// (if any) can be accounted for.
    fn can_rerun(&self) -> bool {
        self.runs_left > 0 && self.sent.resumable()
    }

    /// Reruns the query after `what` happened to its executors, or says why it is lost.
    async fn rerun_after(&mut self, id: QueryId, what: String) -> Result<(), EngineError> {
        if !self.can_rerun() {
            let why = if self.runs_left == 0 {
                "query.max_attempts runs made"
            } else {
                "more rows were sent than query.resume_max_rows"
            };
            return Err(lost(id, format!("{what}, and it cannot be rerun ({why})")));
        }
        tracing::warn!(%id, sent_rows = self.sent.any(), "{what}; running the query again on the executors left");
        self.rerun().await
    }

    /// Plans the query again on the executors now placeable and carries on with that run,
    /// after the rows already sent.
    async fn rerun(&mut self) -> Result<(), EngineError> {
        self.runs_left -= 1;
        let counter = if self.sent.any() {
            &self.reruns.after_rows
        } else {
            &self.reruns.before_rows
        };
        counter.fetch_add(1, Ordering::Relaxed);
        self.resume = self.sent.resume();
        self.placement = placement_of(self.registry.as_ref());
        self.current = (self.replan)().await?.stream;
        Ok(())
    }

    /// What of the current run's `batch` goes to the client now (a rerun holds rows back until
    /// it found those already sent), noted as sent.
    fn pass(
        &mut self,
        id: QueryId,
        batch: RecordBatch,
    ) -> Result<Option<RecordBatch>, EngineError> {
        let batch = match &mut self.resume {
            Some(resume) => {
                let admitted = resume.admit(batch).map_err(|e| lost(id, e.to_string()))?;
                if resume.settled() {
                    self.resume = None;
                }
                match admitted {
                    Some(batch) => batch,
                    None => return Ok(None),
                }
            }
            None => batch,
        };
        self.sent.record(&batch);
        Ok(Some(batch))
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
