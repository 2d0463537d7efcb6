//! The HTTP front end: our own JSON/Arrow API for dashboards and services, and the probes
//! an orchestrator sends.
//!
//! * `GET /healthz`: the process serves HTTP (liveness).
//! * `GET /readyz`: the coordinator takes queries: it is not stopping and, when queries are
//!   distributed, at least one executor is registered (readiness). 503 with the reason
//!   otherwise, so a load balancer sends new clients elsewhere.
//! * `POST /v1/query`: run SQL, the result streamed as Arrow, JSON, NDJSON or CSV ([`query`]).
//! * `GET /v1/catalogs[/{c}/schemas[/{s}/tables[/{t}]]]`: catalog browsing ([`catalog`]).
//! * `PUT/GET/DELETE /v1/saved/{name}`, `GET /v1/saved/{name}/result`: saved queries with
//!   ETags that revalidate without running anything ([`saved`]).
//! * `GET /v1/queries[/{id}]`, `DELETE /v1/queries/{id}`, a page at `/` and one per query at
//!   `/ui/query/{id}` (its distributed plan): running and recent queries, cancellation
//!   ([`queries`]).
//! * `GET /metrics`: Prometheus text: queries by state and front end, latency histograms,
//!   executors registered, result cache counters and size ([`metrics`]).
//! * `POST /v1/admin/refresh`: forget cached catalog listings and table metadata now, so the
//!   next query sees the latest snapshots without waiting for `catalog.refresh_interval`
//!   (authenticated like every non-health route).

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::Extension;
use axum::extract::{DefaultBodyLimit, FromRequestParts, State};
use axum::http::StatusCode;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{Value, json};

pub use body::{BodyLimit, LimitedBody};
use tokio::net::TcpListener;

mod body;
mod catalog;
pub mod format;
mod metrics;
mod queries;
mod query;
mod saved;
mod tls_listener;

use lakegate_coordinator::auth::{Authenticator, Credentials, Principal};
use lakegate_coordinator::engine::Engine;
use lakegate_coordinator::saved::SavedQueries;
use lakegate_coordinator::tls::TlsIdentity;
use tokio_rustls::TlsAcceptor;

/// What every route reads.
#[derive(Clone)]
struct Shared {
    engine: Arc<Engine>,
    auth: Arc<Authenticator>,
    saved: Arc<SavedQueries>,
}

/// The routes over `engine`, callers checked by `auth`, request bodies up to
/// `max_request_bytes`.
pub fn router(
    engine: Arc<Engine>,
    auth: Arc<Authenticator>,
    saved: Arc<SavedQueries>,
    max_request_bytes: usize,
) -> Router {
    Router::new()
        .route("/", get(queries::page))
        .route("/ui/query/{id}", get(queries::detail))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/v1/admin/refresh", post(refresh))
        .route("/metrics", get(metrics::metrics))
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
        .route("/v1/queries", get(queries::list))
        .route(
            "/v1/queries/{id}",
            get(queries::one).delete(queries::cancel),
        )
        .route("/v1/saved", get(saved::list))
        .route(
            "/v1/saved/{name}",
            get(saved::get).put(saved::put).delete(saved::delete),
        )
        .route("/v1/saved/{name}/result", get(saved::result))
        .with_state(Shared {
            engine: engine.clone(),
            auth: auth.clone(),
            saved,
        })
        .merge(super::trino::router(engine, auth))
        .layer(DefaultBodyLimit::max(max_request_bytes))
        .layer(Extension(BodyLimit(max_request_bytes)))
}

/// Serves the routes on `listener` until `shutdown` completes.
pub async fn serve(
    listener: TcpListener,
    engine: Arc<Engine>,
    auth: Arc<Authenticator>,
    saved: Arc<SavedQueries>,
    max_request_bytes: usize,
    tls: Option<TlsIdentity>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let app = router(engine, auth, saved, max_request_bytes);
    match tls {
        Some(identity) => {
            let acceptor = TlsAcceptor::from(identity.server_config(&[b"h2", b"http/1.1"]));
            tls_listener::serve(listener, app, acceptor, shutdown).await
        }
        None => {
            let app = app.into_make_service_with_connect_info::<SocketAddr>();
            axum::serve(listener, app)
                .with_graceful_shutdown(shutdown)
                .await
        }
    }
}

/// The authenticated caller of a route, from the `authorization` header: a request without
/// valid credentials is answered 401 with a JSON error naming the problem before its handler
/// runs.
pub struct Caller(pub Principal);

impl FromRequestParts<Shared> for Caller {
    type Rejection = (StatusCode, Json<Value>);

    async fn from_request_parts(
        parts: &mut Parts,
        shared: &Shared,
    ) -> Result<Self, Self::Rejection> {
        Credentials::from_header_value(parts.headers.get(AUTHORIZATION).map(|v| v.as_bytes()))
            .and_then(|credentials| shared.auth.principal(&credentials))
            .map(Caller)
            .map_err(|e| error(StatusCode::UNAUTHORIZED, "UNAUTHENTICATED", e))
    }
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

async fn refresh(
    State(shared): State<Shared>,
    Caller(principal): Caller,
) -> (StatusCode, Json<Value>) {
    shared.engine.forget_metadata().await;
    tracing::info!(user = %principal, "catalog metadata refreshed on request");
    (StatusCode::OK, Json(json!({ "refreshed": true })))
}

async fn healthz() -> &'static str {
    "ok\n"
}

async fn readyz(State(shared): State<Shared>) -> (StatusCode, String) {
    match shared.engine.health().ready() {
        Ok(()) => (StatusCode::OK, "ready\n".into()),
        Err(why) => (StatusCode::SERVICE_UNAVAILABLE, format!("{why}\n")),
    }
}
