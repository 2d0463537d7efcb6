//! The coordinator's gRPC port: Flight SQL for clients and the registry for executors share it,
//! so a cluster needs one address for both.

use std::future::Future;
use std::sync::Arc;

use arrow_flight::flight_service_server::FlightServiceServer;
use lakegate_executor::net::incoming;
use lakegate_proto::cluster_secret::ClusterSecret;
use lakegate_proto::registry::executor_registry_server::ExecutorRegistryServer;
use tokio::net::TcpListener;

use crate::frontend::flight_sql::FlightSqlFrontend;
use crate::registry::{ExecutorRegistry, RegistryEndpoint};

/// Serves Flight SQL (and, with a registry, heartbeats of executors presenting `secret`) on
/// `listener` until `shutdown`.
pub async fn serve(
    listener: TcpListener,
    flight_sql: FlightSqlFrontend,
    registry: Option<Arc<ExecutorRegistry>>,
    secret: ClusterSecret,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), tonic::transport::Error> {
    let router = tonic::transport::Server::builder()
        .add_service(FlightServiceServer::new(flight_sql))
        .add_optional_service(
            registry.map(|r| ExecutorRegistryServer::with_interceptor(RegistryEndpoint(r), secret)),
        );
    router
        .serve_with_incoming_shutdown(incoming(listener), shutdown)
        .await
}
