//! The PostgreSQL wire protocol (pgwire), so `psql`, `psycopg`, PgJDBC and the tools on them
//! connect unmodified, on `server.postgres_addr` (default port 5433: 5432 is often a real
//! PostgreSQL).
//!
//! Each connection has its own [`Session`], created once the client is authenticated: a
//! `SET` on one never changes another. Logins ([`login`]) are checked by the central
//! [`Authenticator`], by SCRAM-SHA-256 or a password; the open demo mode trusts the user
//! name the client sends. Simple and extended query protocols both run through the one
//! [`Engine`] in the PostgreSQL dialect; types and values are mapped in [`types`], errors
//! carry SQLSTATE codes, statements without rows answer with their command tag. A cancel request stops the connection's running query on every
//! executor (SQLSTATE 57014). TLS is offered when a certificate is configured
//! ([`lakegate_coordinator::tls`]).

use std::fmt::Debug;
use std::sync::{Arc, OnceLock};

use async_trait::async_trait;
use datafusion::common::ScalarValue;
use futures::{Sink, StreamExt, stream};
use pgwire::api::auth::StartupHandler;
use pgwire::api::cancel::{CancelHandler, DefaultCancelHandler};
use pgwire::api::portal::{Format, Portal};
use pgwire::api::query::{ExtendedQueryHandler, SimpleQueryHandler};
use pgwire::api::results::{
    DescribePortalResponse, DescribeStatementResponse, QueryResponse, Response, Tag,
};
use pgwire::api::stmt::{NoopQueryParser, StoredStatement};
use pgwire::api::store::PortalStore;
use pgwire::api::{
    ClientInfo, ClientPortalStore, ConnectionHandle, ConnectionManager, METADATA_USER,
    PgWireServerHandlers, Type,
};
use pgwire::error::{ErrorInfo, PgWireError, PgWireResult};
use pgwire::messages::PgWireBackendMessage;
use pgwire::tokio::TlsAcceptor;

use lakegate_coordinator::tls::TlsIdentity;
use tokio::net::TcpListener;

mod login;
mod types;

pub use login::scram_verifier;

use lakegate_coordinator::auth::Authenticator;
use lakegate_coordinator::engine::{Engine, Outcome};
use lakegate_coordinator::error::EngineError;
use lakegate_coordinator::session::{ClientLabel, DialectName, Session};
use lakegate_coordinator::statement::StatementError;
use login::Login;

/// How metrics and the query list label PostgreSQL clients.
pub const CLIENT: ClientLabel = ClientLabel::new("postgres");

/// Serves PostgreSQL clients on `listener` until `shutdown` completes; clients that ask for
/// TLS get it when `tls` is set ([`lakegate_coordinator::tls::postgres_identity`]).
pub async fn serve(
    listener: TcpListener,
    engine: Arc<Engine>,
    auth: Arc<Authenticator>,
    tls: Option<TlsIdentity>,
    require_tls: bool,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let require_tls = require_tls && tls.is_some();
    let tls = tls.map(|identity| TlsAcceptor::from(identity.server_config(&[])));
    tokio::pin!(shutdown);
    // Cancel requests arrive on a connection of their own, naming the connection whose
    // query to stop by its process id and secret key; one registry spans all connections.
    let cancels = Arc::new(ConnectionManager::new());
    let login = Arc::new(Login::new(auth.clone(), cancels.clone(), require_tls));
    loop {
        let (socket, peer) = tokio::select! {
            accepted = listener.accept() => accepted?,
            _ = &mut shutdown => return Ok(()),
        };
        // Small replies must not wait for a delayed ACK.
        let _ = socket.set_nodelay(true);
        let handlers = Arc::new(Handlers {
            login: login.clone(),
            cancels: cancels.clone(),
            connection: Arc::new(Connection {
                engine: engine.clone(),
                auth: auth.clone(),
                session: OnceLock::new(),
                parser: Arc::new(NoopQueryParser::new()),
            }),
        });
        let tls = tls.clone();
        tokio::spawn(async move {
            if let Err(e) = pgwire::tokio::process_socket(socket, tls, handlers).await {
                tracing::debug!(%peer, error = %e, "PostgreSQL connection ended with an error");
            }
        });
    }
}

/// One client connection: its session and the handlers pgwire calls.
struct Connection {
    engine: Arc<Engine>,
    auth: Arc<Authenticator>,
    session: OnceLock<Session>,
    parser: Arc<NoopQueryParser>,
}

/// What pgwire calls for one connection.
struct Handlers {
    login: Arc<Login>,
    cancels: Arc<ConnectionManager>,
    connection: Arc<Connection>,
}

impl PgWireServerHandlers for Handlers {
    fn simple_query_handler(&self) -> Arc<impl SimpleQueryHandler> {
        self.connection.clone()
    }

    fn extended_query_handler(&self) -> Arc<impl ExtendedQueryHandler> {
        self.connection.clone()
    }

    fn startup_handler(&self) -> Arc<impl StartupHandler> {
        self.login.clone()
    }

    fn cancel_handler(&self) -> Arc<impl CancelHandler> {
        Arc::new(DefaultCancelHandler::new(self.cancels.clone()))
    }
}

impl Connection {
    /// This connection's session, made on first use for the authenticated user.
    fn session<C: ClientInfo>(&self, client: &C) -> &Session {
        self.session.get_or_init(|| {
            let user = client
                .metadata()
                .get(METADATA_USER)
                .cloned()
                .unwrap_or_else(|| "anonymous".to_string());
            self.engine
                .session_for(self.auth.logged_in(&user), CLIENT, DialectName::Postgres)
                .with_source(client.metadata().get("application_name").cloned())
                .with_client_address(Some(client.socket_addr()))
        })
    }

    /// Runs one statement; rows are encoded in `format`.
    async fn run(
        &self,
        session: &Session,
        cancel: Option<Arc<ConnectionHandle>>,
        sql: &str,
        params: Vec<ScalarValue>,
        format: &Format,
    ) -> PgWireResult<Response> {
        let outcome = self
            .engine
            .execute_with(session, sql, params)
            .await
            .map_err(sqlstate)?;
        let result = match outcome {
            Outcome::Rows(result) => result,
            // PostgreSQL has no USE; its clients know the effect as SET (of search_path).
            other => {
                let tag = match other.command_tag() {
                    "USE" => "SET",
                    tag => tag,
                };
                return Ok(Response::Execution(Tag::new(tag)));
            }
        };
        if let Some(handle) = cancel {
            // A cancel request for this connection stops this query through the tracker,
            // as a cancel from any front end does: its stream ends with 57014 and its plan
            // (every executor task) is dropped. The next query replaces the sender, which
            // ends this waiter.
            let fired = handle.start_query().await;
            let queries = self.engine.queries();
            let (id, owner) = (result.id, session.principal().clone());
            tokio::spawn(async move {
                if fired.await.is_ok() {
                    queries.cancel(id, &owner, false);
                }
            });
        }
        let fields = Arc::new(types::fields(&result.schema, format));
        let encoding = fields.clone();
        let rows = result.stream.flat_map(move |batch| {
            let rows = match batch {
                Ok(batch) => types::rows(&batch, &encoding),
                Err(e) => Err(sqlstate(EngineError::running(e))),
            };
            match rows {
                Ok(rows) => stream::iter(rows.into_iter().map(Ok).collect::<Vec<_>>()),
                Err(e) => stream::iter(vec![Err(e)]),
            }
        });
        Ok(Response::Query(QueryResponse::new(fields, rows)))
    }
}

#[async_trait]
impl SimpleQueryHandler for Connection {
    async fn do_query<C>(&self, client: &mut C, query: &str) -> PgWireResult<Vec<Response>>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        let session = self.session(client);
        let cancel = cancel_handle(client);
        let response = self
            .run(session, cancel, query, Vec::new(), &Format::UnifiedText)
            .await?;
        Ok(vec![response])
    }
}

#[async_trait]
impl ExtendedQueryHandler for Connection {
    type Statement = String;
    type QueryParser = NoopQueryParser;

    fn query_parser(&self) -> Arc<Self::QueryParser> {
        self.parser.clone()
    }

    async fn do_query<C>(
        &self,
        client: &mut C,
        portal: &Portal<Self::Statement>,
        _max_rows: usize,
    ) -> PgWireResult<Response>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore<Statement = Self::Statement>,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        let session = self.session(client);
        let params = parameters_of(portal)?;
        let cancel = cancel_handle(client);
        self.run(
            session,
            cancel,
            &portal.statement.statement,
            params,
            &portal.result_column_format,
        )
        .await
    }

    async fn do_describe_statement<C>(
        &self,
        client: &mut C,
        statement: &StoredStatement<Self::Statement>,
    ) -> PgWireResult<DescribeStatementResponse>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore<Statement = Self::Statement>,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        let session = self.session(client);
        let described = self
            .engine
            .describe(session, &statement.statement)
            .await
            .map_err(sqlstate)?;
        let parameters = described
            .parameters
            .fields()
            .iter()
            .enumerate()
            .map(|(i, f)| match statement.parameter_types.get(i) {
                Some(Some(given)) => given.clone(),
                _ if f.data_type().is_null() => Type::TEXT,
                _ => types::pg_type(f.data_type()),
            })
            .collect();
        let fields = types::fields(&described.dataset, &Format::UnifiedBinary);
        Ok(DescribeStatementResponse::new(parameters, fields))
    }

    async fn do_describe_portal<C>(
        &self,
        client: &mut C,
        portal: &Portal<Self::Statement>,
    ) -> PgWireResult<DescribePortalResponse>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore<Statement = Self::Statement>,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        let session = self.session(client);
        let described = self
            .engine
            .describe(session, &portal.statement.statement)
            .await
            .map_err(sqlstate)?;
        Ok(DescribePortalResponse::new(types::fields(
            &described.dataset,
            &portal.result_column_format,
        )))
    }
}

/// What a cancel request for this connection fires (registered at login).
fn cancel_handle<C: ClientInfo>(client: &C) -> Option<Arc<ConnectionHandle>> {
    client
        .session_extensions()
        .get::<Arc<ConnectionHandle>>()
        .map(|handle| Arc::clone(handle.as_ref()))
}

/// The bound values of `portal`, by the types the client gave (text when it gave none); the
/// engine casts each to the type its placeholder takes.
fn parameters_of(portal: &Portal<String>) -> PgWireResult<Vec<ScalarValue>> {
    (0..portal.parameter_len())
        .map(|i| {
            let given = portal
                .statement
                .parameter_types
                .get(i)
                .cloned()
                .flatten()
                .unwrap_or(Type::TEXT);
            Ok(match given {
                Type::BOOL => ScalarValue::Boolean(portal.parameter::<bool>(i, &given)?),
                Type::INT2 => ScalarValue::Int16(portal.parameter::<i16>(i, &given)?),
                Type::INT4 => ScalarValue::Int32(portal.parameter::<i32>(i, &given)?),
                Type::INT8 => ScalarValue::Int64(portal.parameter::<i64>(i, &given)?),
                Type::FLOAT4 => ScalarValue::Float32(portal.parameter::<f32>(i, &given)?),
                Type::FLOAT8 => ScalarValue::Float64(portal.parameter::<f64>(i, &given)?),
                Type::NUMERIC => ScalarValue::Utf8(
                    portal
                        .parameter::<rust_decimal::Decimal>(i, &given)?
                        .map(|d| d.to_string()),
                ),
                Type::DATE => ScalarValue::Date32(
                    portal.parameter::<chrono::NaiveDate>(i, &given)?.map(|d| {
                        d.signed_duration_since(chrono::NaiveDate::default())
                            .num_days() as i32
                    }),
                ),
                _ => ScalarValue::Utf8(
                    portal
                        .parameter::<String>(i, &Type::TEXT)?
                        .map(date_without_zone),
                ),
            })
        })
        .collect()
}

/// PgJDBC sends a `setDate` value untyped as `1998-09-02 +00`; PostgreSQL reads that as a
/// date and ignores the zone, and so does lakegate (Arrow's cast would refuse it).
fn date_without_zone(text: String) -> String {
    let zone_only = |zone: &str| {
        zone.len() >= 3
            && zone.starts_with(['+', '-'])
            && zone[1..].chars().all(|c| c.is_ascii_digit() || c == ':')
    };
    match text.split_once(' ') {
        Some((date, zone))
            if zone_only(zone) && chrono::NaiveDate::parse_from_str(date, "%Y-%m-%d").is_ok() =>
        {
            date.to_string()
        }
        _ => text,
    }
}

/// An engine error as a PostgreSQL error with its SQLSTATE.
fn sqlstate(err: EngineError) -> PgWireError {
    let code = match &err {
        EngineError::Statement(StatementError::Syntax { .. }) => "42601",
        EngineError::Statement(StatementError::ReadOnly { .. }) => "25006",
        EngineError::Statement(StatementError::TooLarge { .. }) => "54000",
        EngineError::Statement(
            StatementError::TooDeep { .. } | StatementError::NestedTooDeep { .. },
        ) => "54001",
        EngineError::Statement(_) => "0A000",
        EngineError::Plan { .. } => "42000",
        EngineError::UnknownTable { .. } => "42P01",
        EngineError::UnknownFunction { .. } => "42883",
        EngineError::UnknownColumn { .. } => "42703",
        EngineError::DivisionByZero => "22012",
        EngineError::InvalidCast { .. } => "22P02",
        EngineError::OutOfRange { .. } => "22003",
        EngineError::TypeMismatch { .. } => "42804",
        EngineError::UnknownSchema { .. } => "3F000",
        EngineError::Setting { .. } | EngineError::Parameter { .. } => "22023",
        EngineError::UnknownPrepared { .. } => "26000",
        EngineError::AccessDenied { .. } => "42501",
        EngineError::QueueFull { .. } => "53300",
        EngineError::Cancelled { .. } | EngineError::TimedOut { .. } => "57014",
        EngineError::MemoryLimit { .. } => "53200",
        EngineError::ShuttingDown => "57P01",
        EngineError::Catalog { .. } | EngineError::NoExecutors => "58000",
        // serialization_failure: the SQLSTATE retry loops of PostgreSQL drivers and ORMs act on.
        EngineError::QueryLost { .. } => "40001",
        EngineError::Execution { .. } | EngineError::Internal(_) => "XX000",
    };
    let mut info = ErrorInfo::new("ERROR".to_string(), code.to_string(), err.to_string());
    if let Some(position) = err.position() {
        info.hint = Some(format!("at {position}"));
    }
    PgWireError::UserError(Box::new(info))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jdbc_dates_lose_their_zone_and_nothing_else_changes() {
        assert_eq!(date_without_zone("1998-09-02 +00".into()), "1998-09-02");
        assert_eq!(date_without_zone("1998-09-02 -05:30".into()), "1998-09-02");
        for kept in ["1998-09-02", "1998-09-02 10:00:00", "hello +00", "A +", "x"] {
            assert_eq!(date_without_zone(kept.into()), kept);
        }
    }
}
