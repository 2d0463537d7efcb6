//! DataFusion's view of the lake: a catalog provider per query over one listing, and schema
//! providers that load each table once per query and pin it to its current snapshot.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use datafusion::catalog::{CatalogProvider, SchemaProvider, TableProvider};
use datafusion::error::{DataFusionError, Result};
use datafusion::logical_expr::TableType;

use super::metadata::metadata_table;
use super::table::IcebergTableProvider;
use super::{CatalogError, Lake, Listing, SnapshotId, TableName, TableRef};

/// The tables one query has resolved, each at the snapshot it was pinned to. Every reference to
/// a table within the query, and every executor reading it, sees that one snapshot.
#[derive(Debug, Default)]
pub struct SnapshotPins {
    tables: Mutex<HashMap<TableRef, Arc<IcebergTableProvider>>>,
}

impl SnapshotPins {
    /// `(table, snapshot)` for every table pinned so far; `None` for a table with no snapshot yet.
    pub fn snapshots(&self) -> Vec<(TableRef, Option<SnapshotId>)> {
        let tables = self.tables.lock().unwrap_or_else(|e| e.into_inner());
        let mut pins: Vec<_> = tables
            .iter()
            .map(|(t, p)| (t.clone(), p.snapshot_id()))
            .collect();
        pins.sort();
        pins
    }

    fn get(&self, table: &TableRef) -> Option<Arc<IcebergTableProvider>> {
        self.tables
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(table)
            .cloned()
    }

    /// Keeps the first provider pinned for a table if two resolutions raced.
    fn pin(&self, provider: Arc<IcebergTableProvider>) -> Arc<IcebergTableProvider> {
        let mut tables = self.tables.lock().unwrap_or_else(|e| e.into_inner());
        tables
            .entry(provider.table_ref().clone())
            .or_insert(provider)
            .clone()
    }
}

/// One Iceberg catalog as a DataFusion catalog, for one query.
#[derive(Debug)]
pub struct LakeCatalogProvider {
    lake: Arc<Lake>,
    listing: Arc<Listing>,
    pins: Arc<SnapshotPins>,
    /// How old the table metadata this query reads may be (`max_staleness`; at least the
    /// catalog's refresh interval).
    max_age: Duration,
    /// Whether tables show Trino's hidden columns (`"$path"`, `"$file_modified_time"`).
    hidden_columns: bool,
}

impl LakeCatalogProvider {
    pub fn new(
        lake: Arc<Lake>,
        listing: Arc<Listing>,
        pins: Arc<SnapshotPins>,
        max_age: Duration,
    ) -> Self {
        Self {
            lake,
            listing,
            pins,
            max_age,
            hidden_columns: false,
        }
    }

    /// Tables of this query show the hidden columns after their own.
    pub fn with_hidden_columns(mut self, hidden_columns: bool) -> Self {
        self.hidden_columns = hidden_columns;
        self
    }
}

impl CatalogProvider for LakeCatalogProvider {
    fn schema_names(&self) -> Vec<String> {
        self.listing.schemas.keys().cloned().collect()
    }

    fn schema(&self, name: &str) -> Option<Arc<dyn SchemaProvider>> {
        let tables = self.listing.schemas.get(name)?;
        Some(Arc::new(LakeSchemaProvider {
            lake: self.lake.clone(),
            schema: name.to_string(),
            tables: tables.clone(),
            pins: self.pins.clone(),
            max_age: self.max_age,
            hidden_columns: self.hidden_columns,
        }))
    }
}

/// One Iceberg namespace as a DataFusion schema.
#[derive(Debug)]
struct LakeSchemaProvider {
    lake: Arc<Lake>,
    schema: String,
    tables: Vec<String>,
    pins: Arc<SnapshotPins>,
    max_age: Duration,
    hidden_columns: bool,
}

#[async_trait]
impl SchemaProvider for LakeSchemaProvider {
    fn table_names(&self) -> Vec<String> {
        self.tables.clone()
    }

    async fn table(&self, name: &str) -> Result<Option<Arc<dyn TableProvider>>, DataFusionError> {
        let external = |e: CatalogError| DataFusionError::External(Box::new(e));
        let table_ref = TableRef::new(self.lake.name(), &self.schema, name);
        if let Some(pinned) = self.pins.get(&table_ref) {
            return Ok(Some(pinned));
        }
        let parsed = self.lake.parse_name(&table_ref).await.map_err(external)?;
        if !self.table_exist(parsed.table()) {
            return Ok(None);
        }
        let (table, snapshot) = self
            .lake
            .pin(&table_ref, self.max_age)
            .await
            .map_err(external)?;
        match parsed {
            TableName::Data { .. } => {
                let provider =
                    IcebergTableProvider::at(table_ref, table, snapshot, self.hidden_columns)
                        .map_err(external)?;
                Ok(Some(self.pins.pin(Arc::new(provider))))
            }
            TableName::Metadata { kind, .. } => {
                let provider = metadata_table(&table_ref, &table, snapshot, kind)
                    .await
                    .map_err(external)?;
                Ok(Some(provider))
            }
        }
    }

    async fn table_type(&self, name: &str) -> Result<Option<TableType>> {
        Ok(self.table_exist(name).then_some(TableType::Base))
    }

    fn table_exist(&self, name: &str) -> bool {
        self.tables.iter().any(|t| t == name)
    }
}
