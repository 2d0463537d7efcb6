//! What watches a running query: its deadline (`query.timeout_secs`), its reruns, and the
//! naming of its memory limit when an executor runs out.
//!
//! A distributed query that fails before any row reached the client is rerun when the failure
//! coincides with an executor becoming unreachable: the dead executor is dropped from placement
//! and the query planned again on those left, up to `query.max_attempts` runs. Errors of the
//! query itself (bad SQL, division by zero) are never rerun: no executor is found dead then.
//! Once a row has been sent, a failure reaches the client as it is.

use std::time::Duration;

use datafusion::common::ScalarValue;
use datafusion::error::DataFusionError;
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::sql::parser::Statement as DfStatement;
use futures::{StreamExt, stream};
use tokio::net::TcpStream;
use tokio::time::Instant;
use url::Url;

use crate::access::AccessView;
use crate::engine::Engine;
use crate::error::EngineError;
use crate::lifecycle::RunningQuery;
use crate::query::QueryResult;
use crate::registry::ExecutorRegistry;
use crate::session::SessionVars;

/// How long an executor gets to accept a connection before it counts as dead.
const PROBE_TIMEOUT: Duration = Duration::from_millis(500);
/// How often, and how far apart, executors are probed after a transport failure.
const PROBE_ROUNDS: usize = 5;
const PROBE_PAUSE: Duration = Duration::from_millis(200);

/// What a rerun plans again: the statement as the first run planned it, with the same session
/// variables and the same reading of the access rules (its answer may be cached under a key
/// made from them).
pub struct Rerun {
    pub vars: SessionVars,
    pub access: AccessView,
    pub statement: DfStatement,
    pub params: Vec<ScalarValue>,
}

struct Run {
    engine: Engine,
    rerun: Rerun,
    current: datafusion::physical_plan::SendableRecordBatchStream,
    /// The executors work could be placed on when the current run started.
    placement: Vec<Url>,
    runs_left: usize,
    sent_rows: bool,
    deadline: Option<Instant>,
    /// Counts the query as running until the run ends or is dropped.
    _running: RunningQuery,
}

/// Wraps a started query so it obeys its deadline and reruns after losing an executor.
pub fn guard(engine: Engine, rerun: Rerun, first: QueryResult) -> QueryResult {
    let limits = engine.run_limits();
    let QueryResult {
        id,
        schema,
        stream,
        plan,
        snapshots,
    } = first;
    let placement = placement_of(&engine);
    let running = engine.lifecycle().track();
    let run = Run {
        engine,
        rerun,
        current: stream,
        placement,
        runs_left: limits.max_attempts.saturating_sub(1),
        sent_rows: false,
        deadline: limits.timeout.map(|t| Instant::now() + t),
        _running: running,
    };
    // The state is `None` once the query ended in an error: the run, and with it every stream
    // of the plan on every executor, is dropped as the error is handed out.
    let batches = stream::unfold(Some(run), move |run| async move {
        let mut run = run?;
        loop {
            let next = match run.deadline {
                Some(deadline) => match tokio::time::timeout_at(deadline, run.current.next()).await
                {
                    Ok(next) => next,
                    Err(_) => {
                        let err = EngineError::TimedOut {
                            query: id.to_string(),
                            limit_secs: limits.timeout.map_or(0, |t| t.as_secs()),
                        };
                        return Some((Err(DataFusionError::External(Box::new(err))), None));
                    }
                },
                None => run.current.next().await,
            };
            match next {
                Some(Ok(batch)) => {
                    run.sent_rows |= batch.num_rows() > 0;
                    return Some((Ok(batch), Some(run)));
                }
                Some(Err(err))
                    if !run.sent_rows
                        && run.runs_left > 0
                        && lost_an_executor(&run.engine, &run.placement, &err).await =>
                {
                    run.runs_left -= 1;
                    tracing::warn!(%id, error = %err, "an executor was lost; running the query again");
                    run.placement = placement_of(&run.engine);
                    match run
                        .engine
                        .run_read(
                            id,
                            &run.rerun.vars,
                            &run.rerun.access,
                            run.rerun.statement.clone(),
                            &run.rerun.params,
                        )
                        .await
                    {
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
    QueryResult {
        id,
        schema: schema.clone(),
        stream: Box::pin(RecordBatchStreamAdapter::new(schema, batches)),
        plan,
        snapshots,
    }
}

fn placement_of(engine: &Engine) -> Vec<Url> {
    engine.registry().map(|r| r.placement()).unwrap_or_default()
}

/// Whether an executor the failed run could have used is gone: silent long enough to have left
/// the registry, or not accepting connections (then it is dropped from placement now).
///
/// A process that dies breaks its open streams a moment before its listening socket closes, so
/// after a transport failure the executors are probed a few times before the query is given up.
async fn lost_an_executor(engine: &Engine, placement: &[Url], err: &DataFusionError) -> bool {
    let Some(registry) = engine.registry() else {
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

/// Errors of the network between the processes rather than of the query: a peer that went away.
fn is_transport_failure(err: &DataFusionError) -> bool {
    let message = err.to_string().to_ascii_lowercase();
    TRANSPORT_MARKERS.iter().any(|m| message.contains(m))
}

const TRANSPORT_MARKERS: &[&str] = &[
    "transport error",
    "h2 protocol error",
    "broken pipe",
    "connection refused",
    "connection reset",
    "error trying to connect",
    "unavailable",
];

/// Probes every executor in `placement`; drops those gone from the registry or refusing
/// connections, and says whether there were any.
async fn probe_placement(registry: &std::sync::Arc<ExecutorRegistry>, placement: &[Url]) -> bool {
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
