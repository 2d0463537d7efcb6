//! The `FlightSqlService` implementation and the server that runs it.

use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use arrow::record_batch::RecordBatch;
use arrow_flight::decode::FlightRecordBatchStream;
use arrow_flight::encode::FlightDataEncoderBuilder;
use arrow_flight::error::FlightError;
use arrow_flight::flight_service_server::FlightService;
use arrow_flight::sql::server::{FlightSqlService, PeekableFlightDataStream};
use arrow_flight::sql::{
    ActionCancelQueryRequest, ActionCancelQueryResult, ActionClosePreparedStatementRequest,
    ActionCreatePreparedStatementRequest, ActionCreatePreparedStatementResult, Any,
    CommandGetCatalogs, CommandGetCrossReference, CommandGetDbSchemas, CommandGetExportedKeys,
    CommandGetImportedKeys, CommandGetPrimaryKeys, CommandGetSqlInfo, CommandGetTableTypes,
    CommandGetTables, CommandGetXdbcTypeInfo, CommandPreparedStatementQuery,
    CommandPreparedStatementUpdate, CommandStatementQuery, CommandStatementUpdate,
    DoPutPreparedStatementResult, ProstMessageExt, SqlInfo, TicketStatementQuery,
};
use arrow_flight::{
    Action, ActionType, CancelFlightInfoRequest, CancelFlightInfoResult, CancelStatus,
    FlightDescriptor, FlightEndpoint, FlightInfo, HandshakeRequest, HandshakeResponse, Ticket,
};
use datafusion::common::ScalarValue;
use futures::{Stream, TryStreamExt, stream};
use prost::Message;
use tonic::metadata::MetadataValue;
use tonic::{Request, Response, Status, Streaming};

use super::auth::FlightSessions;
use super::metadata;
use super::prepared::{Prepared, schema_bytes};
use super::server_info;
use super::status::engine_status;
use super::tickets::Tickets;
use lakegate_coordinator::auth::Authenticator;
use lakegate_coordinator::engine::Engine;
use lakegate_coordinator::error::EngineError;
use lakegate_coordinator::params::values_of;
use lakegate_coordinator::query::QueryId;
use lakegate_coordinator::session::Session;
use lakegate_coordinator::tracker::CancelOutcome;

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

    /// The session of a call, from its credentials, connected from the call's peer.
    fn session_of<T>(&self, request: &Request<T>) -> Result<Arc<Session>, Status> {
        self.sessions
            .session(&self.engine, request.metadata(), request.remote_addr())
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

impl FlightSqlFrontend {
    /// Plans `sql` with `params` and parks it; the FlightInfo's ticket names the planned query.
    async fn plan(
        &self,
        session: &Session,
        sql: &str,
        params: Vec<ScalarValue>,
        descriptor: FlightDescriptor,
    ) -> Result<Response<FlightInfo>, Status> {
        let result = self
            .engine
            .execute_with(session, sql, params)
            .await
            .map_err(engine_status)?
            .into_result();
        let schema = result.schema.clone();
        let id = self.tickets.park(session.principal().clone(), result);
        let handle = TicketStatementQuery {
            statement_handle: id.as_bytes().to_vec().into(),
        };
        self.info_for(handle, &schema, descriptor)
    }

    /// Cancels the queries `info`'s tickets name, if they are the caller's.
    fn cancel(&self, session: &Session, info: &FlightInfo) -> Result<CancelStatus, Status> {
        let mut status = CancelStatus::NotCancellable;
        for endpoint in &info.endpoint {
            let Some(ticket) = &endpoint.ticket else {
                continue;
            };
            let id = Any::decode(ticket.ticket.clone())
                .ok()
                .and_then(|any| any.unpack::<TicketStatementQuery>().ok().flatten())
                .and_then(|t| QueryId::from_bytes(&t.statement_handle))
                .ok_or_else(|| {
                    Status::invalid_argument("the ticket does not name a lakegate query")
                })?;
            // A parked query is dropped here (the tracker then records it cancelled); a
            // streaming one is stopped by the tracker.
            let parked = self.tickets.drop_pending(id, session.principal());
            let streaming = self.engine.queries().cancel(id, session.principal(), false)
                == CancelOutcome::Cancelled;
            if parked || streaming {
                status = CancelStatus::Cancelled;
            }
        }
        Ok(status)
    }
}

/// The one answer to every kind of update. Session statements (`SET`, `USE`) run and report
/// no rows changed: JDBC sends them as updates, since they return no columns. Writes are
/// refused as read-only, and a read sent as an update is told to come as a query.
async fn run_update(engine: &Engine, session: &Session, sql: &str) -> Result<i64, Status> {
    engine
        .execute_update(session, sql)
        .await
        .map_err(engine_status)?;
    Ok(0)
}

/// The Flight action that cancels a query.
const CANCEL_FLIGHT_INFO: &str = "CancelFlightInfo";

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
        let token = self
            .sessions
            .login(&self.engine, request.metadata(), request.remote_addr())?;
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
        let session = self.session_of(&request)?;
        self.plan(&session, &query.query, Vec::new(), request.into_inner())
            .await
    }

    async fn get_flight_info_prepared_statement(
        &self,
        query: CommandPreparedStatementQuery,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        let session = self.session_of(&request)?;
        let prepared = Prepared::decode(&query.prepared_statement_handle)?;
        let params = match &prepared.parameters {
            Some(batch) => values_of(batch).map_err(|e| Status::invalid_argument(e.to_string()))?,
            None => Vec::new(),
        };
        self.plan(&session, &prepared.sql, params, request.into_inner())
            .await
    }

    async fn do_get_statement(
        &self,
        ticket: TicketStatementQuery,
        request: Request<Ticket>,
    ) -> Result<Response<DoGetStream>, Status> {
        let session = self.session_of(&request)?;
        let id = QueryId::from_bytes(&ticket.statement_handle)
            .ok_or_else(|| Status::invalid_argument("ticket does not name a lakegate query"))?;
        let (schema, rows) = self.tickets.claim(id, session.principal()).ok_or_else(|| {
            EngineError::lost_in_restart(id).map_or_else(
                || Status::not_found(format!("query {id} is unknown, expired or already fetched")),
                engine_status,
            )
        })?;
        let batches = rows.map_err(|e| {
            let status = engine_status(EngineError::running(e));
            FlightError::Tonic(Box::new(status))
        });
        Ok(flight_stream(schema, batches))
    }

    async fn get_flight_info_catalogs(
        &self,
        query: CommandGetCatalogs,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        self.session_of(&request)?;
        let schema = query.into_builder().schema();
        self.info_for(query, &schema, request.into_inner())
    }

    async fn do_get_catalogs(
        &self,
        query: CommandGetCatalogs,
        request: Request<Ticket>,
    ) -> Result<Response<DoGetStream>, Status> {
        let session = self.session_of(&request)?;
        Ok(one_batch(metadata::catalogs(
            &self.engine,
            &session,
            query,
        )?))
    }

    async fn get_flight_info_schemas(
        &self,
        query: CommandGetDbSchemas,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        self.session_of(&request)?;
        let schema = query.clone().into_builder().schema();
        self.info_for(query, &schema, request.into_inner())
    }

    async fn do_get_schemas(
        &self,
        query: CommandGetDbSchemas,
        request: Request<Ticket>,
    ) -> Result<Response<DoGetStream>, Status> {
        let session = self.session_of(&request)?;
        Ok(one_batch(
            metadata::schemas(&self.engine, &session, query).await?,
        ))
    }

    async fn get_flight_info_tables(
        &self,
        query: CommandGetTables,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        self.session_of(&request)?;
        let schema = query.clone().into_builder().schema();
        self.info_for(query, &schema, request.into_inner())
    }

    async fn do_get_tables(
        &self,
        query: CommandGetTables,
        request: Request<Ticket>,
    ) -> Result<Response<DoGetStream>, Status> {
        let session = self.session_of(&request)?;
        Ok(one_batch(
            metadata::tables(&self.engine, &session, query).await?,
        ))
    }

    /// Writes are refused: the lake is read-only. `SET` and `USE` run (JDBC sends them here).
    async fn do_put_statement_update(
        &self,
        command: CommandStatementUpdate,
        request: Request<PeekableFlightDataStream>,
    ) -> Result<i64, Status> {
        let session = self.session_of(&request)?;
        run_update(&self.engine, &session, &command.query).await
    }

    async fn get_flight_info_table_types(
        &self,
        query: CommandGetTableTypes,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        self.session_of(&request)?;
        let schema = query.into_builder().schema();
        self.info_for(query, &schema, request.into_inner())
    }

    async fn do_get_table_types(
        &self,
        query: CommandGetTableTypes,
        request: Request<Ticket>,
    ) -> Result<Response<DoGetStream>, Status> {
        self.session_of(&request)?;
        Ok(one_batch(metadata::table_types(query)?))
    }

    async fn get_flight_info_sql_info(
        &self,
        query: CommandGetSqlInfo,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        self.session_of(&request)?;
        let schema = query.clone().into_builder(server_info::sql_info()).schema();
        self.info_for(query, &schema, request.into_inner())
    }

    async fn do_get_sql_info(
        &self,
        query: CommandGetSqlInfo,
        request: Request<Ticket>,
    ) -> Result<Response<DoGetStream>, Status> {
        self.session_of(&request)?;
        let batch = query
            .into_builder(server_info::sql_info())
            .build()
            .map_err(|e| Status::internal(format!("building SqlInfo: {e}")))?;
        Ok(one_batch(batch))
    }

    async fn get_flight_info_xdbc_type_info(
        &self,
        query: CommandGetXdbcTypeInfo,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        self.session_of(&request)?;
        let schema = query.into_builder(server_info::xdbc_type_info()).schema();
        self.info_for(query, &schema, request.into_inner())
    }

    async fn do_get_xdbc_type_info(
        &self,
        query: CommandGetXdbcTypeInfo,
        request: Request<Ticket>,
    ) -> Result<Response<DoGetStream>, Status> {
        self.session_of(&request)?;
        let batch = query
            .into_builder(server_info::xdbc_type_info())
            .build()
            .map_err(|e| Status::internal(format!("building XdbcTypeInfo: {e}")))?;
        Ok(one_batch(batch))
    }

    async fn get_flight_info_primary_keys(
        &self,
        query: CommandGetPrimaryKeys,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        self.session_of(&request)?;
        self.info_for(
            query,
            &metadata::no_primary_keys().schema(),
            request.into_inner(),
        )
    }

    async fn do_get_primary_keys(
        &self,
        _query: CommandGetPrimaryKeys,
        request: Request<Ticket>,
    ) -> Result<Response<DoGetStream>, Status> {
        self.session_of(&request)?;
        Ok(one_batch(metadata::no_primary_keys()))
    }

    async fn get_flight_info_imported_keys(
        &self,
        query: CommandGetImportedKeys,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        self.session_of(&request)?;
        let schema = metadata::no_foreign_keys().schema();
        self.info_for(query, &schema, request.into_inner())
    }

    async fn do_get_imported_keys(
        &self,
        _query: CommandGetImportedKeys,
        request: Request<Ticket>,
    ) -> Result<Response<DoGetStream>, Status> {
        self.session_of(&request)?;
        Ok(one_batch(metadata::no_foreign_keys()))
    }

    async fn get_flight_info_exported_keys(
        &self,
        query: CommandGetExportedKeys,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        self.session_of(&request)?;
        let schema = metadata::no_foreign_keys().schema();
        self.info_for(query, &schema, request.into_inner())
    }

    async fn do_get_exported_keys(
        &self,
        _query: CommandGetExportedKeys,
        request: Request<Ticket>,
    ) -> Result<Response<DoGetStream>, Status> {
        self.session_of(&request)?;
        Ok(one_batch(metadata::no_foreign_keys()))
    }

    async fn get_flight_info_cross_reference(
        &self,
        query: CommandGetCrossReference,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        self.session_of(&request)?;
        let schema = metadata::no_foreign_keys().schema();
        self.info_for(query, &schema, request.into_inner())
    }

    async fn do_get_cross_reference(
        &self,
        _query: CommandGetCrossReference,
        request: Request<Ticket>,
    ) -> Result<Response<DoGetStream>, Status> {
        self.session_of(&request)?;
        Ok(one_batch(metadata::no_foreign_keys()))
    }

    /// Plans the statement to learn both schemas; the handle carries the SQL itself.
    async fn do_action_create_prepared_statement(
        &self,
        query: ActionCreatePreparedStatementRequest,
        request: Request<Action>,
    ) -> Result<ActionCreatePreparedStatementResult, Status> {
        let session = self.session_of(&request)?;
        let described = self
            .engine
            .describe(&session, &query.query)
            .await
            .map_err(engine_status)?;
        Ok(ActionCreatePreparedStatementResult {
            prepared_statement_handle: Prepared::new(query.query).encode()?,
            dataset_schema: schema_bytes(&described.dataset)?,
            parameter_schema: schema_bytes(&described.parameters)?,
        })
    }

    /// Binds the row sent to the statement and hands back a handle carrying both.
    async fn do_put_prepared_statement_query(
        &self,
        query: CommandPreparedStatementQuery,
        request: Request<PeekableFlightDataStream>,
    ) -> Result<DoPutPreparedStatementResult, Status> {
        self.session_of(&request)?;
        let mut prepared = Prepared::decode(&query.prepared_statement_handle)?;
        let data = request
            .into_inner()
            .map_err(|status| FlightError::Tonic(Box::new(status)));
        let batches: Vec<RecordBatch> = FlightRecordBatchStream::new_from_flight_data(data)
            .try_collect()
            .await
            .map_err(|e| Status::invalid_argument(format!("reading bound parameters: {e}")))?;
        let rows: usize = batches.iter().map(RecordBatch::num_rows).sum();
        prepared.parameters = match batches.as_slice() {
            [] => None,
            [batch] if rows == 1 => Some(batch.clone()),
            _ => {
                return Err(Status::invalid_argument(format!(
                    "a query binds one row of parameters per execution, got {rows} rows"
                )));
            }
        };
        Ok(DoPutPreparedStatementResult {
            prepared_statement_handle: Some(prepared.encode()?),
        })
    }

    async fn do_put_prepared_statement_update(
        &self,
        query: CommandPreparedStatementUpdate,
        request: Request<PeekableFlightDataStream>,
    ) -> Result<i64, Status> {
        let session = self.session_of(&request)?;
        let prepared = Prepared::decode(&query.prepared_statement_handle)?;
        run_update(&self.engine, &session, &prepared.sql).await
    }

    /// The handle holds everything; closing it only checks it is one of ours.
    async fn do_action_close_prepared_statement(
        &self,
        query: ActionClosePreparedStatementRequest,
        request: Request<Action>,
    ) -> Result<(), Status> {
        self.session_of(&request)?;
        Prepared::decode(&query.prepared_statement_handle)?;
        Ok(())
    }

    async fn do_action_cancel_query(
        &self,
        query: ActionCancelQueryRequest,
        request: Request<Action>,
    ) -> Result<ActionCancelQueryResult, Status> {
        let session = self.session_of(&request)?;
        let info = FlightInfo::decode(query.info)
            .map_err(|e| Status::invalid_argument(format!("CancelQuery: not a FlightInfo: {e}")))?;
        // ActionCancelQueryResult.CancelResult (not exported by arrow-flight): 1 CANCELLED,
        // 3 NOT_CANCELLABLE.
        let result = match self.cancel(&session, &info)? {
            CancelStatus::Cancelled => 1,
            _ => 3,
        };
        Ok(ActionCancelQueryResult { result })
    }

    /// `CancelFlightInfo` is a plain Flight action, outside the Flight SQL command set.
    async fn do_action_fallback(
        &self,
        request: Request<Action>,
    ) -> Result<Response<<Self as FlightService>::DoActionStream>, Status> {
        let session = self.session_of(&request)?;
        let action = request.into_inner();
        if action.r#type != CANCEL_FLIGHT_INFO {
            return Err(Status::invalid_argument(format!(
                "unknown action {:?}",
                action.r#type
            )));
        }
        let cancel = CancelFlightInfoRequest::decode(action.body).map_err(|e| {
            Status::invalid_argument(format!("CancelFlightInfo: not a request: {e}"))
        })?;
        let info = cancel
            .info
            .ok_or_else(|| Status::invalid_argument("CancelFlightInfo without a FlightInfo"))?;
        let status = self.cancel(&session, &info)?;
        let body = CancelFlightInfoResult::new(status).encode_to_vec();
        let result = arrow_flight::Result { body: body.into() };
        Ok(Response::new(Box::pin(stream::iter([Ok(result)]))))
    }

    async fn list_custom_actions(&self) -> Option<Vec<Result<ActionType, Status>>> {
        Some(vec![Ok(ActionType {
            r#type: CANCEL_FLIGHT_INFO.into(),
            description: "Cancel a query given its FlightInfo".into(),
        })])
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
