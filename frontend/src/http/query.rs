//! `POST /v1/query`: `{"sql", "params", "catalog", "schema"}` in, the result streamed out in
//! the format `Accept` asks for ([`super::format`]).

use std::net::SocketAddr;

use axum::body::Body;
use axum::extract::{ConnectInfo, State};
use axum::http::header::{ACCEPT, CONTENT_TYPE, RETRY_AFTER};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use datafusion::common::ScalarValue;
use futures::{StreamExt, stream};
use serde::Deserialize;
use serde_json::Value;

use super::format::{Format, Writer};
use super::{Caller, LimitedBody, Shared, error};
use lakegate_coordinator::auth::Principal;
use lakegate_coordinator::error::EngineError;
use lakegate_coordinator::query::QueryResult;
use lakegate_coordinator::session::ClientLabel;
use lakegate_coordinator::session::Session;
use lakegate_coordinator::statement::StatementError;

/// The request body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct QueryRequest {
    sql: String,
    #[serde(default)]
    params: Vec<Value>,
    catalog: Option<String>,
    schema: Option<String>,
}

/// How metrics and the query list label this front end's clients.
pub const CLIENT: ClientLabel = ClientLabel::new("http");

pub async fn query(
    State(shared): State<Shared>,
    Caller(principal): Caller,
    ConnectInfo(client): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    LimitedBody(body): LimitedBody,
) -> Response {
    let request: QueryRequest = match serde_json::from_slice(&body) {
        Ok(request) => request,
        Err(e) => {
            return error(
                StatusCode::BAD_REQUEST,
                "MALFORMED_REQUEST",
                format!("request body is not a query request: {e}"),
            )
            .into_response();
        }
    };
    let format = match format_of(&headers) {
        Ok(format) => format,
        Err(refused) => return *refused,
    };
    let params = match request.params.iter().enumerate().map(scalar).collect() {
        Ok(params) => params,
        Err(message) => {
            return error(StatusCode::BAD_REQUEST, "BAD_PARAMETER", message).into_response();
        }
    };
    let session = http_session(&shared, principal, request.catalog, request.schema)
        .with_client_address(Some(client));
    let result = match shared
        .engine
        .execute_with(&session, &request.sql, params)
        .await
    {
        Ok(result) => result,
        Err(e) => return engine_response(e),
    };
    stream_result(format, result.into_result())
}

/// [`engine_error`] as a response; a full resource group queue also says when to retry.
pub(super) fn engine_response(err: EngineError) -> Response {
    let queue_full = matches!(err, EngineError::QueueFull { .. });
    let mut response = engine_error(err).into_response();
    if queue_full {
        response
            .headers_mut()
            .insert(RETRY_AFTER, HeaderValue::from_static(RETRY_AFTER_SECS));
    }
    response
}

/// What a client refused for a full queue is told to wait before retrying.
const RETRY_AFTER_SECS: &str = "1";

/// The result format `Accept` asks for; a 406 naming what is offered otherwise.
pub(super) fn format_of(headers: &HeaderMap) -> Result<Format, Box<Response>> {
    let accept = headers.get(ACCEPT).and_then(|v| v.to_str().ok());
    Format::from_accept(accept).map_err(|message| {
        Box::new(error(StatusCode::NOT_ACCEPTABLE, "UNSUPPORTED_FORMAT", message).into_response())
    })
}

/// A session of an HTTP request, in the catalog and schema it names.
pub(super) fn http_session(
    shared: &Shared,
    principal: Principal,
    catalog: Option<String>,
    schema: Option<String>,
) -> Session {
    let session = shared
        .engine
        .session_for(principal, CLIENT, shared.engine.default_dialect());
    session.update(|vars| {
        if let Some(catalog) = catalog {
            vars.catalog = catalog;
        }
        if let Some(schema) = schema {
            vars.schema = schema;
        }
    });
    session
}

/// The response streaming `result` in `format`: head, one chunk per batch, tail; a failure
/// mid-stream ends the body early (the status line has gone out by then).
pub(super) fn stream_result(format: Format, result: QueryResult) -> Response {
    let mut writer = match Writer::new(format, result.schema.clone()) {
        Ok(writer) => writer,
        Err(e) => return error(StatusCode::INTERNAL_SERVER_ERROR, "INTERNAL", e).into_response(),
    };
    let head = writer.head();
    let id = result.id;
    let rows = result.stream;
    // Head, one chunk per batch, tail; a failure mid-stream ends the body with an error.
    let chunks = stream::once(async move { head })
        .chain(stream::unfold(
            (rows, writer, false),
            move |(mut rows, mut writer, done)| async move {
                if done {
                    return None;
                }
                match rows.next().await {
                    Some(Ok(batch)) => Some((writer.batch(&batch), (rows, writer, false))),
                    Some(Err(e)) => {
                        let message = EngineError::running(e).to_string();
                        tracing::warn!(%id, %message, "query failed while streaming over HTTP");
                        Some((Err(message), (rows, writer, true)))
                    }
                    None => Some((writer.tail(), (rows, writer, true))),
                }
            },
        ))
        .map(|chunk| chunk.map_err(std::io::Error::other));
    let mut response = Body::from_stream(chunks).into_response();
    response.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static(format.content_type()),
    );
    if let Ok(value) = HeaderValue::from_str(&id.to_string()) {
        response.headers_mut().insert("x-lakegate-query-id", value);
    }
    response
}

/// A JSON parameter as a SQL value: null, booleans, integers, floats and strings.
fn scalar((index, value): (usize, &Value)) -> Result<ScalarValue, String> {
    match value {
        Value::Null => Ok(ScalarValue::Null),
        Value::Bool(b) => Ok(ScalarValue::Boolean(Some(*b))),
        Value::Number(n) => n
            .as_i64()
            .map(|i| ScalarValue::Int64(Some(i)))
            .or_else(|| n.as_f64().map(|f| ScalarValue::Float64(Some(f))))
            .ok_or_else(|| format!("parameter {}: {n} is out of range", index + 1)),
        Value::String(s) => Ok(ScalarValue::Utf8(Some(s.clone()))),
        other => Err(format!(
            "parameter {}: {other} is not a null, boolean, number or string",
            index + 1
        )),
    }
}

/// The HTTP status and JSON error of an engine error.
pub(super) fn engine_error(err: EngineError) -> (StatusCode, axum::Json<Value>) {
    let position = err.position().map(|p| p.to_string());
    let message = match &position {
        Some(position) => format!("{err} ({position})"),
        None => err.to_string(),
    };
    let (status, code) = match &err {
        EngineError::Statement(StatementError::ReadOnly { .. }) => {
            (StatusCode::FORBIDDEN, "READ_ONLY")
        }
        EngineError::AccessDenied { .. } => (StatusCode::FORBIDDEN, "PERMISSION_DENIED"),
        EngineError::QueueFull { .. } => (StatusCode::TOO_MANY_REQUESTS, "QUERY_QUEUE_FULL"),
        EngineError::Statement(StatementError::TooLarge { .. }) => {
            (StatusCode::PAYLOAD_TOO_LARGE, "QUERY_TEXT_TOO_LARGE")
        }
        EngineError::Statement(
            StatementError::TooDeep { .. } | StatementError::NestedTooDeep { .. },
        ) => (StatusCode::BAD_REQUEST, "QUERY_TEXT_TOO_LARGE"),
        EngineError::Statement(_)
        | EngineError::Plan { .. }
        | EngineError::Setting { .. }
        | EngineError::Parameter { .. } => (StatusCode::BAD_REQUEST, "INVALID_SQL"),
        EngineError::UnknownFunction { .. } => (StatusCode::BAD_REQUEST, "FUNCTION_NOT_FOUND"),
        EngineError::UnknownColumn { .. } => (StatusCode::BAD_REQUEST, "COLUMN_NOT_FOUND"),
        EngineError::DivisionByZero => (StatusCode::BAD_REQUEST, "DIVISION_BY_ZERO"),
        EngineError::InvalidCast { .. } => (StatusCode::BAD_REQUEST, "INVALID_CAST_ARGUMENT"),
        EngineError::OutOfRange { .. } => (StatusCode::BAD_REQUEST, "NUMERIC_VALUE_OUT_OF_RANGE"),
        EngineError::TypeMismatch { .. } => (StatusCode::BAD_REQUEST, "TYPE_MISMATCH"),
        EngineError::UnknownTable { .. }
        | EngineError::UnknownSchema { .. }
        | EngineError::UnknownPrepared { .. } => (StatusCode::NOT_FOUND, "NOT_FOUND"),
        EngineError::Catalog { .. } | EngineError::NoExecutors | EngineError::ShuttingDown => {
            (StatusCode::SERVICE_UNAVAILABLE, "UNAVAILABLE")
        }
        EngineError::QueryLost { .. } => (StatusCode::SERVICE_UNAVAILABLE, "QUERY_LOST"),
        EngineError::MemoryLimit { .. } => (StatusCode::SERVICE_UNAVAILABLE, "MEMORY_LIMIT"),
        EngineError::TimedOut { .. } => (StatusCode::GATEWAY_TIMEOUT, "TIMED_OUT"),
        EngineError::Cancelled { .. } => (StatusCode::CONFLICT, "CANCELLED"),
        EngineError::Execution { .. } | EngineError::Internal(_) => {
            (StatusCode::INTERNAL_SERVER_ERROR, "QUERY_FAILED")
        }
    };
    error(status, code, message)
}
