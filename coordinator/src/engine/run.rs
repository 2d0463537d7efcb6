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
//! hanging.

use std::sync::Arc;
use std::time::Duration;

use datafusion::arrow::array::RecordBatch;
use datafusion::error::DataFusionError;
use datafusion::physical_plan::SendableRecordBatchStream;
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use futures::future::BoxFuture;
use futures::{StreamExt, stream};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::Instant;
use url::Url;

use crate::admission::Slot;
use crate::cache::Leader;
use crate::error::EngineError;
use crate::query::QueryResult;
use crate::registry::ExecutorRegistry;

/// How long an executor gets to accept a connection before it counts as dead.
const PROBE_TIMEOUT: Duration = Duration::from_millis(500);
/// How often, and how far apart, executors are probed after a transport failure.
const PROBE_ROUNDS: usize = 5;
const PROBE_PAUSE: Duration = Duration::from_millis(200);

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
                    Event::Silent(url, _) if !run.sent_rows && run.runs_left > 0 => {
                        run.runs_left -= 1;
                        tracing::warn!(%id, executor = %url, "an executor stopped answering; running the query again without it");
                        if let Some(registry) = &run.registry {
                            registry.remove(&url);
                        }
                        run.placement = placement_of(run.registry.as_ref());
                        match (run.replan)().await {
                            Ok(rerun) => run.current = rerun.stream,
                            Err(e) => {
                                return Some((Err(DataFusionError::External(Box::new(e))), None));
                            }
                        }
                        continue;
                    }
                    Event::Silent(url, window) => {
                        if let Some(registry) = &run.registry {
                            registry.remove(&url);
                        }
                        let err = EngineError::Execution {
                            message: format!(
                                "executor {url} stopped answering (no heartbeat for {window:?}) \
                                 after rows were sent; run the query again"
                            ),
                            cause: None,
                        };
                        return Some((Err(DataFusionError::External(Box::new(err))), None));
                    }
                };
                match next {
                    Some(Ok(batch)) => {
                        run.sent_rows |= batch.num_rows() > 0;
                        return Some((Ok(batch), Some(run)));
                    }
                    Some(Err(err))
                        if !run.sent_rows
                            && run.runs_left > 0
                            && lost_an_executor(run.registry.as_ref(), &run.placement, &err)
                                .await =>
                    {
                        run.runs_left -= 1;
                        tracing::warn!(%id, error = %err, "an executor was lost; running the query again");
                        run.placement = placement_of(run.registry.as_ref());
                        match (run.replan)().await {
                            Ok(rerun) => run.current = rerun.stream,
                            Err(e) => {
                                return Some((Err(DataFusionError::External(Box::new(e))), None));
                            }
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

/// Completes when an executor of `placement` goes silent, checking once per heartbeat; never
/// where executors run in this process (see [`ExecutorRegistry::detecting_hangs`]).
async fn silence(registry: Option<&Arc<ExecutorRegistry>>, placement: &[Url]) -> (Url, Duration) {
    let Some(registry) = registry.filter(|r| r.detects_hangs()) else {
        return std::future::pending().await;
    };
    loop {
        tokio::time::sleep(registry.heartbeat_interval()).await;
        if let Some((url, window)) = registry.silent_among(placement)
            && !answers(&url, window.min(MAX_ANSWER_WAIT)).await
        {
            return (url, window);
        }
    }
}

/// The longest a silent executor is given to answer before it counts as hung.
const MAX_ANSWER_WAIT: Duration = Duration::from_secs(5);

/// HTTP/2's client preface and an empty SETTINGS frame.
const H2_PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\0\0\0\x04\0\0\0\0\0";

/// Whether the process at `url` answers at all within `wait`: its heartbeats may only be late
/// (a saturated executor), so silence alone does not condemn it. A stopped process still has
/// its connections accepted by the kernel, but sends nothing; a running one answers the
/// preface with its own SETTINGS (plaintext) or a TLS alert, or hangs up: any of those is an
/// answer.
async fn answers(url: &Url, wait: Duration) -> bool {
    let Some(addr) = url
        .socket_addrs(|| None)
        .ok()
        .and_then(|a| a.first().copied())
    else {
        return false;
    };
    let exchange = async {
        let mut stream = TcpStream::connect(addr).await?;
        stream.write_all(H2_PREFACE).await?;
        let mut reply = [0u8; 1];
        stream.read(&mut reply).await
    };
    matches!(tokio::time::timeout(wait, exchange).await, Ok(Ok(_)))
}

fn placement_of(registry: Option<&Arc<ExecutorRegistry>>) -> Vec<Url> {
    registry.map(|r| r.placement()).unwrap_or_default()
}
/// Whether an executor the failed run could have used is gone: silent long enough to have left
/// the registry, or not accepting connections (then it is dropped from placement now).
///
/// A process that dies breaks its open streams a moment before its listening socket closes, so
/// after a transport failure the executors are probed a few times before the query is given up.
async fn lost_an_executor(
    registry: Option<&Arc<ExecutorRegistry>>,
    placement: &[Url],
    err: &DataFusionError,
) -> bool {
    let Some(registry) = registry else {
        return false;
    };
    let rounds = if is_transport_failure(err) {
        PROBE_ROUNDS
    } else {
        1
    };
    for round in 0..rounds {
        if round > 0 {
            tokio::time::sleep(PROBE_PAUSE).await;
        }
        if probe_placement(registry, placement).await {
            return true;
        }
    }
    false
}

/// Errors of the network between the processes rather than of the query: a peer that went
/// away. An executor's own failures travel as a `tonic::Status` it built (code `Internal`, no
/// source); a broken connection is a status tonic made from a transport error (it keeps that
/// error as its source, or says `Unavailable`), or an I/O error of the socket itself.
fn is_transport_failure(err: &DataFusionError) -> bool {
    let mut next: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(error) = next {
        if let Some(status) = error.downcast_ref::<tonic::Status>()
            && (status.code() == tonic::Code::Unavailable
                || std::error::Error::source(status).is_some())
        {
            return true;
        }
        if error.is::<tonic::transport::Error>() {
            return true;
        }
        if let Some(io) = error.downcast_ref::<std::io::Error>()
            && matches!(
                io.kind(),
                std::io::ErrorKind::ConnectionRefused
                    | std::io::ErrorKind::ConnectionReset
                    | std::io::ErrorKind::ConnectionAborted
                    | std::io::ErrorKind::BrokenPipe
                    | std::io::ErrorKind::UnexpectedEof
            )
        {
            return true;
        }
        next = error.source();
    }
    false
}

/// Probes every executor in `placement`; drops those gone from the registry or refusing
/// connections, and says whether there were any.
async fn probe_placement(registry: &Arc<ExecutorRegistry>, placement: &[Url]) -> bool {
    let now = registry.placement();
    let probes = placement.iter().map(|url| async move {
        let reachable = match url.socket_addrs(|| None) {
            Ok(addrs) => match addrs.first() {
                Some(addr) => matches!(
                    tokio::time::timeout(PROBE_TIMEOUT, TcpStream::connect(addr)).await,
                    Ok(Ok(_))
                ),
                None => false,
            },
            Err(_) => false,
        };
        (url, reachable)
    });
    let mut lost = false;
    for (url, reachable) in futures::future::join_all(probes).await {
        tracing::debug!(executor = %url, reachable, registered = now.contains(url), "probed");
        if !reachable || !now.contains(url) {
            tracing::warn!(executor = %url, "executor lost; dropped from placement");
            ExecutorRegistry::remove(registry, url);
            lost = true;
        }
    }
    lost
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::net::TcpListener;

    fn url_of(listener: &TcpListener) -> Url {
        let addr = listener.local_addr().expect("bound address");
        Url::parse(&format!("http://{addr}/")).expect("a URL")
    }

    #[tokio::test]
    async fn a_process_that_accepts_but_never_answers_counts_as_hung() {
        // Bound and listening but never accepting: the kernel completes connections, nothing
        // is ever sent, as with a stopped process.
        let stopped = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        assert!(!answers(&url_of(&stopped), Duration::from_millis(300)).await);

        let alive = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = url_of(&alive);
        tokio::spawn(async move {
            if let Ok((mut socket, _)) = alive.accept().await {
                let _ = socket.write_all(b"\0").await;
            }
        });
        assert!(answers(&url, Duration::from_secs(5)).await);

        let gone = url_of(&stopped);
        drop(stopped);
        assert!(!answers(&gone, Duration::from_millis(300)).await);
    }
}
