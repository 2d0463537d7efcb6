//! Catalog metadata commands (GetCatalogs, GetDbSchemas, GetTables, GetTableTypes and the key
//! commands) answered from the lake.

use std::sync::Arc;

use arrow::datatypes::{DataType, Field, Schema};
use arrow::record_batch::RecordBatch;
use arrow_flight::sql::{
    CommandGetCatalogs, CommandGetDbSchemas, CommandGetTableTypes, CommandGetTables,
};
use tonic::Status;

use super::status::engine_status;
use lakegate_coordinator::catalog::TableRef;
use lakegate_coordinator::{Engine, Session};

/// Iceberg tables are what JDBC calls a `TABLE`.
pub const TABLE_TYPE: &str = "TABLE";

fn arrow_status(err: impl std::fmt::Display) -> Status {
    Status::internal(format!("building metadata result: {err}"))
}

pub fn catalogs(
    engine: &Engine,
    session: &Session,
    query: CommandGetCatalogs,
) -> Result<RecordBatch, Status> {
    let mut builder = query.into_builder();
    for catalog in engine.browse(session).catalogs() {
        builder.append(catalog);
    }
    builder.build().map_err(arrow_status)
}

/// With no catalog in the request, every catalog's schemas are listed: those the caller may
/// read.
pub async fn schemas(
    engine: &Engine,
    session: &Session,
    query: CommandGetDbSchemas,
) -> Result<RecordBatch, Status> {
    let browser = engine.browse(session);
    let listing = browser.listing().await.map_err(engine_status)?;
    let mut builder = query.into_builder();
    for catalog in browser.catalogs() {
        for schema in listing.schemas.keys() {
            builder.append(&catalog, schema);
        }
    }
    builder.build().map_err(arrow_status)
}

/// Tables of every matching schema the caller may read; with `include_schema`, each table's
/// columns as the caller reads them.
pub async fn tables(
    engine: &Engine,
    session: &Session,
    query: CommandGetTables,
) -> Result<RecordBatch, Status> {
    let browser = engine.browse(session);
    let listing = browser.listing().await.map_err(engine_status)?;
    let catalogs = browser.catalogs();
    let Some(catalog) = catalogs.first() else {
        return query.into_builder().build().map_err(arrow_status);
    };
    let include_schema = query.include_schema;
    let mut builder = query.into_builder();
    for (schema, tables) in &listing.schemas {
        for table in tables {
            let arrow_schema = if include_schema {
                let table_ref = TableRef::new(catalog, schema, table);
                match browser.columns(&table_ref).await {
                    Ok(Some(columns)) => columns,
                    // Dropped since the listing was taken.
                    Ok(None) => continue,
                    Err(e) => return Err(engine_status(e)),
                }
            } else {
                Arc::new(Schema::empty())
            };
            builder
                .append(catalog, schema, table, TABLE_TYPE, &arrow_schema)
                .map_err(arrow_status)?;
        }
    }
    builder.build().map_err(arrow_status)
}

/// `GetTableTypes`: Iceberg tables are the only kind.
pub fn table_types(query: CommandGetTableTypes) -> Result<RecordBatch, Status> {
    let mut builder = query.into_builder();
    builder.append(TABLE_TYPE);
    builder.build().map_err(arrow_status)
}

/// `GetPrimaryKeys` answers with no rows: Iceberg tables declare no keys. The schema is the
/// one Flight SQL defines, so drivers can read the empty answer.
pub fn no_primary_keys() -> RecordBatch {
    RecordBatch::new_empty(Arc::new(Schema::new(vec![
        Field::new("catalog_name", DataType::Utf8, true),
        Field::new("db_schema_name", DataType::Utf8, true),
        Field::new("table_name", DataType::Utf8, false),
        Field::new("column_name", DataType::Utf8, false),
        Field::new("key_name", DataType::Utf8, true),
        Field::new("key_sequence", DataType::Int32, false),
    ])))
}

/// `GetImportedKeys`, `GetExportedKeys` and `GetCrossReference` answer with no rows, in the
/// schema Flight SQL defines for foreign keys.
pub fn no_foreign_keys() -> RecordBatch {
    let name = |n: &str, nullable| Field::new(n, DataType::Utf8, nullable);
    RecordBatch::new_empty(Arc::new(Schema::new(vec![
        name("pk_catalog_name", true),
        name("pk_db_schema_name", true),
        name("pk_table_name", false),
        name("pk_column_name", false),
        name("fk_catalog_name", true),
        name("fk_db_schema_name", true),
        name("fk_table_name", false),
        name("fk_column_name", false),
        Field::new("key_sequence", DataType::Int32, false),
        name("fk_key_name", true),
        name("pk_key_name", true),
        Field::new("update_rule", DataType::UInt8, false),
        Field::new("delete_rule", DataType::UInt8, false),
    ])))
}
