//! The executor registry: which executors the coordinator may place work on, fed by their
//! heartbeats. An executor not heard from within the window, or one that said it is draining,
//! gets no new work.

use std::collections::HashMap;
use std::sync::RwLock;
use std::time::{Duration, Instant};

use datafusion::error::DataFusionError;
use datafusion_distributed::WorkerResolver;
use lakegate_proto::registry::executor_registry_server::ExecutorRegistry as RegistryService;
use lakegate_proto::registry::{HeartbeatRequest, HeartbeatResponse};
use std::sync::Arc;
use tonic::{Request, Response, Status};
use url::Url;

/// What the coordinator knows of one executor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecutorInfo {
    pub id: String,
    pub url: Url,
    pub running_tasks: u32,
    pub scans_started: u64,
    /// Rows and data-file bytes its finished scans read.
    pub rows_scanned: u64,
    pub bytes_scanned: u64,
    pub draining: bool,
}

#[derive(Debug)]
struct Entry {
    info: ExecutorInfo,
    last_seen: Instant,
}

/// Executors by id.
#[derive(Debug)]
pub struct ExecutorRegistry {
    heartbeat_interval: Duration,
    window: Duration,
    executors: RwLock<HashMap<String, Entry>>,
    /// Times each executor (by URL) was found unreachable while running a query; kept after
    /// it is gone, as a counter is.
    losses: RwLock<HashMap<String, u64>>,
    /// Whether a silent executor counts as hung for the queries using it (see
    /// [`ExecutorRegistry::detecting_hangs`]).
    hangs: bool,
}

impl ExecutorRegistry {
    /// Executors are expected every `heartbeat_interval` and dropped after `window` of silence.
    pub fn new(heartbeat_interval: Duration, window: Duration) -> Self {
        Self {
            heartbeat_interval,
            window,
            executors: RwLock::new(HashMap::new()),
            losses: RwLock::new(HashMap::new()),
            hangs: false,
        }
    }

    /// Executors are separate processes: one that stops heartbeating while a query uses it
    /// (stopped, hung, partitioned away) is taken for hung, and the query moves off it. Not
    /// for executors inside the coordinator's process, whose heartbeats only go quiet when
    /// the whole process is starved, and so are its queries.
    pub fn detecting_hangs(mut self) -> Self {
        self.hangs = true;
        self
    }

    /// Whether [`ExecutorRegistry::detecting_hangs`] is on.
    pub fn detects_hangs(&self) -> bool {
        self.hangs
    }

    /// How often executors heartbeat.
    pub fn heartbeat_interval(&self) -> Duration {
        self.heartbeat_interval
    }

    /// The first of `urls` not heard from within the window (or dropped), with how long the
    /// window is.
    pub fn silent_among(&self, urls: &[Url]) -> Option<(Url, Duration)> {
        let executors = self.executors.read().unwrap_or_else(|e| e.into_inner());
        urls.iter()
            .find(|url| {
                !executors
                    .values()
                    .any(|e| &e.info.url == *url && e.last_seen.elapsed() <= self.window)
            })
            .map(|url| (url.clone(), self.window))
    }

    /// Records a heartbeat (registering the executor if new).
    pub fn heartbeat(&self, request: HeartbeatRequest) -> Result<(), Status> {
        let url = Url::parse(&request.url).map_err(|e| {
            Status::invalid_argument(format!("executor url {:?}: {e}", request.url))
        })?;
        if request.executor_id.is_empty() {
            return Err(Status::invalid_argument("executor_id is empty"));
        }
        let info = ExecutorInfo {
            id: request.executor_id.clone(),
            url,
            running_tasks: request.running_tasks,
            scans_started: request.scans_started,
            rows_scanned: request.rows_scanned,
            bytes_scanned: request.bytes_scanned,
            draining: request.draining,
        };
        let mut executors = self.executors.write().unwrap_or_else(|e| e.into_inner());
        if !executors.contains_key(&info.id) {
            tracing::info!(executor = %info.url, "executor registered");
        }
        executors.insert(
            request.executor_id,
            Entry {
                info,
                last_seen: Instant::now(),
            },
        );
        Ok(())
    }

    /// Every executor heard from within the window, draining or not, sorted by URL.
    pub fn executors(&self) -> Vec<ExecutorInfo> {
        let executors = self.executors.read().unwrap_or_else(|e| e.into_inner());
        let mut live: Vec<ExecutorInfo> = executors
            .values()
            .filter(|e| e.last_seen.elapsed() <= self.window)
            .map(|e| e.info.clone())
            .collect();
        live.sort_by(|a, b| a.url.as_str().cmp(b.url.as_str()));
        live
    }

    /// URLs of the executors that may take new work.
    pub fn placement(&self) -> Vec<Url> {
        self.executors()
            .into_iter()
            .filter(|e| !e.draining)
            .map(|e| e.url)
            .collect()
    }

    /// Drops an executor found unreachable; it comes back with its next heartbeat if alive.
    pub fn remove(&self, url: &Url) {
        let mut executors = self.executors.write().unwrap_or_else(|e| e.into_inner());
        executors.retain(|_, e| &e.info.url != url);
        let mut losses = self.losses.write().unwrap_or_else(|e| e.into_inner());
        *losses.entry(url.to_string()).or_default() += 1;
    }

    /// How often each executor, by URL, was found unreachable, sorted by URL.
    pub fn losses(&self) -> Vec<(String, u64)> {
        let losses = self.losses.read().unwrap_or_else(|e| e.into_inner());
        let mut all: Vec<(String, u64)> = losses.iter().map(|(u, n)| (u.clone(), *n)).collect();
        all.sort();
        all
    }
}

/// The distributed planner's view of the registry.
#[derive(Debug, Clone)]
pub struct RegistryWorkers(pub Arc<ExecutorRegistry>);

impl WorkerResolver for RegistryWorkers {
    fn get_urls(&self) -> Result<Vec<Url>, DataFusionError> {
        Ok(self.0.placement())
    }
}

/// The gRPC face of the registry, served next to Flight SQL.
#[derive(Debug, Clone)]
pub struct RegistryEndpoint(pub Arc<ExecutorRegistry>);

#[tonic::async_trait]
impl RegistryService for RegistryEndpoint {
    async fn heartbeat(
        &self,
        request: Request<HeartbeatRequest>,
    ) -> Result<Response<HeartbeatResponse>, Status> {
        self.0.heartbeat(request.into_inner())?;
        Ok(Response::new(HeartbeatResponse {
            heartbeat_interval_ms: self.0.heartbeat_interval.as_millis() as u64,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn beat(id: &str, port: u16, draining: bool) -> HeartbeatRequest {
        HeartbeatRequest {
            executor_id: id.into(),
            url: format!("http://127.0.0.1:{port}"),
            draining,
            ..Default::default()
        }
    }

    #[test]
    fn silent_and_draining_executors_get_no_work() {
        let registry = ExecutorRegistry::new(Duration::from_millis(10), Duration::from_millis(50));
        registry.heartbeat(beat("a", 1, false)).unwrap();
        registry.heartbeat(beat("b", 2, true)).unwrap();
        assert_eq!(registry.placement().len(), 1);
        assert_eq!(registry.executors().len(), 2);
        std::thread::sleep(Duration::from_millis(80));
        assert!(registry.placement().is_empty());
        assert!(
            registry
                .heartbeat(HeartbeatRequest {
                    url: "not a url".into(),
                    ..beat("c", 3, false)
                })
                .is_err()
        );
    }
}
