//! Trino's metadata tables of an Iceberg table: `"t$snapshots"`, `"t$history"`, `"t$refs"`,
//! `"t$properties"`, `"t$manifests"`, `"t$files"` and `"t$partitions"`, with Trino's columns,
//! and the answers of Trino's `SHOW STATS FOR t` (`"t$stats"`) and `SHOW CREATE TABLE t`
//! (`"t$ddl"`), which the Trino dialect reads through them so that they pin, and are
//! authorised, as the table is.
//!
//! Each is built when a query resolves it, from the same table metadata (and, for files,
//! manifests and partitions, the manifests of the same snapshot) that the query pins for `t`,
//! as a small in-memory table. They are read-only, never listed among a schema's tables, and
//! resolved through the same schema provider as `t`, so whatever may read `t` may read them.

mod column_stats;
mod ddl;
mod files;
mod history;
mod stats;
mod values;

use std::sync::Arc;

use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;
use datafusion::catalog::TableProvider;
use datafusion::datasource::MemTable;
use iceberg::table::Table;

use super::{CatalogError, MetadataTable, SnapshotId, TableRef};

/// The metadata table `kind` of `table`, at the snapshot the query pinned.
pub async fn metadata_table(
    table_ref: &TableRef,
    table: &Table,
    snapshot: Option<SnapshotId>,
    kind: MetadataTable,
) -> Result<Arc<dyn TableProvider>, CatalogError> {
    let batch = match kind {
        MetadataTable::Snapshots => history::snapshots(table.metadata()),
        MetadataTable::History => history::history(table.metadata()),
        MetadataTable::Refs => history::refs(table.metadata()),
        MetadataTable::Properties => history::properties(table.metadata()),
        MetadataTable::Manifests => files::manifests(table, snapshot).await,
        MetadataTable::Files => files::files(table, snapshot).await,
        MetadataTable::Partitions => files::partitions(table, snapshot).await,
        MetadataTable::Stats => stats::stats(table, snapshot).await,
        MetadataTable::Ddl => ddl::ddl(table_ref, table.metadata()),
    }
    .map_err(|e| match e {
        CatalogError::Metadata(message) => {
            CatalogError::Metadata(format!("{table_ref}: {message}"))
        }
        other => other,
    })?;
    let schema: SchemaRef = batch.schema();
    let provider = MemTable::try_new(schema, vec![vec![batch]])
        .map_err(|e| CatalogError::Metadata(format!("{table_ref}: {e}")))?;
    Ok(Arc::new(provider))
}

/// A batch from columns, or the error naming what failed.
fn batch(
    schema: SchemaRef,
    columns: Vec<arrow::array::ArrayRef>,
) -> Result<RecordBatch, CatalogError> {
    RecordBatch::try_new(schema, columns).map_err(|e| CatalogError::Metadata(e.to_string()))
}
