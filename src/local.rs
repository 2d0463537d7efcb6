//! Running the coordinator: `lakegate local` (the whole system in one process, executors on
//! their own loopback ports, over the embedded demo lake unless told otherwise) and
//! `lakegate coordinator` (executors are separate processes).

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use lakegate_coordinator::access::AccessControl;
use lakegate_coordinator::catalog::file_io;
use lakegate_coordinator::config::AuthMode;
use lakegate_coordinator::registry::ExecutorRegistry;
use lakegate_coordinator::saved::SavedQueries;
use lakegate_coordinator::tls::{TlsError, listener_identity, postgres_identity};
use lakegate_coordinator::{Authenticator, Config, Engine};
use lakegate_executor::WorkerTls;
use lakegate_executor::{CpuRuntime, ExecutorHandle, ExecutorOptions, run_executor};
use lakegate_frontend::flight_sql::FlightSqlFrontend;
use lakegate_frontend::server::serve;
use lakegate_frontend::{http, postgres};
use tokio::net::TcpListener;

use crate::tpch::{Progress, TpchOptions, write_lake};

/// Scale of the demo lake written on first start.
pub const DEMO_SCALE: f64 = 0.1;

/// Why the local gateway could not start.
#[derive(Debug, thiserror::Error)]
pub enum LocalError {
    #[error("writing the demo lake: {0}")]
    Demo(#[from] crate::tpch::TpchError),
    #[error(transparent)]
    Engine(#[from] lakegate_coordinator::EngineError),
    #[error(transparent)]
    Auth(#[from] lakegate_coordinator::auth::AuthError),
    #[error(transparent)]
    Access(#[from] lakegate_coordinator::access::AccessError),
    #[error(transparent)]
    Saved(#[from] lakegate_coordinator::saved::SavedError),
    #[error(transparent)]
    Tls(#[from] TlsError),
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("gRPC server: {0}")]
    Serve(#[from] tonic::transport::Error),
    #[error("server task: {0}")]
    Join(String),
    #[error("cannot start the plan runtime (query.cpu_threads = {threads}): {source}")]
    PlanRuntime {
        threads: usize,
        source: std::io::Error,
    },
}

/// Whether the configured lake is the local SQLite one and has no catalog yet.
fn needs_demo_lake(config: &Config) -> Option<PathBuf> {
    if !config.catalog.uri.is_empty() || config.catalog.warehouse.contains("://") {
        return None;
    }
    let warehouse = PathBuf::from(&config.catalog.warehouse);
    (!warehouse.join("catalog.db").exists()).then_some(warehouse)
}

/// What a coordinator process runs next to itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// `lakegate local`: writes the demo lake if there is none and starts
    /// `cluster.local_executors` executors in-process, each on its own loopback port.
    Local,
    /// `lakegate coordinator`: executors are separate processes that register themselves.
    Coordinator,
}

/// What `on_ready` learns once the gateway accepts queries.
#[derive(Debug, Clone)]
pub struct Ready {
    pub flight_sql: SocketAddr,
    pub http: SocketAddr,
    pub postgres: SocketAddr,
    pub executors: Vec<ExecutorHandle>,
}

/// Runs the coordinator until `shutdown` completes.
pub async fn run(
    mut config: Config,
    role: Role,
    shutdown: impl Future<Output = ()> + Send + 'static,
    on_ready: impl FnOnce(Ready),
) -> Result<(), LocalError> {
    // Checked first: a broken policy or certificate must stop the start before anything slow
    // happens.
    let access = Arc::new(AccessControl::from_config(&config.auth)?);
    let tls = listener_identity(&config.server)?;
    let postgres_tls = postgres_identity(&config.server)?;
    if access.is_configured() && config.auth.mode == AuthMode::Open {
        tracing::warn!(
            "access control with auth.mode = \"open\" trusts the user name every client sends"
        );
    }
    if role == Role::Local
        && let Some(warehouse) = needs_demo_lake(&config)
    {
        println!(
            "No lake in {}: writing TPC-H scale {DEMO_SCALE} there (once).",
            warehouse.display()
        );
        let options = TpchOptions {
            scale: DEMO_SCALE,
            warehouse,
            namespace: config.catalog.default_schema.clone(),
            catalog_name: config.catalog.name.clone(),
            overwrite: false,
        };
        write_lake(&options, print_progress).await?;
    }
    let local_executors = match role {
        Role::Local => config.cluster.local_executors,
        Role::Coordinator => 0,
    };
    let distributed = role == Role::Coordinator || local_executors > 0;
    let registry = distributed.then(|| {
        let registry = ExecutorRegistry::new(
            Duration::from_millis(config.cluster.heartbeat_interval_ms),
            Duration::from_millis(config.cluster.heartbeat_timeout_ms),
        );
        Arc::new(match role {
            Role::Coordinator => registry.detecting_hangs(),
            Role::Local => registry,
        })
    });
    if role == Role::Local && config.cluster.max_tasks_per_stage == 0 {
        // In-process executors share this process's plan runtime: spreading a stage over
        // them adds no core, only encoding batches from one to the other.
        config.cluster.max_tasks_per_stage = 1;
    }
    let threads = config.query.cpu_threads;
    let cpu =
        CpuRuntime::new(threads).map_err(|source| LocalError::PlanRuntime { threads, source })?;
    let engine = Arc::new(
        Engine::connect_with(&config, registry.clone(), access)
            .await?
            .with_plan_runtime(cpu.handle()),
    );
    let auth = Arc::new(Authenticator::from_config(&config.auth)?);
    auth.load_jwks(Duration::from_secs(config.auth.jwt_jwks_refresh_secs))
        .await?;
    let saved = Arc::new(SavedQueries::open(config.state_dir().join("saved"))?);
    let addr = config.server.flight_sql_addr;
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|source| LocalError::Listen { addr, source })?;
    let bound = listener
        .local_addr()
        .map_err(|source| LocalError::Listen { addr, source })?;
    let frontend = FlightSqlFrontend::new(
        engine.clone(),
        auth.clone(),
        Duration::from_secs(config.query.ticket_ttl_secs),
    );

    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let mut executors = Vec::new();
    let mut tasks = Vec::new();
    for _ in 0..local_executors {
        let listener = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
            .await
            .map_err(|source| LocalError::Listen { addr, source })?;
        let mut options = executor_options(&config)?;
        options.coordinator = format!("http://{bound}");
        if let Some(tls) = &tls {
            // The coordinator's port speaks only TLS now; its certificate must name localhost.
            options.coordinator = format!("https://localhost:{}", bound.port());
            if options.cluster_ca.is_none() {
                options.cluster_ca = Some(tls.cert_pem.clone());
            }
        }
        // In-process executors listen on loopback and are reached there, and run their
        // fragments on the coordinator's plan runtime: one pool of threads for the cores.
        options.advertise_host = None;
        options.plan_runtime = Some(cpu.handle());
        let mut stop = stop_rx.clone();
        let (ready_tx, ready_rx) = tokio::sync::oneshot::channel();
        tasks.push(tokio::spawn(run_executor(
            listener,
            options,
            async move {
                let _ = stop.wait_for(|stop| *stop).await;
            },
            move |handle| {
                let _ = ready_tx.send(handle);
            },
        )));
        if let Ok(handle) = ready_rx.await {
            executors.push(handle);
        }
    }

    let (http_listener, http_bound) = bind(config.server.http_addr).await?;
    let (postgres_listener, postgres_bound) = bind(config.server.postgres_addr).await?;
    let mut postgres_stop = stop_rx.clone();
    let postgres = tokio::spawn(postgres::serve(
        postgres_listener,
        engine.clone(),
        auth.clone(),
        postgres_tls,
        config.server.postgres_requires_tls(),
        async move {
            let _ = postgres_stop.wait_for(|stop| *stop).await;
        },
    ));
    let mut http_stop = stop_rx.clone();
    let http = tokio::spawn(http::serve(
        http_listener,
        engine.clone(),
        auth.clone(),
        saved,
        config.server.max_request_bytes,
        tls.clone(),
        async move {
            let _ = http_stop.wait_for(|stop| *stop).await;
        },
    ));

    // On shutdown: refuse new queries (and say why), let running ones finish within the
    // grace period, then close the servers and stop the in-process executors.
    let grace = Duration::from_secs(config.server.shutdown_grace_secs);
    let lifecycle = engine.lifecycle().clone();
    let secret = config.cluster.secret();
    let server = tokio::spawn(serve(
        listener,
        frontend,
        registry.clone(),
        secret,
        tls.clone(),
        async move {
            shutdown.await;
            lifecycle.begin_stop();
            let running = lifecycle.running();
            println!("lakegate: stopping; taking no new queries, {running} still running");
            if !lifecycle.wait_idle(grace).await {
                println!(
                    "lakegate: {} queries still running after {} s; closing",
                    lifecycle.running(),
                    grace.as_secs()
                );
            }
            let _ = stop_tx.send(true);
        },
    ));
    if let Some(registry) = &registry {
        wait_for_executors(registry, local_executors).await;
    }
    on_ready(Ready {
        flight_sql: bound,
        http: http_bound,
        postgres: postgres_bound,
        executors,
    });
    let served = server.await.map_err(|e| LocalError::Join(e.to_string()))?;
    let _ = http.await;
    let _ = postgres.await;
    for task in tasks {
        let _ = task.await;
    }
    served?;
    Ok(())
}

/// The executor settings of `config`, reading the lake with this process's storage settings.
pub fn executor_options(config: &Config) -> Result<ExecutorOptions, TlsError> {
    let read = |setting: &'static str, path: &Option<PathBuf>| {
        path.as_ref()
            .map(|path| {
                std::fs::read(path).map_err(|e| TlsError::File {
                    setting,
                    path: path.clone(),
                    message: e.to_string(),
                })
            })
            .transpose()
    };
    let cluster_ca = read("cluster.tls_ca", &config.cluster.tls_ca)?;
    let worker_tls = match (
        read("cluster.tls_cert", &config.cluster.tls_cert)?,
        read("cluster.tls_key", &config.cluster.tls_key)?,
    ) {
        (Some(cert_pem), Some(key_pem)) => Some(WorkerTls { cert_pem, key_pem }),
        (None, None) => None,
        (Some(_), None) => {
            return Err(TlsError::Incomplete {
                present: "cluster.tls_cert",
                missing: "cluster.tls_key",
            });
        }
        (None, Some(_)) => {
            return Err(TlsError::Incomplete {
                present: "cluster.tls_key",
                missing: "cluster.tls_cert",
            });
        }
    };
    Ok(ExecutorOptions {
        coordinator: config.cluster.coordinator_url.clone(),
        heartbeat_interval: Duration::from_millis(config.cluster.heartbeat_interval_ms),
        memory_limit: (config.query.memory_limit_bytes > 0)
            .then_some(config.query.memory_limit_bytes),
        file_io: file_io(config),
        drain_timeout: Duration::from_secs(config.cluster.drain_timeout_secs),
        advertise_host: Some(config.cluster.executor_advertise_host.clone())
            .filter(|host| !host.is_empty()),
        secret: config.cluster.secret(),
        cluster_ca,
        worker_tls,
        plan_runtime: None,
    })
}

/// Waits (boundedly) until the in-process executors have registered, so the first query
/// finds them.
async fn wait_for_executors(registry: &ExecutorRegistry, expected: usize) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while registry.placement().len() < expected && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Progress lines for the terminal.
pub fn print_progress(progress: Progress) {
    match progress {
        Progress::Appended {
            table,
            part,
            parts,
            rows,
        } => {
            println!("  {table}: append {part}/{parts} committed ({rows} rows)");
        }
        Progress::TableDone {
            table,
            rows,
            done,
            total,
        } => {
            println!("[{done}/{total}] {table}: {rows} rows");
        }
    }
}

/// A listener on `addr` and the address it got (the port, when `addr` asked for any).
async fn bind(addr: SocketAddr) -> Result<(TcpListener, SocketAddr), LocalError> {
    let listen = |source| LocalError::Listen { addr, source };
    let listener = TcpListener::bind(addr).await.map_err(listen)?;
    let bound = listener.local_addr().map_err(listen)?;
    Ok((listener, bound))
}
