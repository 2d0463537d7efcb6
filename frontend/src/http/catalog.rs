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
use axum::http::{HeaderMap, StatusCode};
use serde_json::{Value, json};

use super::query::engine_error;
use super::{Shared, caller, error};
use lakegate_coordinator::catalog::{Listing, TableRef};

type Reply = (StatusCode, Json<Value>);

pub async fn catalogs(State(shared): State<Shared>, headers: HeaderMap) -> Reply {
    if let Err(refused) = caller(&shared, &headers) {
        return refused;
    }
    (
        StatusCode::OK,
        Json(json!({ "catalogs": [shared.engine.lake().name()] })),
    )
}

pub async fn schemas(
    State(shared): State<Shared>,
    Path(catalog): Path<String>,
    headers: HeaderMap,
) -> Reply {
    match listing(&shared, &headers, &catalog).await {
        Ok(listing) => {
            let schemas: Vec<_> = listing.schemas.keys().collect();
            (StatusCode::OK, Json(json!({ "schemas": schemas })))
        }
        Err(refused) => refused,
    }
}

pub async fn tables(
    State(shared): State<Shared>,
    Path((catalog, schema)): Path<(String, String)>,
    headers: HeaderMap,
) -> Reply {
    match listing(&shared, &headers, &catalog).await {
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
    Path((catalog, schema, table)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> Reply {
    let session = match caller(&shared, &headers) {
        Ok(principal) => shared.engine.new_session(principal),
        Err(refused) => return refused,
    };
    if let Err(refused) = known_catalog(&shared, &catalog) {
        return refused;
    }
    let table_ref = TableRef::new(&catalog, &schema, &table);
    let columns = match shared.engine.table_schema(&session, &table_ref).await {
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
async fn listing(shared: &Shared, headers: &HeaderMap, catalog: &str) -> Result<Listing, Reply> {
    let principal = caller(shared, headers)?;
    known_catalog(shared, catalog)?;
    let session = shared.engine.new_session(principal);
    shared.engine.listing(&session).await.map_err(engine_error)
}

fn known_catalog(shared: &Shared, catalog: &str) -> Result<(), Reply> {
    if catalog == shared.engine.lake().name() {
        Ok(())
    } else {
        Err(error(
            StatusCode::NOT_FOUND,
            "CATALOG_NOT_FOUND",
            format!("catalog {catalog} not found"),
        ))
    }
}
