//! `lakegate local` inside a benchmark's process, every front end on an ephemeral loopback
//! port.

use arrow_flight::sql::client::FlightSqlServiceClient;
use lakegate::local::{self, LocalError, Ready, Role};
use lakegate_coordinator::Config;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tonic::transport::{Channel, Endpoint};

/// A running gateway; stopped by [`Gateway::stop`].
pub struct Gateway {
    pub ready: Ready,
    stop: oneshot::Sender<()>,
    server: JoinHandle<Result<(), LocalError>>,
}

impl Gateway {
    /// Starts `config`'s gateway (its listen addresses replaced by loopback ones) and waits
    /// until it takes queries.
    pub async fn start(mut config: Config) -> Result<Gateway, String> {
        config.server.flight_sql_addr = ([127, 0, 0, 1], 0).into();
        config.server.http_addr = ([127, 0, 0, 1], 0).into();
        config.server.postgres_addr = ([127, 0, 0, 1], 0).into();
        let (ready_tx, ready_rx) = oneshot::channel();
        let (stop, stop_rx) = oneshot::channel::<()>();
        let server = tokio::spawn(local::run(
            config,
            Role::Local,
            async move {
                let _ = stop_rx.await;
            },
            move |ready| {
                let _ = ready_tx.send(ready);
            },
        ));
        let ready = ready_rx
            .await
            .map_err(|_| "lakegate local stopped before it was ready".to_string())?;
        Ok(Gateway {
            ready,
            stop,
            server,
        })
    }

    /// A Flight SQL client of the gateway.
    pub async fn flight(&self) -> Result<FlightSqlServiceClient<Channel>, String> {
        let url = format!("http://{}", self.ready.flight_sql);
        let channel = Endpoint::from_shared(url.clone())
            .map_err(|e| e.to_string())?
            .connect()
            .await
            .map_err(|e| format!("connecting to {url}: {e}"))?;
        Ok(FlightSqlServiceClient::new(channel))
    }

    /// Stops the gateway and waits until it has.
    pub async fn stop(self) {
        let _ = self.stop.send(());
        let _ = self.server.await;
    }
}
