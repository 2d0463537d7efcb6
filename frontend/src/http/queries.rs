//! Operations on queries: `GET /v1/queries` (running, then recent), `GET /v1/queries/{id}`,
//! `DELETE /v1/queries/{id}` (cancel), `GET /`, a page listing them for a browser, and
//! `GET /ui/query/{id}`, one query's page with its distributed plan. Users
//! see and cancel their own queries; operators (`auth.operators`, everyone in open mode) all.

use std::fmt::Write as _;

use axum::Json;
use axum::extract::{FromRequestParts, Path, State};
use axum::http::header::{CONTENT_TYPE, WWW_AUTHENTICATE};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::{Caller, Shared, error};
use lakegate_coordinator::auth::Principal;
use lakegate_coordinator::query::QueryId;
use lakegate_coordinator::tracker::{CancelOutcome, QueryInfo};

/// How often the page at `/` reloads itself.
const PAGE_REFRESH_SECS: u32 = 5;

pub async fn list(State(shared): State<Shared>, Caller(principal): Caller) -> Response {
    let queries: Vec<Value> = visible(&shared, &principal).iter().map(to_json).collect();
    Json(json!({ "queries": queries })).into_response()
}

pub async fn one(
    State(shared): State<Shared>,
    Caller(principal): Caller,
    QueryIdPath(id): QueryIdPath,
) -> Response {
    match visible(&shared, &principal).iter().find(|q| q.id == id) {
        Some(query) => {
            // The plan only here: the list is polled, and plans run to kilobytes each.
            let mut body = to_json(query);
            body["plan"] = json!(query.plan.as_deref());
            Json(body).into_response()
        }
        None => not_found(id),
    }
}

pub async fn cancel(
    State(shared): State<Shared>,
    Caller(principal): Caller,
    QueryIdPath(id): QueryIdPath,
) -> Response {
    let operator = shared.auth.is_operator(&principal);
    match shared.engine.queries().cancel(id, &principal, operator) {
        CancelOutcome::Cancelled => {
            tracing::info!(%id, user = %principal, "query cancelled over HTTP");
            Json(json!({ "id": id.to_string(), "cancelled": true })).into_response()
        }
        CancelOutcome::AlreadyDone => error(
            StatusCode::CONFLICT,
            "ALREADY_FINISHED",
            format!("query {id} has already ended"),
        )
        .into_response(),
        CancelOutcome::NotFound => not_found(id),
    }
}

/// The page at `/`: the queries the caller may see, refreshed every few seconds, each linked
/// to its own page. Browsers are asked for Basic credentials when the gateway needs them.
pub async fn page(
    State(shared): State<Shared>,
    caller: Result<Caller, (StatusCode, Json<Value>)>,
) -> Response {
    let principal = match signed_in(caller) {
        Ok(principal) => principal,
        Err(refused) => return *refused,
    };
    let queries = visible(&shared, &principal);
    let mut html = head("lakegate queries", Some(PAGE_REFRESH_SECS));
    let _ = write!(
        html,
        "<h1>lakegate</h1><p>{} queries running, {} shown; signed in as {}.</p>\
         <table><tr><th>id</th><th>state</th><th>user</th><th>front end</th><th>elapsed</th>\
         <th>rows</th><th>bytes</th><th>SQL</th></tr>",
        queries.iter().filter(|q| !q.state.is_done()).count(),
        queries.len(),
        escape(&principal.name),
    );
    for query in &queries {
        let _ = write!(
            html,
            "<tr><td><a href=\"/ui/query/{id}\">{id}</a></td><td class=\"{state}\">{state}</td>\
             <td>{}</td><td>{}</td><td>{:.3} s</td><td>{}</td><td>{}</td>\
             <td class=\"sql\">{}{}</td></tr>",
            escape(&query.user),
            query.front_end,
            query.elapsed.as_secs_f64(),
            query.rows,
            query.bytes,
            escape(&query.sql),
            failure(query),
            id = query.id,
            state = query.state.as_str(),
        );
    }
    html.push_str("</table></body></html>\n");
    html_response(html)
}

/// `/ui/query/{id}`: one query as an operator looks into it, like Trino's query detail: who,
/// when, how long it queued and ran, what it returned, how it failed, and the distributed plan
/// it runs (stages, tasks, scans) as EXPLAIN draws it.
pub async fn detail(
    State(shared): State<Shared>,
    caller: Result<Caller, (StatusCode, Json<Value>)>,
    QueryIdPath(id): QueryIdPath,
) -> Response {
    let principal = match signed_in(caller) {
        Ok(principal) => principal,
        Err(refused) => return *refused,
    };
    let Some(query) = visible(&shared, &principal)
        .into_iter()
        .find(|q| q.id == id)
    else {
        return not_found(id);
    };
    let refresh = (!query.state.is_done()).then_some(PAGE_REFRESH_SECS);
    let mut html = head(&format!("lakegate query {id}"), refresh);
    let started: chrono::DateTime<chrono::Utc> = query.started.into();
    let _ = writeln!(
        html,
        "<p><a href=\"/\">all queries</a></p><h1>Query {id}</h1><table>\
         <tr><th>state</th><td class=\"{state}\">{state}{}</td></tr>\
         <tr><th>user</th><td>{}</td></tr><tr><th>front end</th><td>{}</td></tr>\
         <tr><th>started</th><td>{}</td></tr><tr><th>queued</th><td>{:.3} s</td></tr>\
         <tr><th>elapsed</th><td>{:.3} s</td></tr><tr><th>rows</th><td>{}</td></tr>\
         <tr><th>bytes</th><td>{}</td></tr></table><h2>SQL</h2><pre>{}</pre><h2>Plan</h2><pre>{}</pre>\
         </body></html>",
        failure(&query),
        escape(&query.user),
        query.front_end,
        started.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        query.queued.as_secs_f64(),
        query.elapsed.as_secs_f64(),
        query.rows,
        query.bytes,
        escape(&query.sql),
        query
            .plan
            .as_deref()
            .map(escape)
            .unwrap_or_else(|| "not planned".into()),
        state = query.state.as_str(),
    );
    html_response(html)
}

/// The caller of a page, or the 401 that makes a browser ask for Basic credentials.
fn signed_in(
    caller: Result<Caller, (StatusCode, Json<Value>)>,
) -> Result<Principal, Box<Response>> {
    caller
        .map(|Caller(principal)| principal)
        .map_err(|refused| {
            let mut response = refused.into_response();
            response.headers_mut().insert(
                WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"lakegate\""),
            );
            Box::new(response)
        })
}

/// A page's head and the start of its body; pages of running queries reload themselves.
fn head(title: &str, refresh_secs: Option<u32>) -> String {
    let refresh = refresh_secs
        .map(|secs| format!("<meta http-equiv=\"refresh\" content=\"{secs}\">"))
        .unwrap_or_default();
    format!(
        "<!doctype html><html><head><meta charset=\"utf-8\">{refresh}\
         <title>{}</title><style>\
         body{{font-family:sans-serif;margin:1.5em}}table{{border-collapse:collapse;width:100%}}\
         td,th{{border-bottom:1px solid #ddd;padding:4px 8px;text-align:left;vertical-align:top}}\
         td.sql,pre{{font-family:monospace;white-space:pre-wrap;max-width:60em}}\
         .RUNNING,.PLANNING{{color:#06c}}.FAILED{{color:#c00}}.CANCELLED{{color:#a60}}\
         </style></head><body>",
        escape(title)
    )
}

/// A failed query's error, for after its state.
fn failure(query: &QueryInfo) -> String {
    query
        .error
        .as_deref()
        .map(|e| format!("<br><b>{}</b>", escape(e)))
        .unwrap_or_default()
}

fn html_response(html: String) -> Response {
    let mut response = html.into_response();
    response.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    response
}

fn visible(shared: &Shared, principal: &Principal) -> Vec<QueryInfo> {
    let all = shared.engine.queries().list();
    if shared.auth.is_operator(principal) {
        return all;
    }
    all.into_iter()
        .filter(|q| q.user == principal.name)
        .collect()
}

pub(super) fn to_json(query: &QueryInfo) -> Value {
    let started: chrono::DateTime<chrono::Utc> = query.started.into();
    json!({
        "id": query.id.to_string(),
        "user": query.user,
        "front_end": query.front_end.as_str(),
        "state": query.state.as_str(),
        "sql": query.sql,
        "started": started.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        "elapsed_ms": query.elapsed.as_millis() as u64,
        "queued_ms": query.queued.as_millis() as u64,
        "rows": query.rows,
        "bytes": query.bytes,
        "error": query.error,
    })
}

/// The query id a `/v1/queries/{id}` route names; anything but a UUID is refused before the
/// handler runs.
pub struct QueryIdPath(QueryId);

impl<S: Send + Sync> FromRequestParts<S> for QueryIdPath {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let Path(text) = Path::<String>::from_request_parts(parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        text.parse().map(QueryIdPath).map_err(|_| {
            error(
                StatusCode::BAD_REQUEST,
                "BAD_QUERY_ID",
                format!("{text:?} is not a query id (a UUID)"),
            )
            .into_response()
        })
    }
}

fn not_found(id: QueryId) -> Response {
    error(
        StatusCode::NOT_FOUND,
        "QUERY_NOT_FOUND",
        format!("no query {id} of yours is running or ran recently"),
    )
    .into_response()
}

/// Text safe inside HTML elements.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}
