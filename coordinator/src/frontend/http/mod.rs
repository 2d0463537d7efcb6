//! The HTTP front end. For now it answers the probes an orchestrator sends:
//!
//! * `GET /healthz`: the process serves HTTP (liveness).
//! * `GET /readyz`: the coordinator takes queries: it is not stopping and, when queries are
//!   distributed, at least one executor is registered (readiness). 503 with the reason
//!   otherwise, so a load balancer sends new clients elsewhere.
//! * `POST /v1/query`: run SQL, the result streamed as Arrow, JSON, NDJSON or CSV ([`query`]).
//! * `GET /v1/catalogs[/{c}/schemas[/{s}/tables[/{t}]]]`: catalog browsing ([`catalog`]).
//! * `GET /metrics`: Prometheus text: queries running, executors registered, result cache
//!   counters and size.
//! * `POST /v1/admin/refresh`: forget cached catalog listings and table metadata now, so the
//!   next query sees the latest snapshots without waiting for `catalog.refresh_interval`
//!   (authenticated like every non-health route).

use std::future::Future;
use std::sync::Arc;

use axum::extract::State;
use axum::http::header::AUTHORIZATION;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{Value, json};
use tokio::net::TcpListener;

mod catalog;
mod format;
mod query;

use crate::auth::{AuthError, Authenticator, Credentials, Principal};
use crate::engine::Engine;

/// What every route reads.
#[derive(Clone)]
struct Shared {
    engine: Arc<Engine>,
    auth: Arc<Authenticator>,
}

/// The routes over `engine`, callers checked by `auth`.
pub fn router(engine: Arc<Engine>, auth: Arc<Authenticator>) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/v1/admin/refresh", post(refresh))
        .route("/metrics", get(metrics))
        .route("/v1/query", post(query::query))
        .route("/v1/catalogs", get(catalog::catalogs))
        .route("/v1/catalogs/{catalog}/schemas", get(catalog::schemas))
        .route(
            "/v1/catalogs/{catalog}/schemas/{schema}/tables",
            get(catalog::tables),
        )
        .route(
            "/v1/catalogs/{catalog}/schemas/{schema}/tables/{table}",
            get(catalog::table),
        )
        .with_state(Shared { engine, auth })
}

/// Serves the routes on `listener` until `shutdown` completes.
pub async fn serve(
    listener: TcpListener,
    engine: Arc<Engine>,
    auth: Arc<Authenticator>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(engine, auth))
        .with_graceful_shutdown(shutdown)
        .await
}

/// The caller, from the `authorization` header; a JSON 401 naming the problem otherwise.
fn caller(shared: &Shared, headers: &HeaderMap) -> Result<Principal, (StatusCode, Json<Value>)> {
    let header = headers
        .get(AUTHORIZATION)
        .map(|v| v.to_str().map_err(|_| AuthError::BadHeader("not ASCII")))
        .transpose();
    header
        .and_then(Credentials::from_header)
        .and_then(|credentials| shared.auth.principal(&credentials))
        .map_err(|e| error(StatusCode::UNAUTHORIZED, "UNAUTHENTICATED", e))
}

/// The JSON error every route answers with: a stable code and a message naming the problem.
fn error(
    status: StatusCode,
    code: &str,
    message: impl std::fmt::Display,
) -> (StatusCode, Json<Value>) {
    let body = json!({ "error": { "code": code, "message": message.to_string() } });
    (status, Json(body))
}

async fn refresh(State(shared): State<Shared>, headers: HeaderMap) -> (StatusCode, Json<Value>) {
    match caller(&shared, &headers) {
        Ok(principal) => {
            shared.engine.lake().invalidate().await;
            tracing::info!(user = %principal, "catalog metadata refreshed on request");
            (StatusCode::OK, Json(json!({ "refreshed": true })))
        }
        Err(refused) => refused,
    }
}

/// Prometheus text exposition (version 0.0.4). Like the probes it needs no credentials:
/// scrapers reach it on the cluster network.
async fn metrics(
    State(shared): State<Shared>,
) -> ([(axum::http::HeaderName, &'static str); 1], String) {
    use std::fmt::Write as _;
    let engine = &shared.engine;
    let mut out = String::new();
    let mut gauge = |name: &str, help: &str, kind: &str, value: u64| {
        let _ = writeln!(
            out,
            "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}"
        );
    };
    gauge(
        "lakegate_queries_running",
        "Queries planned and not yet finished.",
        "gauge",
        engine.lifecycle().running() as u64,
    );
    gauge(
        "lakegate_stopping",
        "1 while the coordinator stops (SIGTERM) and refuses new queries.",
        "gauge",
        u64::from(engine.lifecycle().is_stopping()),
    );
    if let Some(registry) = engine.registry() {
        gauge(
            "lakegate_executors",
            "Executors that take work (registered, heard from, not draining).",
            "gauge",
            registry.placement().len() as u64,
        );
    }
    if let Some(cache) = engine.cache() {
        let stats = cache.stats();
        gauge(
            "lakegate_cache_hits_total",
            "Reads answered from the result cache.",
            "counter",
            stats.hits,
        );
        gauge(
            "lakegate_cache_misses_total",
            "Cacheable reads that ran.",
            "counter",
            stats.misses,
        );
        gauge(
            "lakegate_cache_coalesced_total",
            "Reads that joined an identical running read.",
            "counter",
            stats.coalesced,
        );
        gauge(
            "lakegate_cache_evictions_total",
            "Results evicted for space.",
            "counter",
            stats.evictions,
        );
        gauge(
            "lakegate_cache_bytes",
            "Bytes of cached results.",
            "gauge",
            stats.bytes,
        );
        gauge(
            "lakegate_cache_entries",
            "Cached results.",
            "gauge",
            stats.entries,
        );
    }
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4",
        )],
        out,
    )
}

async fn healthz() -> &'static str {
    "ok\n"
}

async fn readyz(State(shared): State<Shared>) -> (StatusCode, String) {
    let engine = &shared.engine;
    if engine.lifecycle().is_stopping() {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            "stopping: this coordinator takes no new queries\n".into(),
        );
    }
    if let Some(registry) = engine.registry()
        && registry.placement().is_empty()
    {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            "no executor is registered yet\n".into(),
        );
    }
    (StatusCode::OK, "ready\n".into())
}
