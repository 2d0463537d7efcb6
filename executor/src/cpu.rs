//! A runtime of its own for running plans, apart from the runtime that serves the network.
//!
//! DataFusion's operators compute inside `poll`: decoding a row group, building a hash table or
//! sorting a batch holds a runtime thread for as long as it takes. On the runtime that also
//! answers clients, heartbeats and cancels, two heavy queries on two cores left nothing to
//! answer them (a cancel took 13 s). Plans run on a [`CpuRuntime`] instead; the serving runtime
//! keeps its threads, and the operating system shares the cores between both, so a cache hit or
//! a cancel waits for a time slice, not for an operator to finish.

use std::any::Any;
use std::future::Future;
use std::io;
use std::panic::AssertUnwindSafe;

use datafusion::common::runtime::SpawnedTask;
use datafusion::error::DataFusionError;
use datafusion::physical_plan::SendableRecordBatchStream;
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use futures::{FutureExt, StreamExt};
use tokio::runtime::{Builder, Handle, Runtime};
use tokio_stream::wrappers::ReceiverStream;
use tracing::Instrument;

/// Batches a plan may run ahead of its reader: enough to overlap the two, few enough that a
/// slow client holds back the plan instead of buffering its answer.
const AHEAD: usize = 2;

/// Stack of each runtime thread, serving or running plans. Planning, optimising and evaluating
/// an expression recurse once per level of it; with tokio's 2 MiB a generated `WHERE` of a
/// thousand `OR`s overflowed and aborted the whole process. Stacks are reserved, not touched:
/// only a deep query pays in memory. `query.max_expression_depth` keeps every statement within
/// what this holds.
pub const THREAD_STACK_BYTES: usize = 64 * 1024 * 1024;

/// A multi-threaded tokio runtime that runs plans, stopped when dropped.
#[derive(Debug)]
pub struct CpuRuntime {
    handle: Handle,
    /// Taken only by `drop`, which must not block.
    runtime: Option<Runtime>,
}

impl CpuRuntime {
    /// A runtime of `threads` threads (`0`: one per core), named `lakegate-cpu`.
    pub fn new(threads: usize) -> io::Result<CpuRuntime> {
        let threads = match threads {
            0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
            n => n,
        };
        let runtime = Builder::new_multi_thread()
            .worker_threads(threads)
            .thread_name("lakegate-cpu")
            .thread_stack_size(THREAD_STACK_BYTES)
            .on_thread_start(lower_priority)
            .enable_all()
            .build()?;
        Ok(CpuRuntime {
            handle: runtime.handle().clone(),
            runtime: Some(runtime),
        })
    }

    /// Where plans are spawned.
    pub fn handle(&self) -> Handle {
        self.handle.clone()
    }
}

/// The plan threads' nice value (the serving threads keep the process's, normally 0): a lower
/// scheduling priority than theirs. With separate threads alone, a cache hit still waited up
/// to a time slice behind plans on every core (p99 8 ms under two heavy queries on two
/// cores); at a lower priority the scheduler runs a woken serving thread at once. With nothing
/// else to run, plans still get every core.
const PLAN_NICENESS: i32 = 10;

/// Gives the calling thread the nice value [`PLAN_NICENESS`] (on Linux, where a thread's
/// priority is its own); elsewhere, or where the scheduler refuses, it stays as it is.
fn lower_priority() {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: setpriority takes integers and touches no memory of ours; on Linux,
        // PRIO_PROCESS with id 0 names the calling thread only.
        let failed = unsafe { libc::setpriority(libc::PRIO_PROCESS, 0, PLAN_NICENESS) } != 0;
        if failed {
            tracing::debug!("plan threads keep the serving threads' priority");
        }
    }
}

impl Drop for CpuRuntime {
    /// Dropping a runtime blocks until its tasks end, which an async caller may not do; its
    /// tasks are plans, dropped (cancelled) with it.
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

/// Starts the plan `execute` returns on `cpu` and hands its batches to whoever polls the
/// returned stream, on any runtime. `execute` is called inside `cpu`'s context, so every task
/// the plan spawns (repartitions, scans, shuffles) runs there too; its error is returned as
/// it is, as if it had been called here. The plan stops when the returned stream is dropped,
/// or as soon as `stop` resolves, whether or not anyone is reading: a cancelled query's
/// client may not come back for its next page, and its plan must not wait for it. The stream
/// then ends with `stop`'s error; a panic in the plan ends it with an error naming the panic,
/// not a stream cut short.
pub fn run_on(
    cpu: &Handle,
    execute: impl FnOnce() -> Result<SendableRecordBatchStream, DataFusionError>,
    stop: impl Future<Output = DataFusionError> + Send + 'static,
) -> Result<SendableRecordBatchStream, DataFusionError> {
    let _entered = cpu.enter();
    let mut stream = execute()?;
    let schema = stream.schema();
    let (tx, rx) = tokio::sync::mpsc::channel(AHEAD);
    let task = SpawnedTask::spawn(
        async move {
            let batches = tx.clone();
            // Owns the plan's stream, so that a stop, which drops this future, drops the plan
            // then and there, not once the reader has taken what is buffered.
            let driven = AssertUnwindSafe(async move {
                while let Some(batch) = stream.next().await {
                    if batches.send(batch).await.is_err() {
                        // The reader is gone: the plan stops as its stream drops here.
                        return;
                    }
                }
            })
            .catch_unwind();
            let failure = tokio::select! {
                driven = driven => driven.err().map(panicked),
                stopped = stop => Some(stopped),
            };
            if let Some(failure) = failure {
                // The plan is dropped (stopped) before the error waits for its reader.
                let _ = tx.send(Err(failure)).await;
            }
        }
        .instrument(tracing::Span::current()),
    );
    let batches = ReceiverStream::new(rx).map(move |batch| {
        // Owned by the stream: dropping the stream aborts the task and the plan with it.
        let _running = &task;
        batch
    });
    Ok(Box::pin(RecordBatchStreamAdapter::new(schema, batches)))
}

fn panicked(panic: Box<dyn Any + Send>) -> DataFusionError {
    let message = panic_message(panic.as_ref());
    tracing::error!(%message, "a plan panicked");
    DataFusionError::Internal(format!("the query failed inside the engine: {message}"))
}

/// What a caught panic said, when it said it with a string.
pub fn panic_message(panic: &(dyn Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "no message".into())
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use datafusion::arrow::array::Int32Array;
    use datafusion::arrow::datatypes::{DataType, Field, Schema};
    use datafusion::arrow::record_batch::RecordBatch;
    use futures::TryStreamExt;

    use super::*;

    fn schema() -> datafusion::arrow::datatypes::SchemaRef {
        Arc::new(Schema::new(vec![Field::new("n", DataType::Int32, false)]))
    }

    async fn never() -> DataFusionError {
        std::future::pending().await
    }

    /// A plan that never ends, holding `guard` until it is dropped.
    fn endless(guard: tokio::sync::oneshot::Sender<()>) -> SendableRecordBatchStream {
        let batches = futures::stream::iter(0..).map(move |n| {
            let _held = &guard;
            Ok(batch(n))
        });
        Box::pin(RecordBatchStreamAdapter::new(schema(), batches))
    }

    fn batch(n: i32) -> RecordBatch {
        RecordBatch::try_new(schema(), vec![Arc::new(Int32Array::from(vec![n]))])
            .expect("a valid batch")
    }

    #[tokio::test]
    async fn batches_cross_over_and_the_plan_ran_on_the_cpu_runtime() {
        let cpu = CpuRuntime::new(1).expect("a runtime");
        let stream = run_on(
            &cpu.handle(),
            || {
                let batches = futures::stream::iter(0..5).map(|n| {
                    let thread = std::thread::current().name().map(str::to_string);
                    assert_eq!(
                        thread.as_deref(),
                        Some("lakegate-cpu"),
                        "polled on {thread:?}"
                    );
                    Ok(batch(n))
                });
                Ok(Box::pin(RecordBatchStreamAdapter::new(schema(), batches)) as _)
            },
            never(),
        )
        .expect("started");
        let got: Vec<RecordBatch> = stream.try_collect().await.expect("all batches");
        assert_eq!(got, (0..5).map(batch).collect::<Vec<_>>());
    }

    #[tokio::test]
    async fn a_panic_ends_the_stream_with_an_error() {
        let cpu = CpuRuntime::new(1).expect("a runtime");
        let stream = run_on(
            &cpu.handle(),
            || {
                let batches = futures::stream::iter(0..3).map(|n| {
                    assert!(n < 1, "boom at {n}");
                    Ok(batch(n))
                });
                Ok(Box::pin(RecordBatchStreamAdapter::new(schema(), batches)) as _)
            },
            never(),
        )
        .expect("started");
        let err = stream
            .try_collect::<Vec<_>>()
            .await
            .expect_err("the panic is an error");
        assert!(err.to_string().contains("boom at 1"), "{err}");
    }

    #[tokio::test]
    async fn dropping_the_stream_stops_the_plan() {
        let cpu = CpuRuntime::new(1).expect("a runtime");
        let (dropped_tx, dropped_rx) = tokio::sync::oneshot::channel::<()>();
        let stream = run_on(&cpu.handle(), move || Ok(endless(dropped_tx)), never());
        let mut stream = stream.expect("started");
        assert!(stream.next().await.is_some());
        drop(stream);
        tokio::time::timeout(std::time::Duration::from_secs(5), dropped_rx)
            .await
            .expect("the plan stopped")
            .expect_err("its sender was dropped, not used");
    }

    #[tokio::test]
    async fn a_stop_ends_the_plan_unread_and_the_stream_says_why() {
        let cpu = CpuRuntime::new(1).expect("a runtime");
        let (dropped_tx, dropped_rx) = tokio::sync::oneshot::channel::<()>();
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let stream = run_on(&cpu.handle(), move || Ok(endless(dropped_tx)), async move {
            let _ = stop_rx.await;
            DataFusionError::Execution("stopped by the test".into())
        })
        .expect("started");
        // The plan first fills what may wait for the reader, so the stop finds it blocked on
        // a reader that never comes.
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        let _ = stop_tx.send(());
        // Nobody reads, yet the plan is dropped.
        tokio::time::timeout(std::time::Duration::from_secs(5), dropped_rx)
            .await
            .expect("the plan stopped unread")
            .expect_err("its sender was dropped, not used");
        let err = stream
            .try_collect::<Vec<_>>()
            .await
            .expect_err("the stream ends with the stop's error");
        assert!(err.to_string().contains("stopped by the test"), "{err}");
    }
}
