//! `lakegate local`: the whole system in one process on loopback, over the embedded demo lake
//! unless told otherwise.

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use lakegate_coordinator::frontend::flight_sql::{FlightSqlFrontend, serve};
use lakegate_coordinator::{Authenticator, Config, Engine};
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
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("Flight SQL server: {0}")]
    Serve(#[from] tonic::transport::Error),
}

/// Whether the configured lake is the local SQLite one and has no catalog yet.
fn needs_demo_lake(config: &Config) -> Option<PathBuf> {
    if !config.catalog.uri.is_empty() || config.catalog.warehouse.contains("://") {
        return None;
    }
    let warehouse = PathBuf::from(&config.catalog.warehouse);
    (!warehouse.join("catalog.db").exists()).then_some(warehouse)
}

/// Runs the gateway until `shutdown` completes. `on_ready` gets the bound Flight SQL address.
pub async fn run(
    config: Config,
    shutdown: impl Future<Output = ()> + Send + 'static,
    on_ready: impl FnOnce(SocketAddr),
) -> Result<(), LocalError> {
    if let Some(warehouse) = needs_demo_lake(&config) {
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
    let engine = Arc::new(Engine::connect(&config).await?);
    let auth = Arc::new(Authenticator::from_config(&config.auth)?);
    let addr = config.server.flight_sql_addr;
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|source| LocalError::Listen { addr, source })?;
    let bound = listener
        .local_addr()
        .map_err(|source| LocalError::Listen { addr, source })?;
    let frontend = FlightSqlFrontend::new(
        engine,
        auth,
        Duration::from_secs(config.query.ticket_ttl_secs),
    );
    on_ready(bound);
    serve(listener, frontend, shutdown).await?;
    Ok(())
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
