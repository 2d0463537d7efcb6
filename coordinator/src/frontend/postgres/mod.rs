//! The PostgreSQL wire protocol (pgwire), so `psql`, `psycopg`, PgJDBC and the tools on them
//! connect unmodified, on `server.postgres_addr` (default port 5433: 5432 is often a real
//! PostgreSQL).
//!
//! Each connection has its own [`Session`], created once the client is authenticated: a
//! `SET` on one never changes another. Passwords go to the central [`Authenticator`]
//! (cleartext, so use TLS in front across a network); the open demo mode trusts the user
//! name the client sends. Simple and extended query protocols both run through the one
//! [`Engine`]; types and values are mapped in [`types`], errors carry SQLSTATE codes.
//! `BEGIN`/`COMMIT`/`ROLLBACK` are accepted as no-ops (every read is autocommit) and `SHOW`
//! answers session variables. A cancel request stops the connection's running query on every
//! executor (SQLSTATE 57014).

use std::fmt::Debug;
use std::sync::{Arc, OnceLock};

use async_trait::async_trait;
use datafusion::common::ScalarValue;
use futures::{Sink, StreamExt, stream};
use pgwire::api::auth::StartupHandler;
use pgwire::api::auth::cleartext::CleartextPasswordAuthStartupHandler;
use pgwire::api::auth::noop::NoopStartupHandler;
use pgwire::api::auth::{AuthSource, DefaultServerParameterProvider, LoginInfo, Password};
use pgwire::api::cancel::{CancelHandler, DefaultCancelHandler};
use pgwire::api::portal::{Format, Portal};
use pgwire::api::query::{ExtendedQueryHandler, SimpleQueryHandler};
use pgwire::api::results::{
    DescribePortalResponse, DescribeStatementResponse, FieldFormat, FieldInfo, QueryResponse,
    Response, Tag,
};
use pgwire::api::stmt::{NoopQueryParser, StoredStatement};
use pgwire::api::store::PortalStore;
use pgwire::api::{
    ClientInfo, ClientPortalStore, ConnectionHandle, ConnectionManager, METADATA_USER,
    PgWireServerHandlers, Type,
};
use pgwire::error::{ErrorInfo, PgWireError, PgWireResult};
use pgwire::messages::{PgWireBackendMessage, PgWireFrontendMessage};
use tokio::net::TcpListener;

mod types;

use crate::auth::{Authenticator, Principal};
use crate::engine::Engine;
use crate::error::EngineError;
use crate::session::Session;
use crate::statement::StatementError;
use crate::tracker::FrontEnd;

/// Serves PostgreSQL clients on `listener` until `shutdown` completes.
pub async fn serve(
    listener: TcpListener,
    engine: Arc<Engine>,
    auth: Arc<Authenticator>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    tokio::pin!(shutdown);
    // Cancel requests arrive on a connection of their own, naming the connection whose
    // query to stop by its process id and secret key; one registry spans all connections.
    let cancels = Arc::new(ConnectionManager::new());
    loop {
        let (socket, peer) = tokio::select! {
            accepted = listener.accept() => accepted?,
            _ = &mut shutdown => return Ok(()),
        };
        // Small replies must not wait for a delayed ACK.
        let _ = socket.set_nodelay(true);
        let startup = Arc::new(if auth.is_open() {
            Startup::Trust(Trust(cancels.clone()))
        } else {
            Startup::Password(Box::new(
                CleartextPasswordAuthStartupHandler::new(Passwords(auth.clone()), parameters())
                    .with_connection_manager(cancels.clone()),
            ))
        });
        let handlers = Arc::new(Handlers {
            startup,
            cancels: cancels.clone(),
            connection: Arc::new(Connection {
                engine: engine.clone(),
                session: OnceLock::new(),
                parser: Arc::new(NoopQueryParser::new()),
            }),
        });
        tokio::spawn(async move {
            if let Err(e) = pgwire::tokio::process_socket(socket, None, handlers).await {
                tracing::debug!(%peer, error = %e, "PostgreSQL connection ended with an error");
            }
        });
    }
}

/// One client connection: its session and the handlers pgwire calls.
struct Connection {
    engine: Arc<Engine>,
    session: OnceLock<Session>,
    parser: Arc<NoopQueryParser>,
}

/// What pgwire calls for one connection. The startup handler keeps the state of an
/// authentication exchange between messages, so it lives as long as the connection.
struct Handlers {
    startup: Arc<Startup>,
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
        self.startup.clone()
    }

    fn cancel_handler(&self) -> Arc<impl CancelHandler> {
        Arc::new(DefaultCancelHandler::new(self.cancels.clone()))
    }
}

fn parameters() -> DefaultServerParameterProvider {
    let mut parameters = DefaultServerParameterProvider::default();
    parameters.server_version = format!("16.0 (lakegate {})", env!("CARGO_PKG_VERSION"));
    parameters
}

/// How a connection is let in: trusted by name (open mode) or by password (users mode).
enum Startup {
    Trust(Trust),
    Password(Box<CleartextPasswordAuthStartupHandler<Passwords, DefaultServerParameterProvider>>),
}

#[async_trait]
impl StartupHandler for Startup {
    async fn on_startup<C>(
        &self,
        client: &mut C,
        message: PgWireFrontendMessage,
    ) -> PgWireResult<()>
    where
        C: ClientInfo + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        match self {
            Startup::Trust(trust) => trust.on_startup(client, message).await,
            Startup::Password(password) => password.on_startup(client, message).await,
        }
    }
}

struct Trust(Arc<ConnectionManager>);

impl NoopStartupHandler for Trust {
    fn connection_manager(&self) -> Option<Arc<ConnectionManager>> {
        Some(self.0.clone())
    }
}

/// Checks passwords against the users file.
#[derive(Debug)]
struct Passwords(Arc<Authenticator>);

#[async_trait]
impl AuthSource for Passwords {
    async fn get_password(&self, login: &LoginInfo) -> PgWireResult<Password> {
        // Hashes never leave the authenticator; `verify_password` checks instead.
        Err(PgWireError::InvalidPassword(
            login.user().unwrap_or_default().to_string(),
        ))
    }

    async fn verify_password(
        &self,
        login: &LoginInfo,
        password: &[u8],
    ) -> PgWireResult<Option<()>> {
        let user = login.user().unwrap_or_default().to_string();
        let password = String::from_utf8_lossy(password);
        let password = password.trim_end_matches('\0');
        match self.0.login(&user, password) {
            Ok(_) => Ok(Some(())),
            Err(_) => Err(PgWireError::InvalidPassword(user)),
        }
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
                .session_for(Principal::new(user), FrontEnd::Postgres)
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
        let words: Vec<String> = sql
            .split_whitespace()
            .take(2)
            .map(|w| w.trim_end_matches(';').to_ascii_uppercase())
            .collect();
        match words.first().map(String::as_str) {
            Some("BEGIN") | Some("START") => return Ok(Response::Execution(Tag::new("BEGIN"))),
            Some("COMMIT") | Some("END") => return Ok(Response::Execution(Tag::new("COMMIT"))),
            Some("ROLLBACK") | Some("ABORT") => {
                return Ok(Response::Execution(Tag::new("ROLLBACK")));
            }
            Some("SHOW") => {
                if let Some(name) = words.get(1) {
                    return Ok(show(session, &name.to_ascii_lowercase()));
                }
            }
            Some("SET") if words.get(1).is_some_and(|w| w.starts_with("SEARCH_PATH")) => {
                return self.set_search_path(session, sql).await;
            }
            _ => {}
        }
        let result = self
            .engine
            .execute_with(session, sql, params)
            .await
            .map_err(sqlstate)?;
        if result.schema.fields().is_empty() {
            let tag = words
                .first()
                .map_or("OK", |w| if w == "USE" { "SET" } else { w });
            return Ok(Response::Execution(Tag::new(tag)));
        }
        if let Some(handle) = cancel {
            // A cancel request for this connection stops this query through the tracker,
            // as a cancel from any front end does: its stream ends with 57014 and its plan
            // (every executor task) is dropped. The next query replaces the sender, which
            // ends this waiter.
            let fired = handle.start_query().await;
            let tracker = self.engine.tracker().clone();
            let (id, owner) = (result.id, session.principal().clone());
            tokio::spawn(async move {
                if fired.await.is_ok() {
                    tracker.cancel(id, &owner, false);
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

impl Connection {
    /// `SET search_path = a, b` / `TO a`: the first schema becomes the session's default
    /// schema (checked to exist), and `SHOW search_path` returns what was set.
    async fn set_search_path(&self, session: &Session, sql: &str) -> PgWireResult<Response> {
        let lower = sql.to_ascii_lowercase();
        let value = lower
            .find("search_path")
            .map(|at| sql[at + "search_path".len()..].trim())
            .map(|rest| {
                rest.strip_prefix('=')
                    .or_else(|| rest.strip_prefix("TO "))
                    .or_else(|| rest.strip_prefix("to "))
                    .unwrap_or(rest)
                    .trim()
                    .trim_end_matches(';')
                    .trim()
            })
            .unwrap_or("");
        let first = value
            .split(',')
            .map(|s| s.trim().trim_matches(['\'', '"']))
            .find(|s| !s.is_empty() && *s != "$user" && *s != "public" && *s != "pg_catalog");
        if let Some(schema) = first {
            let use_sql = format!("USE \"{}\"", schema.replace('"', "\"\""));
            self.engine
                .execute(session, &use_sql)
                .await
                .map_err(sqlstate)?;
        }
        self.engine
            .set(session, "search_path", Some(value.to_string()))
            .map_err(sqlstate)?;
        Ok(Response::Execution(Tag::new("SET")))
    }
}

/// `SHOW name`: a session variable, or the value PostgreSQL clients expect for the usual
/// ones.
fn show(session: &Session, name: &str) -> Response {
    let vars = session.vars();
    let value = match name {
        "search_path" => vars
            .settings
            .get(name)
            .cloned()
            .unwrap_or_else(|| vars.schema.clone()),
        _ => vars.settings.get(name).cloned().unwrap_or_else(|| {
            match name {
                "server_version" => "16.0",
                "transaction_isolation" | "default_transaction_isolation" => "read committed",
                "standard_conforming_strings" => "on",
                "client_encoding" | "server_encoding" => "UTF8",
                "datestyle" => "ISO, MDY",
                "timezone" => "UTC",
                "transaction_read_only" | "default_transaction_read_only" => "on",
                _ => "",
            }
            .to_string()
        }),
    };
    let fields = Arc::new(vec![FieldInfo::new(
        name.to_string(),
        None,
        None,
        Type::TEXT,
        FieldFormat::Text,
    )]);
    let mut encoder = pgwire::api::results::DataRowEncoder::new(fields.clone());
    let row = encoder.encode_field(&value).map(|_| encoder.take_row());
    Response::Query(QueryResponse::new(fields, stream::iter(vec![row])))
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
                _ => ScalarValue::Utf8(portal.parameter::<String>(i, &Type::TEXT)?),
            })
        })
        .collect()
}

/// An engine error as a PostgreSQL error with its SQLSTATE.
fn sqlstate(err: EngineError) -> PgWireError {
    let code = match &err {
        EngineError::Statement(StatementError::Syntax { .. }) => "42601",
        EngineError::Statement(StatementError::ReadOnly { .. }) => "25006",
        EngineError::Statement(_) => "0A000",
        EngineError::Plan { .. } => "42000",
        EngineError::UnknownTable { .. } => "42P01",
        EngineError::UnknownSchema { .. } => "3F000",
        EngineError::Setting { .. } => "22023",
        EngineError::Cancelled { .. } | EngineError::TimedOut { .. } => "57014",
        EngineError::MemoryLimit { .. } => "53200",
        EngineError::ShuttingDown => "57P01",
        EngineError::Catalog { .. } | EngineError::NoExecutors => "58000",
        EngineError::Execution { .. } | EngineError::Internal(_) => "XX000",
    };
    let mut info = ErrorInfo::new("ERROR".to_string(), code.to_string(), err.to_string());
    if let Some(position) = err.position() {
        info.hint = Some(format!("at {position}"));
    }
    PgWireError::UserError(Box::new(info))
}
