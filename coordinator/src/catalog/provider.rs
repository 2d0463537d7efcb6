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
use crate::access::{AccessView, TableAccess, restrict};
use datafusion::common::TableReference;

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
    /// What the caller may read: unlisted tables, refused tables, filters and masks.
    access: AccessView,
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
            access: AccessView::unrestricted(""),
        }
    }

    /// Tables of this query are listed, refused, filtered and masked as `access` says.
    pub fn with_access(mut self, access: AccessView) -> Self {
        self.access = access;
        self
    }

    /// Tables of this query show the hidden columns after their own.
    pub fn with_hidden_columns(mut self, hidden_columns: bool) -> Self {
        self.hidden_columns = hidden_columns;
        self
    }
}

impl CatalogProvider for LakeCatalogProvider {
    fn schema_names(&self) -> Vec<String> {
        visible_listing(&self.listing, self.lake.name(), &self.access)
            .schemas
            .into_keys()
            .collect()
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
            access: self.access.clone(),
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
    access: AccessView,
}

#[async_trait]
impl SchemaProvider for LakeSchemaProvider {
    fn table_names(&self) -> Vec<String> {
        self.tables
            .iter()
            .filter(|t| readable(&self.access, self.lake.name(), &self.schema, t))
            .cloned()
            .collect()
    }

    async fn table(&self, name: &str) -> Result<Option<Arc<dyn TableProvider>>, DataFusionError> {
        let external = |e: CatalogError| DataFusionError::External(Box::new(e));
        let table_ref = TableRef::new(self.lake.name(), &self.schema, name);
        let parsed = self.lake.parse_name(&table_ref).await.map_err(external)?;
        if !self.table_exist(parsed.table()) {
            return Ok(None);
        }
        let denied = |reason: Option<&str>| {
            external(CatalogError::AccessDenied {
                table: TableRef::new(self.lake.name(), &self.schema, parsed.table()),
                reason: reason.map(str::to_string),
            })
        };
        let policy = match self
            .access
            .table(self.lake.name(), &self.schema, parsed.table())
        {
            TableAccess::Denied => return Err(denied(None)),
            TableAccess::Read(policy) => policy,
        };
        let under_policy = |provider: Arc<dyn TableProvider>| {
            if policy.is_unrestricted() {
                return Ok(provider);
            }
            let name = TableReference::full(self.lake.name(), self.schema.as_str(), name);
            restrict(&name, provider, &policy)
        };
        if let Some(pinned) = self.pins.get(&table_ref) {
            return under_policy(pinned).map(Some);
        }
        if matches!(parsed, TableName::Metadata { .. }) && !policy.is_unrestricted() {
            return Err(denied(Some(
                "its metadata tables show file statistics that the row filter and column \
                 masks would not",
            )));
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
                under_policy(self.pins.pin(Arc::new(provider))).map(Some)
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

fn readable(access: &AccessView, catalog: &str, schema: &str, table: &str) -> bool {
    matches!(access.table(catalog, schema, table), TableAccess::Read(_))
}

/// The schemas and tables of `listing` that `access` lets the caller read. A schema is shown
/// when the caller reads a table in it or owns it (Trino's schema rules), or, for an empty
/// one, when no rule restricts tables.
pub fn visible_listing(listing: &Listing, catalog: &str, access: &AccessView) -> Listing {
    if !access.can_read_catalog(catalog) {
        return Listing::default();
    }
    let schemas = listing
        .schemas
        .iter()
        .filter_map(|(schema, tables)| {
            let readable: Vec<String> = tables
                .iter()
                .filter(|t| readable(access, catalog, schema, t))
                .cloned()
                .collect();
            let shown = !readable.is_empty()
                || access.owns_schema(catalog, schema)
                || (tables.is_empty() && !access.restricts_tables());
            shown.then(|| (schema.clone(), readable))
        })
        .collect();
    Listing { schemas }
}
