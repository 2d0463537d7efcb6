//! One execution shared by every identical query that arrives while it runs (single flight),
//! streamed to each of them as batches arrive (tee).
//!
//! ```text
//!   driver task: plan stream ──push──▶ Flight { batches[start..], done } ──read──▶ reader 1..n
//! ```
//!
//! The driver, not any one reader, polls the plan, so a reader that goes away (a cancelled
//! leader) strands nobody; when the last reader goes, the driver drops the plan and with it the
//! tasks on every executor. Batches every reader has passed are let go once the result is too
//! big to cache, so a large result is not held in memory for the cache's sake.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use arrow::datatypes::SchemaRef;
use arrow::record_batch::RecordBatch;
use datafusion::error::DataFusionError;
use datafusion::physical_plan::SendableRecordBatchStream;
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use futures::{StreamExt, stream};
use tokio::sync::watch;

/// How the shared execution ended.
#[derive(Debug, Clone)]
pub enum Outcome {
    /// Every batch; `None` when it outgrew the entry limit and was not kept whole.
    Complete(Option<Arc<Vec<RecordBatch>>>),
    Failed(Arc<DataFusionError>),
}

#[derive(Debug, Default)]
struct State {
    /// Index of `batches[0]` in the whole result.
    start: usize,
    batches: Vec<RecordBatch>,
    bytes: usize,
    /// Too big to cache: batches all readers passed are dropped.
    trimming: bool,
    /// Position of each reader (next batch index), by reader id.
    readers: BTreeMap<u64, usize>,
    next_reader: u64,
    done: Option<Result<(), Arc<DataFusionError>>>,
}

/// A running shared execution.
#[derive(Debug)]
pub struct Flight {
    schema: SchemaRef,
    max_entry_bytes: usize,
    state: Mutex<State>,
    /// Bumped on every change; readers and the driver wait on it.
    version: watch::Sender<u64>,
}

impl Flight {
    pub fn new(schema: SchemaRef, max_entry_bytes: usize) -> Arc<Self> {
        Arc::new(Self {
            schema,
            max_entry_bytes,
            state: Mutex::new(State::default()),
            version: watch::channel(0).0,
        })
    }

    pub fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn bump(&self) {
        self.version.send_modify(|v| *v += 1);
    }

    /// A new reader from the first batch, or `None` when the early batches are gone already
    /// (the result outgrew the cache): the caller then runs the query itself.
    pub fn reader(self: &Arc<Self>) -> Option<SendableRecordBatchStream> {
        let id = {
            let mut state = self.lock();
            if state.start > 0 || matches!(state.done, Some(Err(_))) {
                return None;
            }
            let id = state.next_reader;
            state.next_reader += 1;
            state.readers.insert(id, 0);
            id
        };
        let reader = Reader {
            flight: self.clone(),
            id,
        };
        let rows = stream::unfold(reader, |reader| async move {
            let next = reader.next().await?;
            Some((next, reader))
        });
        Some(Box::pin(RecordBatchStreamAdapter::new(self.schema(), rows)))
    }

    /// Whether the execution is still under way (not finished or failed).
    pub fn is_running(&self) -> bool {
        self.lock().done.is_none()
    }

    fn readers(&self) -> usize {
        self.lock().readers.len()
    }

    /// Runs `rows` to the end (or until no reader is left), sharing every batch; then the
    /// outcome.
    pub async fn drive(self: Arc<Self>, mut rows: SendableRecordBatchStream) -> Outcome {
        let mut changes = self.version.subscribe();
        loop {
            if self.readers() == 0 {
                let gone = DataFusionError::Execution("every reader went away".into());
                return self.finish(Err(Arc::new(gone)));
            }
            let next = tokio::select! {
                next = rows.next() => next,
                _ = changes.changed() => continue,
            };
            match next {
                Some(Ok(batch)) => self.push(batch),
                Some(Err(err)) => return self.finish(Err(Arc::new(err))),
                None => return self.finish(Ok(())),
            }
        }
    }

    /// Ends a flight whose execution never started: its readers get `why`.
    pub fn abandon(&self, why: &str) {
        let err = DataFusionError::Execution(why.to_string());
        self.finish(Err(Arc::new(err)));
    }

    fn push(&self, batch: RecordBatch) {
        {
            let mut state = self.lock();
            state.bytes += batch.get_array_memory_size();
            state.batches.push(batch);
            if state.bytes > self.max_entry_bytes {
                state.trimming = true;
            }
            if state.trimming {
                trim(&mut state);
            }
        }
        self.bump();
    }

    fn finish(&self, done: Result<(), Arc<DataFusionError>>) -> Outcome {
        let outcome = {
            let mut state = self.lock();
            state.done = Some(done.clone());
            match done {
                Err(err) => Outcome::Failed(err),
                Ok(()) if state.trimming => Outcome::Complete(None),
                Ok(()) => Outcome::Complete(Some(Arc::new(state.batches.clone()))),
            }
        };
        self.bump();
        outcome
    }
}

/// Drops the batches every reader has read.
fn trim(state: &mut State) {
    let Some(&lowest) = state.readers.values().min() else {
        return;
    };
    let passed = lowest.saturating_sub(state.start).min(state.batches.len());
    if passed > 0 {
        state.batches.drain(..passed);
        state.start += passed;
    }
}

/// One reader's position in a flight; leaving (drop) releases what only it still needed.
struct Reader {
    flight: Arc<Flight>,
    id: u64,
}

impl Reader {
    async fn next(&self) -> Option<Result<RecordBatch, DataFusionError>> {
        let mut changes = self.flight.version.subscribe();
        loop {
            {
                let mut state = self.flight.lock();
                let position = state.readers.get(&self.id).copied().unwrap_or(0);
                let index = position - state.start.min(position);
                if let Some(batch) = state.batches.get(index).cloned() {
                    state.readers.insert(self.id, position + 1);
                    if state.trimming {
                        trim(&mut state);
                    }
                    return Some(Ok(batch));
                }
                match &state.done {
                    Some(Ok(())) => return None,
                    Some(Err(err)) => return Some(Err(DataFusionError::Shared(err.clone()))),
                    None => {}
                }
            }
            if changes.changed().await.is_err() {
                return None;
            }
        }
    }
}

impl Drop for Reader {
    fn drop(&mut self) {
        let mut state = self.flight.lock();
        state.readers.remove(&self.id);
        if state.trimming {
            trim(&mut state);
        }
        drop(state);
        self.flight.bump();
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::array::Int64Array;
    use arrow::datatypes::{DataType, Field, Schema};
    use futures::TryStreamExt;

    use super::*;

    fn schema() -> SchemaRef {
        Arc::new(Schema::new(vec![Field::new("n", DataType::Int64, false)]))
    }

    fn batch(n: i64) -> RecordBatch {
        RecordBatch::try_new(schema(), vec![Arc::new(Int64Array::from(vec![n]))]).unwrap()
    }

    fn source(values: Vec<i64>) -> SendableRecordBatchStream {
        let rows = stream::iter(values.into_iter().map(|n| Ok(batch(n))));
        Box::pin(RecordBatchStreamAdapter::new(schema(), rows))
    }

    #[tokio::test]
    async fn every_reader_gets_every_batch_and_the_result_is_kept() {
        let flight = Flight::new(schema(), usize::MAX);
        let a = flight.reader().unwrap();
        let b = flight.reader().unwrap();
        let driver = tokio::spawn(flight.clone().drive(source(vec![1, 2, 3])));
        let a: Vec<_> = a.try_collect().await.unwrap();
        let b: Vec<_> = b.try_collect().await.unwrap();
        assert_eq!(a.len(), 3);
        assert_eq!(a, b);
        match driver.await.unwrap() {
            Outcome::Complete(Some(batches)) => assert_eq!(batches.len(), 3),
            other => panic!("{other:?}"),
        }
    }

    #[tokio::test]
    async fn a_reader_leaving_does_not_strand_the_others() {
        let flight = Flight::new(schema(), usize::MAX);
        let leader = flight.reader().unwrap();
        let follower = flight.reader().unwrap();
        drop(leader);
        let driver = tokio::spawn(flight.clone().drive(source(vec![1, 2])));
        let rows: Vec<_> = follower.try_collect().await.unwrap();
        assert_eq!(rows.len(), 2);
        assert!(matches!(driver.await.unwrap(), Outcome::Complete(Some(_))));
    }

    #[tokio::test]
    async fn an_error_reaches_every_reader_and_is_not_kept() {
        let flight = Flight::new(schema(), usize::MAX);
        let reader = flight.reader().unwrap();
        let rows = stream::iter(vec![
            Ok(batch(1)),
            Err(DataFusionError::Execution("boom".into())),
        ]);
        let failing: SendableRecordBatchStream =
            Box::pin(RecordBatchStreamAdapter::new(schema(), rows));
        let driver = tokio::spawn(flight.clone().drive(failing));
        let result: Result<Vec<_>, _> = reader.try_collect().await;
        assert!(result.unwrap_err().to_string().contains("boom"));
        assert!(matches!(driver.await.unwrap(), Outcome::Failed(_)));
    }

    #[tokio::test]
    async fn a_result_too_big_to_keep_is_streamed_not_held() {
        let flight = Flight::new(schema(), 1);
        let reader = flight.reader().unwrap();
        let driver = tokio::spawn(flight.clone().drive(source((0..50).collect())));
        let rows: Vec<_> = reader.try_collect().await.unwrap();
        assert_eq!(rows.len(), 50);
        assert!(matches!(driver.await.unwrap(), Outcome::Complete(None)));
        assert!(flight.lock().batches.len() <= 1);
    }
}
