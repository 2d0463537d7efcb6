//! [`IcebergTableProvider`]: one table at one snapshot, as DataFusion plans against it.

use std::sync::Arc;

use arrow::datatypes::SchemaRef;
use async_trait::async_trait;
use datafusion::catalog::{Session, TableProvider};
use datafusion::error::{DataFusionError, Result};
use datafusion::logical_expr::{Expr, TableProviderFilterPushDown, TableType};
use datafusion::physical_plan::ExecutionPlan;
use datafusion::physical_plan::empty::EmptyExec;
use iceberg::table::Table;
use lakegate_iceberg::RunningTasks;
use lakegate_iceberg::scan::{
    ScanRequest, arrow_schema, arrow_schema_with_hidden, plan_scan, to_iceberg_predicate,
};

use super::{CatalogError, SnapshotId, TableRef};

/// A table pinned to the snapshot that was current when the query resolved it. It keeps the
/// metadata it was loaded with, so later commits to the table never change what it plans.
#[derive(Debug)]
pub struct IcebergTableProvider {
    table_ref: TableRef,
    table: Table,
    snapshot_id: Option<SnapshotId>,
    schema: SchemaRef,
}

impl IcebergTableProvider {
    /// Pins `table` at its current snapshot (a table with no snapshot yet reads as empty).
    pub fn pinned(table_ref: TableRef, table: Table) -> Result<Self, CatalogError> {
        let current = table.metadata().current_snapshot_id().map(SnapshotId);
        Self::at(table_ref, table, current, false)
    }

    /// Pins `table` at `snapshot`, read with the schema that snapshot was written with (as
    /// Trino reads an older version); `None` reads as empty. With `hidden_columns` its schema
    /// ends with `"$path"` and `"$file_modified_time"`.
    pub fn at(
        table_ref: TableRef,
        table: Table,
        snapshot: Option<SnapshotId>,
        hidden_columns: bool,
    ) -> Result<Self, CatalogError> {
        let metadata = table.metadata();
        let snapshot = snapshot.and_then(|id| metadata.snapshot_by_id(id.0));
        let iceberg_schema = match snapshot {
            Some(s) => s.schema(metadata),
            None => Ok(metadata.current_schema().clone()),
        }
        .map_err(|source| CatalogError::iceberg(format!("schema of {table_ref}"), source))?;
        let schema = if hidden_columns {
            arrow_schema_with_hidden(&iceberg_schema)
        } else {
            arrow_schema(&iceberg_schema)
        };
        let schema = schema.map_err(|source| CatalogError::Scan {
            table: table_ref.to_string(),
            source: Box::new(source),
        })?;
        Ok(Self {
            snapshot_id: snapshot.map(|s| SnapshotId(s.snapshot_id())),
            table_ref,
            table,
            schema,
        })
    }

    pub fn table_ref(&self) -> &TableRef {
        &self.table_ref
    }

    /// The snapshot this query reads; `None` for a table that has never been written.
    pub fn snapshot_id(&self) -> Option<SnapshotId> {
        self.snapshot_id
    }
}

#[async_trait]
impl TableProvider for IcebergTableProvider {
    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    fn table_type(&self) -> TableType {
        TableType::Base
    }

    async fn scan(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        limit: Option<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let Some(snapshot) = self.snapshot_id else {
            let schema = match projection {
                Some(p) => Arc::new(self.schema.project(p)?),
                None => self.schema.clone(),
            };
            return Ok(Arc::new(EmptyExec::new(schema)));
        };
        let exec = plan_scan(ScanRequest {
            table: &self.table,
            table_name: self.table_ref.to_string(),
            snapshot_id: snapshot.0,
            projection: projection.cloned(),
            filters: to_iceberg_predicate(filters),
            limit,
            target_partitions: state.config().target_partitions(),
        })
        .await
        .map_err(DataFusionError::from)?;
        // Counted by the engine when it runs in this process; executors count their own.
        let exec = match state.config().get_extension::<RunningTasks>() {
            Some(running) => exec.counting(running.as_ref().clone()),
            None => exec,
        };
        Ok(Arc::new(exec))
    }

    /// Every filter is offered to Iceberg for pruning but kept above the scan too: Iceberg
    /// prunes files and row groups, not single rows.
    fn supports_filters_pushdown(
        &self,
        filters: &[&Expr],
    ) -> Result<Vec<TableProviderFilterPushDown>> {
        Ok(vec![TableProviderFilterPushDown::Inexact; filters.len()])
    }
}
