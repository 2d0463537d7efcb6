//! Trino queries between their `POST /v1/statement` and their last page. Each GET of a
//! query's `nextUri` takes the next page: it waits up to [`MAX_WAIT`] for the first rows,
//! then takes what else is ready, up to [`PAGE_ROWS`] rows or [`PAGE_BYTES`] bytes. The
//! token in the URI numbers pages; asking again for the page just served serves it again (a
//! client retrying a lost response), any other token is refused. The slug in the URI is a
//! random capability: only the client that started the query knows it. A query no client
//! asked about for [`ABANDONED_AFTER`] is dropped, and with it its plan; one whose last page
//! was served is kept only [`FINISHED_KEPT`], for a retry of that page (a dashboard's
//! thousands of queries a minute would otherwise hold five minutes of last pages).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use datafusion::arrow::array::RecordBatch;
use datafusion::physical_plan::SendableRecordBatchStream;
use futures::{FutureExt, StreamExt};
use serde_json::{Value, json};

use super::errors::query_error;
use super::values;
use lakegate_coordinator::engine::QueryAdmin;
use lakegate_coordinator::error::EngineError;
use lakegate_coordinator::query::QueryId;

/// How long a GET waits for the first rows of a page before answering with none (the client
/// asks again at once).
pub const MAX_WAIT: Duration = Duration::from_secs(1);
pub const PAGE_ROWS: usize = 16_384;
pub const PAGE_BYTES: usize = 8 * 1024 * 1024;
pub const ABANDONED_AFTER: Duration = Duration::from_secs(300);
pub const FINISHED_KEPT: Duration = Duration::from_secs(10);

/// A query a client pages through.
pub struct Paged {
    pub id: QueryId,
    pub slug: String,
    /// The `columns` array, sent on every page once known.
    pub columns: Option<Value>,
    /// Rows still to come; `None` once the last page was built.
    rows: Option<SendableRecordBatchStream>,
    /// The rest of a batch that did not fit on the last page: the next page starts with it.
    /// Its share of the batch's bytes goes with it (a slice reports its whole buffers' size).
    pending: Option<(RecordBatch, usize)>,
    /// The token the next new page will answer to.
    next_token: u64,
    /// The last page served, for a retry of it.
    last: Option<(u64, Value)>,
    started: Instant,
    touched: Instant,
    processed_rows: u64,
    processed_bytes: u64,
}

/// The queries being paged.
#[derive(Default)]
pub struct Results {
    queries: Mutex<HashMap<QueryId, Arc<tokio::sync::Mutex<Paged>>>>,
}

/// A page request that cannot be answered.
#[derive(Debug, PartialEq, Eq)]
pub enum PageError {
    /// No such query (finished long ago, never there, or the slug is wrong).
    Gone,
    /// A token that is neither the next page nor the last one.
    BadToken { wanted: u64, got: u64 },
}

impl Results {
    /// Registers a planned query; its first page will answer to token 1.
    pub fn add(
        &self,
        id: QueryId,
        columns: Option<Value>,
        rows: SendableRecordBatchStream,
    ) -> Arc<tokio::sync::Mutex<Paged>> {
        let now = Instant::now();
        let paged = Arc::new(tokio::sync::Mutex::new(Paged {
            id,
            slug: slug(),
            columns,
            rows: Some(rows),
            pending: None,
            next_token: 1,
            last: None,
            started: now,
            touched: now,
            processed_rows: 0,
            processed_bytes: 0,
        }));
        let mut queries = self.queries.lock().unwrap_or_else(|e| e.into_inner());
        queries.retain(|_, q| {
            q.try_lock().map_or(true, |q| {
                let kept = if q.rows.is_none() {
                    FINISHED_KEPT
                } else {
                    ABANDONED_AFTER
                };
                q.touched.elapsed() < kept
            })
        });
        queries.insert(id, paged.clone());
        paged
    }

    fn find(&self, id: QueryId) -> Option<Arc<tokio::sync::Mutex<Paged>>> {
        self.queries
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&id)
            .cloned()
    }

    fn remove(&self, id: QueryId) {
        self.queries
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&id);
    }

    /// The page `token` of query `id`, as the JSON body of the response. `uris` builds the
    /// query's `infoUri` and `nextUri`.
    pub async fn page(
        &self,
        id: QueryId,
        slug: &str,
        token: u64,
        uris: &Uris,
    ) -> Result<Value, PageError> {
        let paged = self.find(id).ok_or(PageError::Gone)?;
        let mut paged = paged.lock().await;
        if paged.slug != slug {
            return Err(PageError::Gone);
        }
        paged.touched = Instant::now();
        if let Some((last, body)) = &paged.last
            && *last == token
        {
            return Ok(body.clone());
        }
        if token != paged.next_token {
            return Err(PageError::BadToken {
                wanted: paged.next_token,
                got: token,
            });
        }
        // The page's own `nextUri` names the page after it.
        paged.next_token += 1;
        let body = paged.next_page(uris).await;
        paged.last = Some((token, body.clone()));
        Ok(body)
    }

    /// Stops query `id` (`DELETE nextUri`): its plan is dropped and the tracker records it
    /// cancelled. Says whether the query was there.
    pub async fn cancel(&self, id: QueryId, slug: &str, queries: &QueryAdmin) -> bool {
        let Some(paged) = self.find(id) else {
            return false;
        };
        let mut paged = paged.lock().await;
        if paged.slug != slug {
            return false;
        }
        // Marks the cancellation so the tracker records it as such, then drops the plan.
        queries.cancel(id, &lakegate_coordinator::auth::Principal::new(""), true);
        paged.rows = None;
        drop(paged);
        self.remove(id);
        true
    }
}

/// A batch with its size in bytes, which pages are filled by.
fn sized(
    batch: datafusion::error::Result<RecordBatch>,
) -> datafusion::error::Result<(RecordBatch, usize)> {
    batch.map(|batch| {
        let size = batch.get_array_memory_size();
        (batch, size)
    })
}

impl Paged {
    /// The first response, sent by the POST: the query is planned (columns known) and no
    /// rows are taken yet, so the POST answers at once.
    pub fn first_response(&mut self, uris: &Uris) -> Value {
        let body = self.response(uris, "QUEUED", Vec::new(), true, None);
        self.last = Some((0, body.clone()));
        body
    }

    async fn next_page(&mut self, uris: &Uris) -> Value {
        let Some(rows) = self.rows.as_mut() else {
            return self.response(uris, "FINISHED", Vec::new(), false, None);
        };
        let deadline = tokio::time::Instant::now() + MAX_WAIT;
        let mut data = Vec::new();
        let mut bytes = 0;
        let mut finished = false;
        let mut failure = None;
        while data.len() < PAGE_ROWS && bytes < PAGE_BYTES {
            let next = if let Some(rest) = self.pending.take() {
                Some(Ok(rest))
            } else if data.is_empty() {
                match tokio::time::timeout_at(deadline, rows.next()).await {
                    Ok(next) => next.map(sized),
                    Err(_) => break,
                }
            } else {
                match rows.next().now_or_never() {
                    Some(next) => next.map(sized),
                    None => break,
                }
            };
            match next {
                Some(Ok((mut batch, mut size))) => {
                    let room = PAGE_ROWS - data.len();
                    if batch.num_rows() > room {
                        let rest = batch.num_rows() - room;
                        let rest_size = size * rest / batch.num_rows();
                        self.pending = Some((batch.slice(room, rest), rest_size));
                        batch = batch.slice(0, room);
                        size -= rest_size;
                    }
                    bytes += size;
                    self.processed_rows += batch.num_rows() as u64;
                    self.processed_bytes += size as u64;
                    data.extend(values::rows(&batch));
                }
                Some(Err(e)) => {
                    failure = Some(query_error(&EngineError::running(e)));
                    break;
                }
                None => {
                    finished = true;
                    break;
                }
            }
        }
        if failure.is_some() || finished {
            self.rows = None;
        }
        let state = match (&failure, finished) {
            (Some(_), _) => "FAILED",
            (None, true) => "FINISHED",
            (None, false) => "RUNNING",
        };
        let more = failure.is_none() && !finished;
        self.response(uris, state, data, more, failure)
    }

    fn response(
        &self,
        uris: &Uris,
        state: &str,
        data: Vec<Value>,
        more: bool,
        error: Option<Value>,
    ) -> Value {
        let elapsed = self.started.elapsed().as_millis() as u64;
        let mut body = json!({
            "id": self.id.to_string(),
            "infoUri": uris.info(self.id),
            "stats": stats(state, elapsed, self.processed_rows, self.processed_bytes),
            "warnings": [],
        });
        if let Some(columns) = &self.columns {
            body["columns"] = columns.clone();
        }
        if !data.is_empty() {
            body["data"] = Value::Array(data);
        }
        if more {
            body["nextUri"] = Value::String(uris.next(self.id, &self.slug, self.next_token));
        }
        if let Some(error) = error {
            body["error"] = error;
        }
        body
    }
}

/// The `stats` object: state and progress.
pub fn stats(state: &str, elapsed_ms: u64, rows: u64, bytes: u64) -> Value {
    json!({
        "state": state,
        "queued": state == "QUEUED",
        "scheduled": state != "QUEUED",
        "nodes": 1,
        "totalSplits": 0,
        "queuedSplits": 0,
        "runningSplits": 0,
        "completedSplits": 0,
        "cpuTimeMillis": 0,
        "wallTimeMillis": elapsed_ms,
        "queuedTimeMillis": 0,
        "elapsedTimeMillis": elapsed_ms,
        "processedRows": rows,
        "processedBytes": bytes,
        "physicalInputBytes": 0,
        "peakMemoryBytes": 0,
        "spilledBytes": 0,
    })
}

/// Where this server is, as the client reached it, for the URIs in responses.
pub struct Uris {
    pub base: String,
}

impl Uris {
    pub fn info(&self, id: QueryId) -> String {
        format!("{}/v1/query/{id}", self.base)
    }

    pub fn next(&self, id: QueryId, slug: &str, token: u64) -> String {
        format!("{}/v1/statement/executing/{id}/{slug}/{token}", self.base)
    }
}

fn slug() -> String {
    use rand::RngCore;
    let mut bytes = [0u8; 16];
    rand::rng().fill_bytes(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
