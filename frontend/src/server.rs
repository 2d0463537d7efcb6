//! The coordinator's gRPC port: Flight SQL for clients and the registry for executors share it,
//! so a cluster needs one address for both.

use std::future::Future;
use std::sync::Arc;

use arrow_flight::flight_service_server::FlightServiceServer;
use lakegate_proto::cluster_secret::ClusterSecret;
use lakegate_proto::net::incoming;
use lakegate_proto::registry::executor_registry_server::ExecutorRegistryServer;
use tokio::net::TcpListener;
use tonic::transport::{Identity, ServerTlsConfig};

use crate::flight_sql::FlightSqlFrontend;
use lakegate_coordinator::registry::{ExecutorRegistry, RegistryEndpoint};
use lakegate_coordinator::tls::TlsIdentity;

/// Serves Flight SQL (and, with a registry, heartbeats of executors presenting `secret`) on
/// `listener` until `shutdown`; with `tls`, only over TLS.
pub async fn serve(
    listener: TcpListener,
    flight_sql: FlightSqlFrontend,
    registry: Option<Arc<ExecutorRegistry>>,
    secret: ClusterSecret,
    tls: Option<TlsIdentity>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), tonic::transport::Error> {
    let mut builder = tonic::transport::Server::builder();
    if let Some(tls) = tls {
        // Executors share the port for heartbeats and then reach it over TLS too.
        let identity = Identity::from_pem(&tls.cert_pem, &tls.key_pem);
        builder = builder.tls_config(ServerTlsConfig::new().identity(identity))?;
    }
    let router = builder
        .add_service(FlightServiceServer::new(flight_sql))
        .add_optional_service(
            registry.map(|r| ExecutorRegistryServer::with_interceptor(RegistryEndpoint(r), secret)),
        );
    router
        .serve_with_incoming_shutdown(incoming(listener), shutdown)
        .await
}
