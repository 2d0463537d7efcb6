//! The executor runtime: a datafusion-distributed worker with lakegate's codec, announcing itself
//! to the coordinator with heartbeats until it shuts down.
//!
//! ```text
//!   coordinator ──plan fragment (gRPC)──▶ Worker ──▶ IcebergScanCodec decodes scans
//!        ▲                                   │         (this process's FileIO)
//!        └──── Heartbeat{url, running_tasks, draining} every interval
//! ```
//!
//! An executor keeps no state but the fragments it is running. On shutdown (SIGTERM) it drains:
//! it tells the coordinator, which places no new query on it, and serves until the queries
//! running on it are done or `cluster.drain_timeout_secs` passed.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use datafusion::common::runtime::SpawnedTask;
use datafusion::error::DataFusionError;
use datafusion::execution::SessionState;
use datafusion::execution::runtime_env::RuntimeEnvBuilder;
use datafusion_distributed::grpc::{GetTaskProgressRequest, ObservabilityServiceClient};
use datafusion_distributed::{
    DistributedExt, Worker, WorkerQueryContext, WorkerResolver, WorkerSessionBuilder,
};
use http::{HeaderMap, HeaderValue};
use iceberg::io::FileIO;
use lakegate_proto::cluster_secret::{CLUSTER_SECRET_HEADER, ClusterSecret};
use lakegate_proto::registry::HeartbeatRequest;
use lakegate_proto::registry::executor_registry_client::ExecutorRegistryClient;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::{Certificate, ClientTlsConfig, Endpoint, Identity, ServerTlsConfig};
use url::Url;

use lakegate_iceberg::{IcebergScanCodec, RunningTasks};
use lakegate_proto::net::incoming;
use lakegate_proto::tls_channels::TlsChannels;
use lakegate_proto::trace_context::RemoteParent;

use crate::flight::ExecutorFlight;
use crate::memory::QueryPools;

/// How an executor runs and whom it reports to.
#[derive(Debug, Clone)]
pub struct ExecutorOptions {
    /// The coordinator's gRPC address (`http://host:port`).
    pub coordinator: String,
    /// How often to send a heartbeat.
    pub heartbeat_interval: Duration,
    /// Memory one query may use on this executor before it fails (or spills), when the
    /// coordinator sends no limit of its own; `None` is unbounded.
    pub memory_limit: Option<usize>,
    /// Storage access for reading scans.
    pub file_io: FileIO,
    /// How long a draining executor waits for its running tasks before it stops anyway.
    pub drain_timeout: Duration,
    /// The host others reach this executor at, when it is not the address it listens on
    /// (a pod listening on `0.0.0.0` advertises its pod IP).
    pub advertise_host: Option<String>,
    /// Required of every caller sending plan fragments, presented with heartbeats and with
    /// this executor's own calls to other executors.
    pub secret: ClusterSecret,
    /// PEM certificates trusted for an `https://` coordinator (its port serves Flight SQL and
    /// the registry over TLS when `server.tls_*` are set) and for `https://` executors.
    pub cluster_ca: Option<Vec<u8>>,
    /// This executor's certificate and key (PEM): its worker port then speaks only TLS and
    /// it registers an `https://` URL (`cluster.tls_cert`, `cluster.tls_key`).
    pub worker_tls: Option<WorkerTls>,
    /// The runtime the worker's plan fragments run on (a [`crate::CpuRuntime`]'s), apart from
    /// the one heartbeats run on; `None` runs both on the caller's runtime.
    pub plan_runtime: Option<tokio::runtime::Handle>,
}

/// A PEM certificate chain and private key.
#[derive(Debug, Clone)]
pub struct WorkerTls {
    pub cert_pem: Vec<u8>,
    pub key_pem: Vec<u8>,
}

/// Why an executor stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum ExecutorError {
    #[error("executor listen address: {0}")]
    Address(std::io::Error),
    #[error("executor url {0:?} is not a valid URL")]
    Url(String),
    #[error("worker gRPC server: {0}")]
    Serve(#[from] tonic::transport::Error),
    #[error("worker gRPC server stopped on the plan runtime: {0}")]
    Stopped(tokio::task::JoinError),
}

/// Builds each fragment's session: our codec (counting the scans it decodes) and its query's
/// memory pool.
#[derive(Clone)]
struct ExecutorSessionBuilder {
    file_io: FileIO,
    memory_limit: Option<usize>,
    pools: QueryPools,
    running: RunningTasks,
    secret: ClusterSecret,
    /// How fragments reach other executors when the cluster speaks TLS.
    channels: Option<TlsChannels>,
}

#[async_trait]
impl WorkerSessionBuilder for ExecutorSessionBuilder {
    async fn build_session_state(
        &self,
        ctx: WorkerQueryContext,
    ) -> Result<SessionState, DataFusionError> {
        let mut builder = ctx.builder;
        if let (Some(config), Some(parent)) =
            (builder.config().as_mut(), RemoteParent::of(&ctx.headers))
        {
            config.set_extension(Arc::new(parent));
        }
        if let Some(pool) = self.pools.for_fragment(&ctx.headers, self.memory_limit) {
            let runtime = RuntimeEnvBuilder::new().with_memory_pool(pool).build()?;
            builder = builder.with_runtime_env(Arc::new(runtime));
        }
        let running = self.running.clone();
        if let Some(secret) = self.secret.header_value() {
            // A fragment reading another stage calls the executors holding it: they ask for
            // the secret too.
            let mut headers = HeaderMap::new();
            let value = HeaderValue::from_str(secret).map_err(|_| {
                DataFusionError::Configuration(
                    "cluster.shared_secret is not a valid header value".into(),
                )
            })?;
            headers.insert(CLUSTER_SECRET_HEADER, value);
            builder = builder.with_distributed_passthrough_headers(headers)?;
        }
        if let Some(channels) = &self.channels {
            builder = builder.with_distributed_channel_resolver(channels.clone());
        }
        let mut state = builder
            .with_distributed_user_codec(
                IcebergScanCodec::new(self.file_io.clone()).counting(running),
            )
            .build();
        // Fragments may call Trino's functions (planned in a Trino-dialect session).
        lakegate_functions::register_library(&mut state)?;
        Ok(state)
    }
}

/// A running executor's handle: what it runs, and the switch that starts its drain.
#[derive(Debug, Clone)]
pub struct ExecutorHandle {
    pub url: Url,
    pub running: RunningTasks,
}

/// Serves the worker on `listener` and heartbeats to the coordinator until `shutdown` completes;
/// then reports itself draining, lets running fragments finish and returns.
pub async fn run_executor(
    listener: TcpListener,
    options: ExecutorOptions,
    shutdown: impl Future<Output = ()> + Send + 'static,
    on_ready: impl FnOnce(ExecutorHandle),
) -> Result<(), ExecutorError> {
    let addr = listener.local_addr().map_err(ExecutorError::Address)?;
    let scheme = if options.worker_tls.is_some() {
        "https"
    } else {
        "http"
    };
    let url_text = match options.advertise_host.as_deref() {
        Some(host) if host.contains(':') && !host.starts_with('[') => {
            format!("{scheme}://[{host}]:{}", addr.port())
        }
        Some(host) => format!("{scheme}://{host}:{}", addr.port()),
        // A certificate names a host, not a loopback address.
        None if options.worker_tls.is_some() && addr.ip().is_loopback() => {
            format!("{scheme}://localhost:{}", addr.port())
        }
        None => format!("{scheme}://{addr}"),
    };
    let url = Url::parse(&url_text).map_err(|_| ExecutorError::Url(url_text))?;
    let running = RunningTasks::default();
    let worker = Worker::from_session_builder(ExecutorSessionBuilder {
        file_io: options.file_io.clone(),
        memory_limit: options.memory_limit,
        pools: QueryPools::default(),
        running: running.clone(),
        secret: options.secret.clone(),
        channels: options.cluster_ca.clone().map(TlsChannels::new),
    });
    let executor_id = uuid::Uuid::new_v4().to_string();
    let (draining_tx, draining_rx) = watch::channel(false);
    let flight = ExecutorFlight::new(
        executor_id.clone(),
        url.clone(),
        running.clone(),
        draining_rx.clone(),
    );
    let heartbeats = tokio::spawn(heartbeat_loop(
        options.clone(),
        executor_id,
        url.clone(),
        running.clone(),
        draining_rx,
    ));
    on_ready(ExecutorHandle {
        url: url.clone(),
        running: running.clone(),
    });

    let secret = options.secret.clone();
    let options_tls = options.worker_tls.clone();
    let plan_runtime = options.plan_runtime.clone();
    let drain_url = url.clone();
    let drain = async move {
        shutdown.await;
        // Tell the coordinator first, so no new query is placed here while we wind down; the
        // queries already running here may still send this executor fragments, so the server
        // keeps serving until they are done.
        let _ = draining_tx.send(true);
        tracing::info!(executor = %drain_url, "draining: taking no new queries");
        wait_until_idle(&drain_url, &options).await;
    };
    let observability = worker.with_observability_service(Arc::new(NoPeers));
    let worker_server = InterceptedService::new(worker.into_worker_server(), secret);
    let mut server = tonic::transport::Server::builder();
    if let Some(tls) = &options_tls {
        let identity = Identity::from_pem(&tls.cert_pem, &tls.key_pem);
        server = server.tls_config(ServerTlsConfig::new().identity(identity))?;
    }
    let serving = server
        .add_service(worker_server)
        .add_service(observability)
        .add_service(flight.into_server())
        .serve_with_incoming_shutdown(incoming(listener), drain);
    // The server's connections, and the fragments they run, are tasks of the runtime it is
    // polled on; the heartbeats stay on the caller's.
    let served = match plan_runtime {
        Some(cpu) => {
            // Aborted if this executor's caller drops it, as the server would be.
            let task = {
                let _entered = cpu.enter();
                SpawnedTask::spawn(serving)
            };
            task.join().await.map_err(ExecutorError::Stopped)?
        }
        None => serving.await,
    };
    heartbeats.abort();
    served.map_err(ExecutorError::from)
}

/// Waits until the worker holds no task, or the drain timeout passed. First it lets the
/// coordinator hear of the drain, so no query it is still planning lands here afterwards.
async fn wait_until_idle(url: &Url, options: &ExecutorOptions) {
    let deadline = tokio::time::Instant::now() + options.drain_timeout;
    tokio::time::sleep(options.heartbeat_interval * 2).await;
    let mut progress = None;
    loop {
        let tasks = running_tasks(&mut progress, url, options.cluster_ca.as_deref()).await;
        if tasks == 0 {
            tracing::info!(executor = %url, "drained: no task left");
            return;
        }
        if tokio::time::Instant::now() >= deadline {
            tracing::warn!(executor = %url, tasks, "drain timeout passed with tasks still running");
            return;
        }
        tokio::time::sleep(DRAIN_POLL).await;
    }
}

/// How often a draining executor checks whether its tasks are done.
const DRAIN_POLL: Duration = Duration::from_millis(100);

async fn heartbeat_loop(
    options: ExecutorOptions,
    executor_id: String,
    url: Url,
    running: RunningTasks,
    mut draining: watch::Receiver<bool>,
) {
    let mut client: Option<ExecutorRegistryClient<tonic::transport::Channel>> = None;
    let mut progress: Option<ObservabilityServiceClient<tonic::transport::Channel>> = None;
    loop {
        let request = HeartbeatRequest {
            executor_id: executor_id.clone(),
            url: url.to_string(),
            running_tasks: running_tasks(&mut progress, &url, options.cluster_ca.as_deref()).await,
            draining: *draining.borrow(),
            scans_started: running.started() as u64,
            rows_scanned: running.rows_read(),
            bytes_scanned: running.bytes_read(),
        };
        if client.is_none() {
            client = match registry_client(&options).await {
                Ok(connected) => Some(connected),
                Err(e) => {
                    tracing::warn!(coordinator = %options.coordinator, error = %e, "cannot reach the coordinator");
                    None
                }
            };
        }
        let mut request = tonic::Request::new(request);
        if let Err(status) = options.secret.attach(request.metadata_mut()) {
            tracing::error!(%status, "heartbeat not sent");
        }
        if let Some(c) = client.as_mut()
            && let Err(status) = c.heartbeat(request).await
        {
            tracing::warn!(coordinator = %options.coordinator, %status, "heartbeat failed");
            client = None;
        }
        tokio::select! {
            _ = tokio::time::sleep(options.heartbeat_interval) => {}
            _ = draining.changed() => {}
        }
    }
}

/// A registry client for the coordinator in `options`, over TLS for an `https://` one.
async fn registry_client(
    options: &ExecutorOptions,
) -> Result<ExecutorRegistryClient<tonic::transport::Channel>, tonic::transport::Error> {
    let mut endpoint = Endpoint::from_shared(options.coordinator.clone())?;
    if options.coordinator.starts_with("https://") {
        let mut tls = ClientTlsConfig::new();
        if let Some(ca) = &options.cluster_ca {
            tls = tls.ca_certificate(Certificate::from_pem(ca));
        }
        endpoint = endpoint.tls_config(tls)?;
    }
    Ok(ExecutorRegistryClient::new(endpoint.connect().await?))
}

/// Tasks the worker holds: a task stays registered until its query ends, normally or not, so
/// this is the number of tasks of queries still running here. Asked of the worker's own
/// observability service.
async fn running_tasks(
    client: &mut Option<ObservabilityServiceClient<tonic::transport::Channel>>,
    url: &Url,
    ca: Option<&[u8]>,
) -> u32 {
    if client.is_none() {
        *client = own_channel(url, ca)
            .await
            .ok()
            .map(ObservabilityServiceClient::new);
    }
    let Some(c) = client.as_mut() else { return 0 };
    match c.get_task_progress(GetTaskProgressRequest {}).await {
        Ok(response) => response.into_inner().tasks.len() as u32,
        Err(_) => {
            *client = None;
            0
        }
    }
}

/// A channel to this executor's own port, over TLS when it serves TLS.
async fn own_channel(
    url: &Url,
    ca: Option<&[u8]>,
) -> Result<tonic::transport::Channel, tonic::transport::Error> {
    let mut endpoint = Endpoint::from_shared(url.to_string())?;
    if url.scheme() == "https" {
        let mut tls = ClientTlsConfig::new();
        if let Some(ca) = ca {
            tls = tls.ca_certificate(Certificate::from_pem(ca));
        }
        endpoint = endpoint.tls_config(tls)?;
    }
    endpoint.connect().await
}

/// The observability service asks for the cluster's workers; an executor does not know them.
struct NoPeers;

impl WorkerResolver for NoPeers {
    fn get_urls(&self) -> Result<Vec<Url>, DataFusionError> {
        Ok(Vec::new())
    }
}
