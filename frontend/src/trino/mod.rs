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
//! Sessions speak the Trino dialect ([`lakegate_coordinator::dialect::trino`]); all SQL goes through the one
//! [`Engine`], and session statements come back as changes this front end turns into
//! `X-Trino-*` headers (the client keeps the session). Types and values are written as Trino
//! writes them ([`types`], [`values`]); errors as Trino's error objects ([`errors`]).

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{ConnectInfo, Path, State};
use axum::http::header::{AUTHORIZATION, HOST};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{Value, json};
use tracing::Instrument;

mod client;
mod errors;
mod results;
mod values;

use client::ClientSession;
use errors::query_error;
use results::{PageError, Results, Uris};

use crate::http::LimitedBody;
use lakegate_coordinator::auth::{Authenticator, Credentials, Principal};
use lakegate_coordinator::dialect::trino::types;
use lakegate_coordinator::engine::{Engine, Outcome, SessionChange, SessionCommand};
use lakegate_coordinator::error::EngineError;
use lakegate_coordinator::query::{QueryId, QueryResult};
use lakegate_coordinator::session::{ClientLabel, DialectName, Session, TIME_ZONE_SETTING};
use lakegate_coordinator::statement::TransactionOp;

/// How metrics and the query list label Trino clients.
pub const CLIENT: ClientLabel = ClientLabel::new("trino");

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
    LimitedBody(body): LimitedBody,
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
        .session_for(principal.clone(), CLIENT, DialectName::Trino)
        .with_client_address(Some(peer))
        .with_source(client.source.clone());
    if let Err(e) = apply_client_session(&trino.engine, &session, &client) {
        return answer_error(&uris, QueryId::new(), &e);
    }
    let span = tracing::info_span!(
        "trino",
        user = %principal,
        source = client.source.as_deref().unwrap_or("")
    );
    match run(&trino, &session, sql, &uris).instrument(span).await {
        Ok(answer) => respond(answer),
        Err(error) => {
            let body = finished_body(&uris, QueryId::new(), "FAILED", Some(error));
            (StatusCode::OK, Json(body)).into_response()
        }
    }
}

/// Runs one statement and renders its outcome: rows are paged; a session statement answers
/// with the headers that carry its changes to the client, which keeps the session.
async fn run(trino: &Trino, session: &Session, sql: &str, uris: &Uris) -> Result<Answer, Value> {
    let outcome = trino
        .engine
        .execute(session, sql)
        .await
        .map_err(|e| query_error(&e))?;
    let (id, update_type, headers) = match outcome {
        Outcome::Rows(result) => return Ok(page(trino, result, uris).await),
        Outcome::SessionChanged(update) => {
            let update_type = match update.command {
                SessionCommand::Set => "SET SESSION",
                SessionCommand::Reset => "RESET SESSION",
                SessionCommand::Use => "USE",
                SessionCommand::Prepare => "PREPARE",
                SessionCommand::Deallocate => "DEALLOCATE",
            };
            (update.id, update_type, session_headers(&update.changes))
        }
        Outcome::Transaction { id, op } => {
            let update_type = match op {
                TransactionOp::Begin => "START TRANSACTION",
                TransactionOp::Commit => "COMMIT",
                TransactionOp::Rollback => "ROLLBACK",
            };
            (id, update_type, HeaderMap::new())
        }
    };
    let mut body = finished_body(uris, id, "FINISHED", None);
    body["updateType"] = Value::String(update_type.to_string());
    Ok(Answer { body, headers })
}

/// The `X-Trino-Set-*`, `-Clear-Session`, `-Added-Prepare` and `-Deallocated-Prepare`
/// headers that apply `changes` to the client's session.
fn session_headers(changes: &[SessionChange]) -> HeaderMap {
    let mut headers = HeaderMap::new();
    for change in changes {
        match change {
            SessionChange::Catalog(catalog) => {
                client::add(&mut headers, client::SET_CATALOG, catalog.clone());
            }
            SessionChange::Schema(schema) => {
                client::add(&mut headers, client::SET_SCHEMA, schema.clone());
            }
            SessionChange::Setting { name, value } => client::add(
                &mut headers,
                client::SET_SESSION,
                format!("{name}={}", client::encode(value)),
            ),
            SessionChange::TimeZone(zone) => client::add(
                &mut headers,
                client::SET_SESSION,
                format!("{TIME_ZONE_SETTING}={}", client::encode(zone)),
            ),
            SessionChange::SettingCleared(name) => {
                client::add(&mut headers, client::CLEAR_SESSION, name.clone());
            }
            SessionChange::PreparedAdded { name, sql } => client::add(
                &mut headers,
                client::ADDED_PREPARE,
                format!("{name}={}", client::encode(sql)),
            ),
            SessionChange::PreparedRemoved(name) => {
                client::add(&mut headers, client::DEALLOCATED_PREPARE, name.clone());
            }
        }
    }
    headers
}

/// Registers a result for paging and answers with its columns and first page.
async fn page(trino: &Trino, result: QueryResult, uris: &Uris) -> Answer {
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
    Answer {
        body,
        headers: HeaderMap::new(),
    }
}

async fn next_page(
    State(trino): State<Trino>,
    Path((id, slug, token)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> Response {
    let (Ok(id), Ok(token)) = (id.parse::<QueryId>(), token.parse::<u64>()) else {
        return refuse(StatusCode::NOT_FOUND, "not a query URI");
    };
    let uris = uris(&headers);
    match trino.results.page(id, &slug, token, &uris).await {
        Ok(body) => (StatusCode::OK, Json(body)).into_response(),
        Err(PageError::Gone) if let Some(lost) = EngineError::lost_in_restart(id) => {
            answer_error(&uris, id, &lost)
        }
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
        .cancel(id, &slug, &trino.engine.queries())
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
    match trino.engine.queries().get(id) {
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
    let credentials =
        Credentials::from_header_value(headers.get(AUTHORIZATION).map(|v| v.as_bytes()))
            .map_err(|e| e.to_string())?;
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
        vars.prepared = client.prepared.clone();
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

/// Query `id` failed with `err`.
fn answer_error(uris: &Uris, id: QueryId, err: &EngineError) -> Response {
    let body = finished_body(uris, id, "FAILED", Some(query_error(err)));
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
