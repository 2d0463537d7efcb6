//! The HTTP front end. For now it answers the probes an orchestrator sends:
//!
//! * `GET /healthz`: the process serves HTTP (liveness).
//! * `GET /readyz`: the coordinator takes queries: it is not stopping and, when queries are
//!   distributed, at least one executor is registered (readiness). 503 with the reason
//!   otherwise, so a load balancer sends new clients elsewhere.

use std::future::Future;
use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use tokio::net::TcpListener;

use crate::engine::Engine;

/// The routes over `engine`.
pub fn router(engine: Arc<Engine>) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .with_state(engine)
}

/// Serves the routes on `listener` until `shutdown` completes.
pub async fn serve(
    listener: TcpListener,
    engine: Arc<Engine>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(engine))
        .with_graceful_shutdown(shutdown)
        .await
}

async fn healthz() -> &'static str {
    "ok\n"
}

async fn readyz(State(engine): State<Arc<Engine>>) -> (StatusCode, String) {
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
