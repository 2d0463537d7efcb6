//! The `FlightSqlService` implementation and the server that runs it.

use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use arrow::record_batch::RecordBatch;
use arrow_flight::encode::FlightDataEncoderBuilder;
use arrow_flight::error::FlightError;
use arrow_flight::flight_service_server::FlightService;
use arrow_flight::sql::server::{FlightSqlService, PeekableFlightDataStream};
use arrow_flight::sql::{
    Any, CommandGetCatalogs, CommandGetDbSchemas, CommandGetTables, CommandStatementQuery,
    CommandStatementUpdate, ProstMessageExt, SqlInfo, TicketStatementQuery,
};
use arrow_flight::{
    FlightDescriptor, FlightEndpoint, FlightInfo, HandshakeRequest, HandshakeResponse, Ticket,
};
use futures::{Stream, TryStreamExt, stream};
use prost::Message;
use tonic::metadata::MetadataValue;
use tonic::{Request, Response, Status, Streaming};

use super::auth::FlightSessions;
use super::metadata;
use super::status::engine_status;
use super::tickets::Tickets;
use crate::auth::Authenticator;
use crate::engine::Engine;
use crate::error::EngineError;
use crate::query::QueryId;
use crate::statement::StatementError;

type DoGetStream = <FlightSqlFrontend as FlightService>::DoGetStream;

/// Flight SQL over the [`Engine`].
pub struct FlightSqlFrontend {
    engine: Arc<Engine>,
    sessions: FlightSessions,
    tickets: Tickets,
}

impl FlightSqlFrontend {
    pub fn new(engine: Arc<Engine>, auth: Arc<Authenticator>, ticket_ttl: Duration) -> Self {
        Self {
            engine,
            sessions: FlightSessions::new(auth),
            tickets: Tickets::new(ticket_ttl),
        }
    }

    fn info_for(
        &self,
        command: impl ProstMessageExt,
        schema: &arrow::datatypes::Schema,
        descriptor: FlightDescriptor,
    ) -> Result<Response<FlightInfo>, Status> {
        let ticket = Ticket::new(command.as_any().encode_to_vec());
        let info = FlightInfo::new()
            .try_with_schema(schema)
            .map_err(|e| Status::internal(format!("encoding schema: {e}")))?
            .with_endpoint(FlightEndpoint::new().with_ticket(ticket))
            .with_descriptor(descriptor)
            .with_total_records(-1)
            .with_total_bytes(-1);
        Ok(Response::new(info))
    }
}

/// Streams batches as Flight data, turning stream errors into statuses the client can read.
fn flight_stream(
    schema: arrow::datatypes::SchemaRef,
    batches: impl Stream<Item = Result<RecordBatch, FlightError>> + Send + 'static,
) -> Response<DoGetStream> {
    let encoded = FlightDataEncoderBuilder::new()
        .with_schema(schema)
        .build(batches)
        .map_err(|e| match e {
            FlightError::Tonic(status) => *status,
            other => Status::internal(other.to_string()),
        });
    Response::new(Box::pin(encoded))
}

fn one_batch(batch: RecordBatch) -> Response<DoGetStream> {
    flight_stream(batch.schema(), stream::once(async move { Ok(batch) }))
}

#[tonic::async_trait]
impl FlightSqlService for FlightSqlFrontend {
    type FlightService = FlightSqlFrontend;

    async fn do_handshake(
        &self,
        request: Request<Streaming<HandshakeRequest>>,
    ) -> Result<
        Response<Pin<Box<dyn Stream<Item = Result<HandshakeResponse, Status>> + Send>>>,
        Status,
    > {
        let token = self.sessions.login(&self.engine, request.metadata())?;
        let reply = HandshakeResponse {
            protocol_version: 0,
            payload: token.0.clone().into_bytes().into(),
        };
        let mut response: Response<Pin<Box<dyn Stream<Item = _> + Send>>> =
            Response::new(Box::pin(stream::once(async move { Ok(reply) })));
        let header = MetadataValue::try_from(format!("Bearer {}", token.0))
            .map_err(|_| Status::internal("token is not a valid header value"))?;
        response.metadata_mut().insert("authorization", header);
        Ok(response)
    }

    async fn get_flight_info_statement(
        &self,
        query: CommandStatementQuery,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        let session = self.sessions.session(&self.engine, request.metadata())?;
        let result = self
            .engine
            .execute(&session, &query.query)
            .await
            .map_err(engine_status)?;
        let schema = result.schema.clone();
        let id = self.tickets.park(session.principal().clone(), result);
        let handle = TicketStatementQuery {
            statement_handle: id.as_bytes().to_vec().into(),
        };
        self.info_for(handle, &schema, request.into_inner())
    }

    async fn do_get_statement(
        &self,
        ticket: TicketStatementQuery,
        request: Request<Ticket>,
    ) -> Result<Response<DoGetStream>, Status> {
        let session = self.sessions.session(&self.engine, request.metadata())?;
        let id = QueryId::from_bytes(&ticket.statement_handle)
            .ok_or_else(|| Status::invalid_argument("ticket does not name a lakegate query"))?;
        let result = self.tickets.claim(id, session.principal()).ok_or_else(|| {
            Status::not_found(format!("query {id} is unknown, expired or already fetched"))
        })?;
        let batches = result.stream.map_err(|e| {
            let status = engine_status(EngineError::running(e));
            FlightError::Tonic(Box::new(status))
        });
        Ok(flight_stream(result.schema, batches))
    }

    async fn get_flight_info_catalogs(
        &self,
        query: CommandGetCatalogs,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        self.sessions.session(&self.engine, request.metadata())?;
        let schema = query.into_builder().schema();
        self.info_for(query, &schema, request.into_inner())
    }

    async fn do_get_catalogs(
        &self,
        query: CommandGetCatalogs,
        request: Request<Ticket>,
    ) -> Result<Response<DoGetStream>, Status> {
        self.sessions.session(&self.engine, request.metadata())?;
        Ok(one_batch(
            metadata::catalogs(self.engine.lake(), query).await?,
        ))
    }

    async fn get_flight_info_schemas(
        &self,
        query: CommandGetDbSchemas,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        self.sessions.session(&self.engine, request.metadata())?;
        let schema = query.clone().into_builder().schema();
        self.info_for(query, &schema, request.into_inner())
    }

    async fn do_get_schemas(
        &self,
        query: CommandGetDbSchemas,
        request: Request<Ticket>,
    ) -> Result<Response<DoGetStream>, Status> {
        self.sessions.session(&self.engine, request.metadata())?;
        Ok(one_batch(
            metadata::schemas(self.engine.lake(), query).await?,
        ))
    }

    async fn get_flight_info_tables(
        &self,
        query: CommandGetTables,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        self.sessions.session(&self.engine, request.metadata())?;
        let schema = query.clone().into_builder().schema();
        self.info_for(query, &schema, request.into_inner())
    }

    async fn do_get_tables(
        &self,
        query: CommandGetTables,
        request: Request<Ticket>,
    ) -> Result<Response<DoGetStream>, Status> {
        self.sessions.session(&self.engine, request.metadata())?;
        Ok(one_batch(
            metadata::tables(self.engine.lake(), query).await?,
        ))
    }

    /// Updates are refused: the lake is read-only. A read sent as an update is told so.
    async fn do_put_statement_update(
        &self,
        command: CommandStatementUpdate,
        request: Request<PeekableFlightDataStream>,
    ) -> Result<i64, Status> {
        self.sessions.session(&self.engine, request.metadata())?;
        // Writes are refused by the classifier; a read sent as an update is refused here.
        crate::statement::classify(
            &command.query,
            &datafusion::sql::sqlparser::dialect::GenericDialect {},
        )
        .map_err(|e| engine_status(e.into()))?;
        Err(engine_status(EngineError::Statement(
            StatementError::Unsupported {
                what: "a query sent as an update (send it with CommandStatementQuery)".into(),
            },
        )))
    }

    async fn do_get_fallback(
        &self,
        _request: Request<Ticket>,
        message: Any,
    ) -> Result<Response<DoGetStream>, Status> {
        Err(Status::unimplemented(format!(
            "lakegate does not serve {}",
            message.type_url
        )))
    }

    async fn register_sql_info(&self, _id: i32, _result: &SqlInfo) {}
}
