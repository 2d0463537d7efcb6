//! The Trino client protocol, on the HTTP port, so the `trino` Python client, its SQLAlchemy
//! dialect, the JDBC driver and the tools built on them (Superset, dbt-trino, Grafana) work
//! unmodified.
//!
//! * `POST /v1/statement`: SQL in the body; the session in `X-Trino-*` headers
//!   ([`client`]). The statement is planned before the response, so a bad statement fails
//!   at once; the response carries the columns and a `nextUri`.
//! * `GET /v1/statement/executing/{id}/{slug}/{token}`: the next page of rows
//!   ([`results`]); `DELETE` of it cancels the query (204).
//! * `GET /v1/query/{id}`: the query's info (`infoUri`); `GET /v1/info`: the server.
//!
//! Types and values are written as Trino writes them ([`types`], [`values`]); errors as
//! Trino's error objects ([`errors`]). Session statements of Trino's dialect are answered
//! here ([`statement`]); all SQL goes through the one [`Engine`].

use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::header::{AUTHORIZATION, HOST};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use datafusion::common::ScalarValue;
use datafusion::execution::context::{SQLOptions, SessionContext};
use datafusion::sql::sqlparser::dialect::GenericDialect;
use serde_json::{Value, json};
use tracing::Instrument;

mod client;
mod errors;
mod results;
mod statement;
mod types;
mod values;

use client::ClientSession;
use errors::{query_error, user_error};
use results::{PageError, Results, Uris};
use statement::TrinoStatement;

use crate::auth::{Authenticator, Credentials, Principal};
use crate::engine::Engine;
use crate::error::EngineError;
use crate::query::QueryId;
use crate::session::Session;
use crate::statement::StatementKind;
use crate::tracker::FrontEnd;

#[derive(Clone)]
struct Trino {
    engine: Arc<Engine>,
    auth: Arc<Authenticator>,
    results: Arc<Results>,
}

/// The Trino routes over `engine`.
pub fn router(engine: Arc<Engine>, auth: Arc<Authenticator>) -> Router {
    Router::new()
        .route("/v1/statement", post(submit))
        .route(
            "/v1/statement/executing/{id}/{slug}/{token}",
            get(next_page).delete(cancel),
        )
        .route("/v1/query/{id}", get(query_info))
        .route("/v1/info", get(server_info))
        .with_state(Trino {
            engine,
            auth,
            results: Arc::default(),
        })
}

/// A finished statement's response: body plus the headers that change the client session.
struct Answer {
    body: Value,
    headers: HeaderMap,
}

async fn submit(
    State(trino): State<Trino>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let uris = uris(&headers);
    let client = match ClientSession::from_headers(&headers) {
        Ok(client) => client,
        Err(message) => return refuse(StatusCode::BAD_REQUEST, &message),
    };
    let principal = match authenticate(&trino.auth, &headers, client.user.as_deref()) {
        Ok(principal) => principal,
        Err(message) => return refuse(StatusCode::UNAUTHORIZED, &message),
    };
    let Ok(sql) = std::str::from_utf8(&body) else {
        return refuse(StatusCode::BAD_REQUEST, "the statement is not UTF-8 text");
    };
    if sql.trim().is_empty() {
        return refuse(StatusCode::BAD_REQUEST, "SQL statement is empty");
    }
    let session = trino
        .engine
        .session_for(principal.clone(), FrontEnd::Trino)
        .with_client_address(Some(peer))
        .with_source(client.source.clone());
    if let Err(e) = apply_client_session(&trino.engine, &session, &client) {
        return answer_error(&uris, &e);
    }
    let span = tracing::info_span!(
        "trino",
        user = %principal,
        source = client.source.as_deref().unwrap_or("")
    );
    match run(&trino, &session, &client, sql, &uris)
        .instrument(span)
        .await
    {
        Ok(answer) => respond(answer),
        Err(error) => {
            let body = finished_body(&uris, QueryId::new(), "FAILED", Some(error));
            (StatusCode::OK, Json(body)).into_response()
        }
    }
}

/// Runs one statement: session statements here, everything else in the engine.
async fn run(
    trino: &Trino,
    session: &Session,
    client: &ClientSession,
    sql: &str,
    uris: &Uris,
) -> Result<Answer, Value> {
    let parsed = statement::parse(sql).map_err(|e| user_error("SYNTAX_ERROR", &e.0))?;
    let engine = &trino.engine;
    let mut headers = HeaderMap::new();
    let done = |update: &str, headers: HeaderMap| {
        let mut body = finished_body(uris, QueryId::new(), "FINISHED", None);
        body["updateType"] = Value::String(update.to_string());
        Answer { body, headers }
    };
    match parsed {
        TrinoStatement::SetSession { name, value } => {
            engine
                .set(session, &name, Some(value.clone()))
                .map_err(|e| query_error(&e))?;
            client::add(
                &mut headers,
                client::SET_SESSION,
                format!("{name}={}", client::encode(&value)),
            );
            Ok(done("SET SESSION", headers))
        }
        TrinoStatement::ResetSession { name } => {
            client::add(&mut headers, client::CLEAR_SESSION, name);
            Ok(done("RESET SESSION", headers))
        }
        TrinoStatement::Prepare { name, sql } => {
            crate::statement::classify(
                sql,
                &datafusion::sql::sqlparser::dialect::GenericDialect {},
            )
            .map_err(|e| query_error(&e.into()))?;
            client::add(
                &mut headers,
                client::ADDED_PREPARE,
                format!("{name}={}", client::encode(sql)),
            );
            Ok(done("PREPARE", headers))
        }
        TrinoStatement::Deallocate { name } => {
            client::add(&mut headers, client::DEALLOCATED_PREPARE, name);
            Ok(done("DEALLOCATE", headers))
        }
        TrinoStatement::Transaction => Ok(done("START TRANSACTION", headers)),
        TrinoStatement::Execute { name, using } => {
            let sql = client.prepared.get(&name).ok_or_else(|| {
                user_error(
                    "NOT_FOUND",
                    &format!("prepared statement {name} is not in this session"),
                )
            })?;
            let params = evaluate(using).await?;
            start(trino, session, sql, params, uris).await
        }
        TrinoStatement::ExecuteImmediate { sql, using } => {
            let params = evaluate(using).await?;
            start(trino, session, &sql, params, uris).await
        }
        TrinoStatement::ShowCatalogs { like } => {
            let sql = format!(
                "SELECT DISTINCT catalog_name AS \"Catalog\" FROM information_schema.schemata{} \
                 ORDER BY 1",
                like_filter("catalog_name", like.as_deref(), "WHERE")
            );
            start(trino, session, &sql, Vec::new(), uris).await
        }
        TrinoStatement::ShowSchemas { catalog, like } => {
            let catalog = catalog.unwrap_or_else(|| session.vars().catalog);
            let sql = format!(
                "SELECT schema_name AS \"Schema\" FROM information_schema.schemata \
                 WHERE catalog_name = {}{} ORDER BY 1",
                quote(&catalog),
                like_filter("schema_name", like.as_deref(), "AND")
            );
            start(trino, session, &sql, Vec::new(), uris).await
        }
        TrinoStatement::ShowTables { from, like } => {
            let vars = session.vars();
            let (catalog, schema) = match from.as_slice() {
                [] => (vars.catalog, vars.schema),
                [schema] => (vars.catalog, schema.clone()),
                [catalog, schema] => (catalog.clone(), schema.clone()),
                _ => {
                    return Err(user_error(
                        "SYNTAX_ERROR",
                        "SHOW TABLES FROM takes a schema or catalog.schema",
                    ));
                }
            };
            let sql = format!(
                "SELECT table_name AS \"Table\" FROM information_schema.tables \
                 WHERE table_catalog = {} AND table_schema = {}{} ORDER BY 1",
                quote(&catalog),
                quote(&schema),
                like_filter("table_name", like.as_deref(), "AND")
            );
            start(trino, session, &sql, Vec::new(), uris).await
        }
        TrinoStatement::ShowColumns { table } => {
            let name = table
                .iter()
                .map(|part| format!("\"{}\"", part.replace('"', "\"\"")))
                .collect::<Vec<_>>()
                .join(".");
            let described = engine
                .describe(session, &format!("SELECT * FROM {name}"))
                .await
                .map_err(|e| query_error(&e))?;
            let rows: Vec<Value> = described
                .dataset
                .fields()
                .iter()
                .map(|f| json!([f.name(), types::type_name(f.data_type()), "", ""]))
                .collect();
            let columns = json!(
                ["Column", "Type", "Extra", "Comment"]
                    .iter()
                    .map(|name| column(name, &arrow::datatypes::DataType::Utf8))
                    .collect::<Vec<_>>()
            );
            let mut body = finished_body(uris, QueryId::new(), "FINISHED", None);
            body["columns"] = columns;
            body["data"] = Value::Array(rows);
            Ok(Answer { body, headers })
        }
        TrinoStatement::Sql(sql) => start(trino, session, sql, Vec::new(), uris).await,
    }
}

/// Plans `sql` and registers it for paging. Statements with no columns (`USE`, `SET`) end
/// here, with the headers that carry their effect to the client.
async fn start(
    trino: &Trino,
    session: &Session,
    sql: &str,
    params: Vec<ScalarValue>,
    uris: &Uris,
) -> Result<Answer, Value> {
    let before = session.vars();
    let result = trino
        .engine
        .execute_with(session, sql, params)
        .await
        .map_err(|e| query_error(&e))?;
    if result.schema.fields().is_empty() {
        let after = session.vars();
        let mut headers = HeaderMap::new();
        let mut update = "SET SESSION";
        let is_use = crate::statement::classify(sql, &GenericDialect {})
            .is_ok_and(|c| matches!(c.kind, StatementKind::Use { .. }));
        if is_use || after.catalog != before.catalog || after.schema != before.schema {
            update = "USE";
            client::add(&mut headers, client::SET_CATALOG, after.catalog.clone());
            client::add(&mut headers, client::SET_SCHEMA, after.schema.clone());
        }
        for (name, value) in &after.settings {
            if before.settings.get(name) != Some(value) {
                client::add(
                    &mut headers,
                    client::SET_SESSION,
                    format!("{name}={}", client::encode(value)),
                );
            }
        }
        for name in before.settings.keys() {
            if !after.settings.contains_key(name) {
                client::add(&mut headers, client::CLEAR_SESSION, name.clone());
            }
        }
        let mut body = finished_body(uris, result.id, "FINISHED", None);
        body["updateType"] = Value::String(update.to_string());
        return Ok(Answer { body, headers });
    }
    let columns = Value::Array(
        result
            .schema
            .fields()
            .iter()
            .map(|f| column(f.name(), f.data_type()))
            .collect(),
    );
    let paged = trino.results.add(result.id, Some(columns), result.stream);
    let body = paged.lock().await.first_response(uris);
    Ok(Answer {
        body,
        headers: HeaderMap::new(),
    })
}

async fn next_page(
    State(trino): State<Trino>,
    Path((id, slug, token)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> Response {
    let (Ok(id), Ok(token)) = (id.parse::<QueryId>(), token.parse::<u64>()) else {
        return refuse(StatusCode::NOT_FOUND, "not a query URI");
    };
    match trino.results.page(id, &slug, token, &uris(&headers)).await {
        Ok(body) => (StatusCode::OK, Json(body)).into_response(),
        Err(PageError::Gone) => refuse(
            StatusCode::GONE,
            &format!("query {id} is not running here (finished, cancelled or abandoned)"),
        ),
        Err(PageError::BadToken { wanted, got }) => refuse(
            StatusCode::GONE,
            &format!("query {id}: page {got} is not available; the next page is {wanted}"),
        ),
    }
}

async fn cancel(
    State(trino): State<Trino>,
    Path((id, slug, _token)): Path<(String, String, String)>,
) -> Response {
    let Ok(id) = id.parse::<QueryId>() else {
        return refuse(StatusCode::NOT_FOUND, "not a query URI");
    };
    if trino
        .results
        .cancel(id, &slug, trino.engine.tracker())
        .await
    {
        tracing::info!(%id, "query cancelled by its Trino client");
    }
    // Cancelling a query that already ended is not an error for Trino clients.
    StatusCode::NO_CONTENT.into_response()
}

async fn query_info(
    State(trino): State<Trino>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let client = ClientSession::from_headers(&headers).unwrap_or_default();
    let principal = match authenticate(&trino.auth, &headers, client.user.as_deref()) {
        Ok(principal) => principal,
        Err(message) => return refuse(StatusCode::UNAUTHORIZED, &message),
    };
    let Ok(id) = id.parse::<QueryId>() else {
        return refuse(StatusCode::NOT_FOUND, "not a query id");
    };
    let operator = trino.auth.is_operator(&principal);
    match trino.engine.tracker().get(id) {
        Some(query) if operator || query.user == principal.name => Json(json!({
            "queryId": id.to_string(),
            "state": query.state.as_str(),
            "query": query.sql,
            "session": { "user": query.user },
            "queryStats": {
                "elapsedTime": format!("{:.2}s", query.elapsed.as_secs_f64()),
                "processedInputPositions": query.rows,
                "processedInputDataSize": format!("{}B", query.bytes),
            },
            "errorMessage": query.error,
        }))
        .into_response(),
        _ => refuse(StatusCode::NOT_FOUND, &format!("query {id} is not known")),
    }
}

async fn server_info() -> Json<Value> {
    Json(json!({
        "nodeVersion": { "version": format!("lakegate-{}", env!("CARGO_PKG_VERSION")) },
        "environment": "lakegate",
        "coordinator": true,
        "starting": false,
    }))
}

/// The caller: checked credentials when the request has them; otherwise, in open mode,
/// whoever `X-Trino-User` names.
fn authenticate(
    auth: &Authenticator,
    headers: &HeaderMap,
    user: Option<&str>,
) -> Result<Principal, String> {
    let header = headers
        .get(AUTHORIZATION)
        .map(|v| {
            v.to_str()
                .map_err(|_| "authorization header is not ASCII".to_string())
        })
        .transpose()?;
    let credentials = Credentials::from_header(header).map_err(|e| e.to_string())?;
    match (credentials, user) {
        (Credentials::None, Some(user)) if auth.is_open() => Ok(Principal::new(user)),
        (credentials, _) => auth.principal(&credentials).map_err(|e| e.to_string()),
    }
}

/// Catalog, schema and session properties from the client's headers; a property the engine
/// refuses fails the statement, naming it.
fn apply_client_session(
    engine: &Engine,
    session: &Session,
    client: &ClientSession,
) -> Result<(), EngineError> {
    session.update(|vars| {
        if let Some(catalog) = &client.catalog {
            vars.catalog = catalog.clone();
        }
        if let Some(schema) = &client.schema {
            vars.schema = schema.clone();
        }
    });
    for (name, value) in &client.properties {
        engine.set(session, name, Some(value.clone()))?;
    }
    Ok(())
}

/// The values of a `USING` list, computed by DataFusion with no tables in reach: Trino's
/// client writes parameters as literals (`DATE '2024-01-31'`, `DOUBLE '0.5'`, `X'00ff'`).
async fn evaluate(using: Option<&str>) -> Result<Vec<ScalarValue>, Value> {
    let Some(list) = using else {
        return Ok(Vec::new());
    };
    let refuse = |message: String| user_error("INVALID_PARAMETER_USAGE", &message);
    let context = SessionContext::new();
    let options = SQLOptions::new()
        .with_allow_ddl(false)
        .with_allow_dml(false)
        .with_allow_statements(false);
    let frame = context
        .sql_with_options(&format!("SELECT {list}"), options)
        .await
        .map_err(|e| refuse(format!("USING {list}: {e}")))?;
    let batches = frame
        .collect()
        .await
        .map_err(|e| refuse(format!("USING {list}: {e}")))?;
    let batch = batches
        .first()
        .filter(|b| b.num_rows() == 1)
        .ok_or_else(|| refuse(format!("USING {list}: not one value per parameter")))?;
    batch
        .columns()
        .iter()
        .map(|column| {
            ScalarValue::try_from_array(column, 0).map_err(|e| refuse(format!("USING: {e}")))
        })
        .collect()
}

fn column(name: &str, data_type: &arrow::datatypes::DataType) -> Value {
    json!({
        "name": name,
        "type": types::type_name(data_type),
        "typeSignature": types::signature(data_type),
    })
}

/// A response with no rows to come.
fn finished_body(uris: &Uris, id: QueryId, state: &str, error: Option<Value>) -> Value {
    let mut body = json!({
        "id": id.to_string(),
        "infoUri": uris.info(id),
        "stats": results::stats(state, 0, 0, 0),
        "warnings": [],
    });
    if let Some(error) = error {
        body["error"] = error;
    }
    body
}

fn answer_error(uris: &Uris, err: &EngineError) -> Response {
    let body = finished_body(uris, QueryId::new(), "FAILED", Some(query_error(err)));
    (StatusCode::OK, Json(body)).into_response()
}

fn respond(answer: Answer) -> Response {
    let mut response = (StatusCode::OK, Json(answer.body)).into_response();
    response.headers_mut().extend(answer.headers);
    response
}

/// A request refused before any query: plain HTTP status with a JSON error naming why.
fn refuse(status: StatusCode, message: &str) -> Response {
    (status, Json(json!({ "error": { "message": message } }))).into_response()
}

/// The base URI the client used to reach this server.
fn uris(headers: &HeaderMap) -> Uris {
    let host = headers
        .get(HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("localhost");
    let scheme = headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("http");
    Uris {
        base: format!("{scheme}://{host}"),
    }
}

fn quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

fn like_filter(column: &str, like: Option<&str>, joiner: &str) -> String {
    like.map(|pattern| format!(" {joiner} {column} LIKE {}", quote(pattern)))
        .unwrap_or_default()
}
