//! Saved queries for dashboards:
//!
//! * `PUT /v1/saved/{name}`: store `{"sql", "description"}` (or the SQL as a plain-text body).
//!   Only reads are taken; the SQL is checked before it is stored.
//! * `GET /v1/saved`, `GET /v1/saved/{name}`, `DELETE /v1/saved/{name}`.
//! * `GET /v1/saved/{name}/result?param=..&param=..[&catalog=..&schema=..]`: run it, the
//!   result in the format `Accept` asks for. The response carries an `ETag` made of the SQL,
//!   the parameters, the format and the `(table, snapshot)` pairs read; a request whose
//!   `If-None-Match` matches gets `304 Not Modified` after planning only (no scan), as long
//!   as no table it reads has a new snapshot.

use std::hash::{Hash, Hasher};
use std::net::SocketAddr;

use axum::Json;

use axum::extract::{ConnectInfo, Path, RawQuery, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, ETAG, IF_NONE_MATCH};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use datafusion::common::ScalarValue;
use serde::Deserialize;
use serde_json::json;

use super::format::Format;
use super::query::{engine_error, engine_response, format_of, http_session, stream_result};
use super::{Caller, LimitedBody, Shared, error};
use lakegate_coordinator::catalog::{SnapshotId, TableRef};
use lakegate_coordinator::saved::SavedError;

/// Every response is revalidated: a table can get a new snapshot at any moment, and the ETag
/// makes revalidation cheap.
const CACHE_CONTROL_VALUE: &str = "private, no-cache";

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PutRequest {
    sql: String,
    description: Option<String>,
}

pub async fn put(
    State(shared): State<Shared>,
    Caller(principal): Caller,
    Path(name): Path<String>,
    headers: HeaderMap,
    LimitedBody(body): LimitedBody,
) -> Response {
    let is_json = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    let request = if is_json {
        match serde_json::from_slice::<PutRequest>(&body) {
            Ok(request) => request,
            Err(e) => {
                return error(
                    StatusCode::BAD_REQUEST,
                    "MALFORMED_REQUEST",
                    format!(
                        "request body is not a saved query ({{\"sql\", \"description\"}}): {e}"
                    ),
                )
                .into_response();
            }
        }
    } else {
        match String::from_utf8(body.to_vec()) {
            Ok(sql) => PutRequest {
                sql,
                description: None,
            },
            Err(_) => {
                return error(
                    StatusCode::BAD_REQUEST,
                    "MALFORMED_REQUEST",
                    "request body is not UTF-8 SQL text",
                )
                .into_response();
            }
        }
    };
    let session = http_session(&shared, principal, None, None);
    match shared.engine.is_read(&session, &request.sql) {
        Ok(true) => {}
        Ok(false) => {
            return error(
                StatusCode::BAD_REQUEST,
                "NOT_A_QUERY",
                "a saved query must be a read (SELECT, WITH, VALUES, SHOW)",
            )
            .into_response();
        }
        Err(e) => return engine_error(e).into_response(),
    }
    match shared.saved.put(&name, request.sql, request.description) {
        Ok((query, replaced)) => {
            let status = if replaced {
                StatusCode::OK
            } else {
                StatusCode::CREATED
            };
            (status, Json(json!(query))).into_response()
        }
        Err(e) => saved_error(e),
    }
}

pub async fn list(State(shared): State<Shared>, _caller: Caller) -> Response {
    Json(json!({ "saved": shared.saved.list() })).into_response()
}

pub async fn get(
    State(shared): State<Shared>,
    _caller: Caller,
    Path(name): Path<String>,
) -> Response {
    match shared.saved.get(&name) {
        Ok(query) => Json(json!(query)).into_response(),
        Err(e) => saved_error(e),
    }
}

pub async fn delete(
    State(shared): State<Shared>,
    _caller: Caller,
    Path(name): Path<String>,
) -> Response {
    match shared.saved.delete(&name) {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => saved_error(e),
    }
}

/// The query string of a result request.
struct ResultRequest {
    params: Vec<ScalarValue>,
    catalog: Option<String>,
    schema: Option<String>,
}

fn parse_query_string(raw: Option<&str>) -> Result<ResultRequest, String> {
    let mut request = ResultRequest {
        params: Vec::new(),
        catalog: None,
        schema: None,
    };
    for (key, value) in url::form_urlencoded::parse(raw.unwrap_or("").as_bytes()) {
        match key.as_ref() {
            "param" => request
                .params
                .push(ScalarValue::Utf8(Some(value.into_owned()))),
            "catalog" => request.catalog = Some(value.into_owned()),
            "schema" => request.schema = Some(value.into_owned()),
            other => {
                return Err(format!(
                    "unknown query parameter {other:?}; use param (once per value, in order), \
                     catalog or schema"
                ));
            }
        }
    }
    Ok(request)
}

pub async fn result(
    State(shared): State<Shared>,
    Caller(principal): Caller,
    ConnectInfo(client): ConnectInfo<SocketAddr>,
    Path(name): Path<String>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Response {
    let saved = match shared.saved.get(&name) {
        Ok(saved) => saved,
        Err(e) => return saved_error(e),
    };
    let request = match parse_query_string(raw.as_deref()) {
        Ok(request) => request,
        Err(message) => {
            return error(StatusCode::BAD_REQUEST, "BAD_PARAMETER", message).into_response();
        }
    };
    let format = match format_of(&headers) {
        Ok(format) => format,
        Err(refused) => return *refused,
    };
    let session = http_session(&shared, principal, request.catalog, request.schema)
        .with_client_address(Some(client));
    let vars = session.vars();
    let etag_of = |snapshots: &[(TableRef, Option<SnapshotId>)]| {
        etag(
            &saved.sql,
            &request.params,
            format,
            (&vars.catalog, &vars.schema),
            snapshots,
        )
    };
    if let Some(wanted) = headers.get(IF_NONE_MATCH).and_then(|v| v.to_str().ok()) {
        let snapshots = match shared
            .engine
            .snapshots_now(&session, &saved.sql, &request.params)
            .await
        {
            Ok(snapshots) => snapshots,
            Err(e) => return engine_response(e),
        };
        let current = etag_of(&snapshots);
        if matches(wanted, &current) {
            tracing::debug!(saved = %name, etag = %current, "not modified");
            return not_modified(&current);
        }
    }
    let result = match shared
        .engine
        .execute_with(&session, &saved.sql, request.params.clone())
        .await
    {
        Ok(outcome) => outcome.into_result(),
        Err(e) => return engine_response(e),
    };
    let tag = etag_of(&result.snapshots);
    let mut response = stream_result(format, result);
    if response.status().is_success() {
        let headers = response.headers_mut();
        if let Ok(value) = HeaderValue::from_str(&tag) {
            headers.insert(ETAG, value);
        }
        headers.insert(CACHE_CONTROL, HeaderValue::from_static(CACHE_CONTROL_VALUE));
    }
    response
}

/// A strong ETag over everything that decides the bytes of the response.
fn etag(
    sql: &str,
    params: &[ScalarValue],
    format: Format,
    (catalog, schema): (&str, &str),
    snapshots: &[(TableRef, Option<SnapshotId>)],
) -> String {
    // SipHash with fixed keys: the same inputs give the same tag in every process, so a tag
    // stays valid across coordinator restarts and replicas.
    let mut hasher = std::hash::DefaultHasher::new();
    sql.hash(&mut hasher);
    for param in params {
        param.to_string().hash(&mut hasher);
        param.data_type().to_string().hash(&mut hasher);
    }
    format.content_type().hash(&mut hasher);
    catalog.hash(&mut hasher);
    schema.hash(&mut hasher);
    let mut pairs: Vec<String> = snapshots
        .iter()
        .map(|(table, snapshot)| format!("{table}@{}", snapshot.map_or(-1, |s| s.0)))
        .collect();
    pairs.sort();
    pairs.hash(&mut hasher);
    format!("\"lg-{:016x}\"", hasher.finish())
}

/// Whether an `If-None-Match` value (a list of tags, maybe weak, or `*`) names `current`.
fn matches(if_none_match: &str, current: &str) -> bool {
    if_none_match
        .split(',')
        .map(str::trim)
        .any(|tag| tag == "*" || tag.strip_prefix("W/").unwrap_or(tag) == current)
}

fn not_modified(tag: &str) -> Response {
    let mut response = StatusCode::NOT_MODIFIED.into_response();
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(tag) {
        headers.insert(ETAG, value);
    }
    headers.insert(CACHE_CONTROL, HeaderValue::from_static(CACHE_CONTROL_VALUE));
    response
}

fn saved_error(err: SavedError) -> Response {
    let (status, code) = match &err {
        SavedError::BadName(_) => (StatusCode::BAD_REQUEST, "BAD_NAME"),
        SavedError::NotFound(_) => (StatusCode::NOT_FOUND, "SAVED_QUERY_NOT_FOUND"),
        SavedError::Io { .. } | SavedError::BadFile { .. } => {
            (StatusCode::INTERNAL_SERVER_ERROR, "STORAGE")
        }
    };
    error(status, code, err).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn if_none_match_lists_weak_tags_and_star() {
        assert!(matches("\"a\", W/\"b\"", "\"b\""));
        assert!(matches("*", "\"b\""));
        assert!(!matches("\"a\"", "\"b\""));
    }
}
