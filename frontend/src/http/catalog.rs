//! Catalog browsing over HTTP: catalogs, their schemas, a schema's tables, a table's columns.
//!
//! ```text
//! GET /v1/catalogs
//! GET /v1/catalogs/{catalog}/schemas
//! GET /v1/catalogs/{catalog}/schemas/{schema}/tables
//! GET /v1/catalogs/{catalog}/schemas/{schema}/tables/{table}
//! ```

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde_json::{Value, json};

use super::query::engine_error;
use super::{Caller, Shared, error};
use lakegate_coordinator::Session;
use lakegate_coordinator::auth::Principal;
use lakegate_coordinator::catalog::{Listing, TableRef};

type Reply = (StatusCode, Json<Value>);

pub async fn catalogs(State(shared): State<Shared>, Caller(principal): Caller) -> Reply {
    let session = shared.engine.new_session(principal);
    let catalogs = shared.engine.browse(&session).catalogs();
    (StatusCode::OK, Json(json!({ "catalogs": catalogs })))
}

pub async fn schemas(
    State(shared): State<Shared>,
    Caller(principal): Caller,
    Path(catalog): Path<String>,
) -> Reply {
    match listing(&shared, principal, &catalog).await {
        Ok(listing) => {
            let schemas: Vec<_> = listing.schemas.keys().collect();
            (StatusCode::OK, Json(json!({ "schemas": schemas })))
        }
        Err(refused) => refused,
    }
}

pub async fn tables(
    State(shared): State<Shared>,
    Caller(principal): Caller,
    Path((catalog, schema)): Path<(String, String)>,
) -> Reply {
    match listing(&shared, principal, &catalog).await {
        Ok(listing) => match listing.schemas.get(&schema) {
            Some(tables) => (StatusCode::OK, Json(json!({ "tables": tables }))),
            None => error(
                StatusCode::NOT_FOUND,
                "SCHEMA_NOT_FOUND",
                format!("schema {schema} not found in catalog {catalog}"),
            ),
        },
        Err(refused) => refused,
    }
}

/// A table's columns with their SQL types as DataFusion reports them.
pub async fn table(
    State(shared): State<Shared>,
    Caller(principal): Caller,
    Path((catalog, schema, table)): Path<(String, String, String)>,
) -> Reply {
    let session = shared.engine.new_session(principal);
    if let Err(refused) = known_catalog(&shared, &session, &catalog) {
        return refused;
    }
    let table_ref = TableRef::new(&catalog, &schema, &table);
    let columns = match shared.engine.browse(&session).columns(&table_ref).await {
        Ok(Some(columns)) => columns,
        Ok(None) => {
            return error(
                StatusCode::NOT_FOUND,
                "TABLE_NOT_FOUND",
                format!("table {table_ref} not found"),
            );
        }
        Err(e) => return engine_error(e),
    };
    let columns: Vec<Value> = columns
        .fields()
        .iter()
        .map(|f| json!({ "name": f.name(), "type": f.data_type().to_string(), "nullable": f.is_nullable() }))
        .collect();
    (
        StatusCode::OK,
        Json(json!({ "catalog": catalog, "schema": schema, "name": table, "columns": columns })),
    )
}

/// The listing of `catalog` an authenticated caller may read, or the error reply.
async fn listing(shared: &Shared, principal: Principal, catalog: &str) -> Result<Listing, Reply> {
    let session = shared.engine.new_session(principal);
    known_catalog(shared, &session, catalog)?;
    shared
        .engine
        .browse(&session)
        .listing()
        .await
        .map_err(engine_error)
}

fn known_catalog(shared: &Shared, session: &Session, catalog: &str) -> Result<(), Reply> {
    if shared.engine.browse(session).has_catalog(catalog) {
        Ok(())
    } else {
        Err(error(
            StatusCode::NOT_FOUND,
            "CATALOG_NOT_FOUND",
            format!("catalog {catalog} not found"),
        ))
    }
}
