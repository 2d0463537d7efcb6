//! The executor's Arrow Flight face: `health` and `identity` actions, so operators, probes and
//! the coordinator can ask an executor who it is and whether it takes work, with any Flight
//! client. Query fragments travel over the datafusion-distributed worker service beside it.

use std::pin::Pin;
use std::time::{SystemTime, UNIX_EPOCH};

use arrow_flight::flight_service_server::{FlightService, FlightServiceServer};
use arrow_flight::{
    Action, ActionType, Criteria, Empty, FlightData, FlightDescriptor, FlightInfo,
    HandshakeRequest, HandshakeResponse, PollInfo, PutResult, SchemaResult, Ticket,
};
use futures::{Stream, stream};
use serde::Serialize;
use tokio::sync::watch;
use tonic::{Request, Response, Status, Streaming};
use url::Url;

use lakegate_iceberg::RunningTasks;

/// `health`: whether this executor takes new work.
pub const HEALTH_ACTION: &str = "health";
/// `identity`: who this executor is and what it runs.
pub const IDENTITY_ACTION: &str = "identity";

/// Answers the Flight actions of one executor.
#[derive(Debug, Clone)]
pub struct ExecutorFlight {
    executor_id: String,
    url: Url,
    started_at_unix_secs: u64,
    running: RunningTasks,
    draining: watch::Receiver<bool>,
}

/// The `health` answer.
#[derive(Debug, Serialize)]
struct Health {
    /// `serving`, or `draining` once the executor was told to stop.
    status: &'static str,
}

/// The `identity` answer.
#[derive(Debug, Serialize)]
struct Identity<'a> {
    executor_id: &'a str,
    url: &'a str,
    version: &'static str,
    started_at_unix_secs: u64,
    running_scans: usize,
    scans_started: usize,
    draining: bool,
}

impl ExecutorFlight {
    pub fn new(
        executor_id: String,
        url: Url,
        running: RunningTasks,
        draining: watch::Receiver<bool>,
    ) -> Self {
        let started_at_unix_secs = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        Self {
            executor_id,
            url,
            started_at_unix_secs,
            running,
            draining,
        }
    }

    pub fn into_server(self) -> FlightServiceServer<Self> {
        FlightServiceServer::new(self)
    }

    fn answer(&self, action: &str) -> Result<Vec<u8>, Status> {
        let draining = *self.draining.borrow();
        let json = match action {
            HEALTH_ACTION => serde_json::to_vec(&Health {
                status: if draining { "draining" } else { "serving" },
            }),
            IDENTITY_ACTION => serde_json::to_vec(&Identity {
                executor_id: &self.executor_id,
                url: self.url.as_str(),
                version: env!("CARGO_PKG_VERSION"),
                started_at_unix_secs: self.started_at_unix_secs,
                running_scans: self.running.count(),
                scans_started: self.running.started(),
                draining,
            }),
            other => {
                return Err(Status::invalid_argument(format!(
                    "unknown action {other:?}; an executor answers {HEALTH_ACTION:?} and \
                     {IDENTITY_ACTION:?}"
                )));
            }
        };
        json.map_err(|e| Status::internal(format!("encoding {action} answer: {e}")))
    }
}

type Boxed<T> = Pin<Box<dyn Stream<Item = Result<T, Status>> + Send + 'static>>;

/// The executor serves no data over Flight: results move over the worker service.
fn no_data(call: &str) -> Status {
    Status::unimplemented(format!(
        "an executor does not serve {call}; query the coordinator's Flight SQL endpoint"
    ))
}

#[tonic::async_trait]
impl FlightService for ExecutorFlight {
    type HandshakeStream = Boxed<HandshakeResponse>;
    type ListFlightsStream = Boxed<FlightInfo>;
    type DoGetStream = Boxed<FlightData>;
    type DoPutStream = Boxed<PutResult>;
    type DoExchangeStream = Boxed<FlightData>;
    type DoActionStream = Boxed<arrow_flight::Result>;
    type ListActionsStream = Boxed<ActionType>;

    /// No authentication between cluster members: the executor listens on the cluster network
    /// only. An empty handshake succeeds so generic Flight clients can connect.
    async fn handshake(
        &self,
        _request: Request<Streaming<HandshakeRequest>>,
    ) -> Result<Response<Self::HandshakeStream>, Status> {
        let reply = HandshakeResponse::default();
        Ok(Response::new(Box::pin(stream::iter([Ok(reply)]))))
    }

    async fn list_flights(
        &self,
        _request: Request<Criteria>,
    ) -> Result<Response<Self::ListFlightsStream>, Status> {
        Ok(Response::new(Box::pin(stream::empty())))
    }

    async fn get_flight_info(
        &self,
        _request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        Err(no_data("GetFlightInfo"))
    }

    async fn poll_flight_info(
        &self,
        _request: Request<FlightDescriptor>,
    ) -> Result<Response<PollInfo>, Status> {
        Err(no_data("PollFlightInfo"))
    }

    async fn get_schema(
        &self,
        _request: Request<FlightDescriptor>,
    ) -> Result<Response<SchemaResult>, Status> {
        Err(no_data("GetSchema"))
    }

    async fn do_get(
        &self,
        _request: Request<Ticket>,
    ) -> Result<Response<Self::DoGetStream>, Status> {
        Err(no_data("DoGet"))
    }

    async fn do_put(
        &self,
        _request: Request<Streaming<FlightData>>,
    ) -> Result<Response<Self::DoPutStream>, Status> {
        Err(no_data("DoPut"))
    }

    async fn do_exchange(
        &self,
        _request: Request<Streaming<FlightData>>,
    ) -> Result<Response<Self::DoExchangeStream>, Status> {
        Err(no_data("DoExchange"))
    }

    async fn do_action(
        &self,
        request: Request<Action>,
    ) -> Result<Response<Self::DoActionStream>, Status> {
        let body = self.answer(&request.into_inner().r#type)?;
        let result = arrow_flight::Result { body: body.into() };
        Ok(Response::new(Box::pin(stream::iter([Ok(result)]))))
    }

    async fn list_actions(
        &self,
        _request: Request<Empty>,
    ) -> Result<Response<Self::ListActionsStream>, Status> {
        let actions = [
            (
                HEALTH_ACTION,
                "whether this executor takes new work: serving or draining",
            ),
            (
                IDENTITY_ACTION,
                "executor id, URL, version, start time and scans run",
            ),
        ]
        .map(|(name, description)| {
            Ok(ActionType {
                r#type: name.to_string(),
                description: description.to_string(),
            })
        });
        Ok(Response::new(Box::pin(stream::iter(actions))))
    }
}
