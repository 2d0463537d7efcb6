//! The lake as SQL sees it: Iceberg catalogs exposed as DataFusion catalogs, with every table a
//! query reads pinned to one snapshot for the whole query.
//!
//! ```text
//!  Lake (one per coordinator)           per query
//!  ├─ iceberg Catalog (SQL or REST)     LakeCatalogProvider ── listing (cached, refresh interval)
//!  └─ listing cache                     └─ LakeSchemaProvider::table() ── SnapshotPins
//!                                            └─ IcebergTableProvider (table @ snapshot)
//! ```

mod connect;
mod metadata;
mod name;
mod provider;
mod table;
mod version;

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use iceberg::table::Table;
use iceberg::{Catalog, NamespaceIdent, TableIdent};
use tokio::sync::Mutex;

pub use connect::{CatalogError, connect_catalog, file_io};
pub use name::{MetadataTable, TableName, TableVersion};
pub use provider::{LakeCatalogProvider, SnapshotPins, visible_listing};
pub use table::IcebergTableProvider;

/// A table named the way SQL names it: `catalog.schema.table`, the schema being an Iceberg
/// namespace (nested namespaces joined with `.`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TableRef {
    pub catalog: String,
    pub schema: String,
    pub table: String,
}

impl TableRef {
    pub fn new(
        catalog: impl Into<String>,
        schema: impl Into<String>,
        table: impl Into<String>,
    ) -> Self {
        Self {
            catalog: catalog.into(),
            schema: schema.into(),
            table: table.into(),
        }
    }

    /// The Iceberg identifier of the table.
    pub fn ident(&self) -> Result<TableIdent, CatalogError> {
        let namespace =
            NamespaceIdent::from_vec(self.schema.split('.').map(str::to_string).collect())
                .map_err(|source| {
                    CatalogError::iceberg(format!("namespace {}", self.schema), source)
                })?;
        Ok(TableIdent::new(namespace, self.table.clone()))
    }
}

impl fmt::Display for TableRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.catalog, self.schema, self.table)
    }
}

/// An Iceberg snapshot id: which version of a table a query reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SnapshotId(pub i64);

impl fmt::Display for SnapshotId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// Namespaces and their tables, as the catalog listed them at one moment.
#[derive(Debug, Default)]
pub struct Listing {
    pub schemas: BTreeMap<String, Vec<String>>,
}

/// One Iceberg catalog and what the coordinator remembers of it.
#[derive(Debug)]
pub struct Lake {
    name: String,
    catalog: Arc<dyn Catalog>,
    refresh_interval: Duration,
    listing: Mutex<Option<(Instant, Arc<Listing>)>>,
    /// Loaded table metadata (and so each table's current snapshot) with when it was loaded:
    /// repeated queries read it from here instead of asking the catalog every time.
    tables: std::sync::Mutex<HashMap<TableRef, (Instant, Table)>>,
}

impl Lake {
    pub fn new(
        name: impl Into<String>,
        catalog: Arc<dyn Catalog>,
        refresh_interval: Duration,
    ) -> Self {
        Self {
            name: name.into(),
            catalog,
            refresh_interval,
            listing: Mutex::new(None),
            tables: std::sync::Mutex::new(HashMap::new()),
        }
    }

    /// The name SQL uses for this catalog.
    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn catalog(&self) -> &Arc<dyn Catalog> {
        &self.catalog
    }

    /// Namespaces and tables, listed again when the last listing is older than the refresh
    /// interval. DataFusion asks for names synchronously, so each query takes one listing up
    /// front and answers from it.
    pub async fn listing(&self) -> Result<Arc<Listing>, CatalogError> {
        let mut cached = self.listing.lock().await;
        if let Some((at, listing)) = cached.as_ref()
            && at.elapsed() < self.refresh_interval
        {
            return Ok(listing.clone());
        }
        let fresh = Arc::new(self.list().await?);
        *cached = Some((Instant::now(), fresh.clone()));
        Ok(fresh)
    }

    /// Forgets the cached listing and table metadata, so the next query asks the catalog.
    pub async fn invalidate(&self) {
        *self.listing.lock().await = None;
        self.tables
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
    }

    /// How old loaded metadata may be by default: a commit is seen within this.
    pub fn refresh_interval(&self) -> Duration {
        self.refresh_interval
    }

    async fn list(&self) -> Result<Listing, CatalogError> {
        let mut listing = Listing::default();
        let mut pending = vec![None];
        while let Some(parent) = pending.pop() {
            let namespaces = self
                .catalog
                .list_namespaces(parent.as_ref())
                .await
                .map_err(|source| CatalogError::iceberg("listing namespaces", source))?;
            // Some catalogs answer a parent with itself; only strictly nested ones recurse.
            let depth = parent.as_ref().map_or(0, |p| p.len());
            for namespace in namespaces.into_iter().filter(|n| n.len() > depth) {
                let tables = self
                    .catalog
                    .list_tables(&namespace)
                    .await
                    .map_err(|source| {
                        CatalogError::iceberg(
                            format!("listing tables of {}", namespace.to_url_string()),
                            source,
                        )
                    })?;
                let name = namespace.join(".");
                let mut names: Vec<String> = tables.into_iter().map(|t| t.name).collect();
                names.sort();
                listing.schemas.insert(name, names);
                pending.push(Some(namespace));
            }
        }
        Ok(listing)
    }

    /// The table `table` names (its data at some version, or one of its metadata tables) and
    /// the snapshot a query reading it now pins: what planning resolves, and what a cached
    /// result's key is checked against.
    pub async fn pin(
        &self,
        table: &TableRef,
        max_age: Duration,
    ) -> Result<(Table, Option<SnapshotId>), CatalogError> {
        let (base, version) = match self.parse_name(table).await? {
            TableName::Data { table, version } => (table, version),
            TableName::Metadata { table, .. } => (table, TableVersion::Current),
        };
        let base_ref = TableRef::new(&table.catalog, &table.schema, base);
        let loaded = self.load_table_fresh(&base_ref, max_age).await?;
        let snapshot = version::resolve_version(table, loaded.metadata(), &version)?;
        Ok((loaded, snapshot))
    }

    /// What `table`'s name asks for; a table whose real name has a `$` suffix is itself.
    pub async fn parse_name(&self, table: &TableRef) -> Result<TableName, CatalogError> {
        let listing = self.listing().await?;
        let real = listing
            .schemas
            .get(&table.schema)
            .is_some_and(|tables| tables.contains(&table.table));
        Ok(if real {
            TableName::Data {
                table: table.table.clone(),
                version: TableVersion::Current,
            }
        } else {
            TableName::parse(&table.table)
        })
    }

    /// The table's metadata, at most one refresh interval old.
    pub async fn load_table(&self, table: &TableRef) -> Result<Table, CatalogError> {
        self.load_table_fresh(table, Duration::ZERO).await
    }

    /// The table's metadata, loaded at most `max_age` ago (at least the refresh interval):
    /// younger cached metadata is reused, older is loaded again.
    pub async fn load_table_fresh(
        &self,
        table: &TableRef,
        max_age: Duration,
    ) -> Result<Table, CatalogError> {
        let max_age = max_age.max(self.refresh_interval);
        if let Some((loaded_at, cached)) = self
            .tables
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(table)
            && loaded_at.elapsed() < max_age
        {
            return Ok(cached.clone());
        }
        let loaded = self
            .catalog
            .load_table(&table.ident()?)
            .await
            .map_err(|source| CatalogError::iceberg(format!("loading table {table}"), source))?;
        self.tables
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(table.clone(), (Instant::now(), loaded.clone()));
        Ok(loaded)
    }
}
