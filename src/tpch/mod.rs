//! `lakegate tpch`: writes the TPC-H tables as an Iceberg lake (SQLite catalog + Parquet), the
//! embedded demo lake and the data every test and benchmark runs on.

mod append;
mod baseline;
mod queries;
mod tables;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use iceberg::spec::FormatVersion;
use iceberg::{Catalog, NamespaceIdent, TableCreation, TableIdent};
use lakegate_coordinator::catalog::connect_catalog;
use lakegate_coordinator::config::{Config, warehouse_url};

pub use append::{append_batches, arrow_schema_with_ids};
pub use baseline::{BaselineError, baseline_context, current_files};
pub use queries::QUERIES;
pub use tables::TpchTable;

/// Rows per generated batch.
const BATCH_ROWS: usize = 8192;

/// What to write, and where.
#[derive(Debug, Clone)]
pub struct TpchOptions {
    pub scale: f64,
    /// Directory of the lake: `catalog.db` and the table data go here.
    pub warehouse: PathBuf,
    pub namespace: String,
    /// Name the SQL catalog records the tables under.
    pub catalog_name: String,
    /// Replace tables that exist instead of failing.
    pub overwrite: bool,
}

/// Why the lake could not be written.
#[derive(Debug, thiserror::Error)]
pub enum TpchError {
    #[error("table {table} already exists in {warehouse} (pass --overwrite to replace it)")]
    Exists { table: String, warehouse: String },
    #[error("scale must be a positive number, got {0}")]
    Scale(f64),
    #[error("cannot create warehouse directory {path}: {source}")]
    Directory {
        path: String,
        source: std::io::Error,
    },
    #[error("{what}: {source}")]
    Iceberg {
        what: String,
        source: iceberg::Error,
    },
    #[error("generating {table}: {source}")]
    Arrow {
        table: &'static str,
        source: arrow::error::ArrowError,
    },
    #[error(transparent)]
    Catalog(#[from] lakegate_coordinator::catalog::CatalogError),
}

/// Progress of the writer, for the command line to show.
#[derive(Debug, Clone)]
pub enum Progress {
    /// One append of `table` committed (`part` of `parts`), `rows` rows so far in the table.
    Appended {
        table: &'static str,
        part: i32,
        parts: i32,
        rows: usize,
    },
    /// A table is complete.
    TableDone {
        table: &'static str,
        rows: usize,
        done: usize,
        total: usize,
    },
}

/// The configuration that reads a lake written with `options`.
pub fn lake_config(warehouse: &Path, catalog_name: &str) -> Config {
    let mut config = Config::default();
    config.catalog.warehouse = warehouse.display().to_string();
    config.catalog.name = catalog_name.to_string();
    config
}

/// Writes the eight TPC-H tables, calling `progress` after every commit.
pub async fn write_lake(
    options: &TpchOptions,
    mut progress: impl FnMut(Progress),
) -> Result<(), TpchError> {
    if options.scale.is_nan() || options.scale <= 0.0 {
        return Err(TpchError::Scale(options.scale));
    }
    std::fs::create_dir_all(&options.warehouse).map_err(|source| TpchError::Directory {
        path: options.warehouse.display().to_string(),
        source,
    })?;
    let config = lake_config(&options.warehouse, &options.catalog_name);
    let catalog = connect_catalog(&config, true).await?;
    let namespace = NamespaceIdent::new(options.namespace.clone());
    let iceberg = |what: String| move |source| TpchError::Iceberg { what, source };
    if !catalog
        .namespace_exists(&namespace)
        .await
        .map_err(iceberg("checking namespace".into()))?
    {
        catalog
            .create_namespace(&namespace, HashMap::new())
            .await
            .map_err(iceberg(format!("creating namespace {}", options.namespace)))?;
    }

    let warehouse = warehouse_url(&options.warehouse.display().to_string());
    for (done, table) in TpchTable::ALL.into_iter().enumerate() {
        let ident = TableIdent::new(namespace.clone(), table.name().to_string());
        prepare_slot(catalog.as_ref(), &ident, options, &warehouse).await?;
        let creation = TableCreation::builder()
            .name(table.name().to_string())
            .schema(
                table
                    .schema()
                    .map_err(iceberg(format!("schema of {}", table.name())))?,
            )
            .partition_spec(
                table
                    .partition_spec()
                    .map_err(iceberg(format!("partitioning of {}", table.name())))?,
            )
            .format_version(FormatVersion::V2)
            .build();
        let mut iceberg_table = catalog
            .create_table(&namespace, creation)
            .await
            .map_err(iceberg(format!("creating table {}", table.name())))?;
        let schema = arrow_schema_with_ids(&iceberg_table)
            .map_err(iceberg(format!("arrow schema of {}", table.name())))?;
        let parts = table.parts(options.scale);
        let mut rows = 0;
        for part in 1..=parts {
            let batches = table
                .generate(options.scale, part, parts, schema.clone(), BATCH_ROWS)
                .map_err(|source| TpchError::Arrow {
                    table: table.name(),
                    source,
                })?;
            rows += batches.iter().map(|b| b.num_rows()).sum::<usize>();
            iceberg_table = append_batches(catalog.as_ref(), &iceberg_table, batches)
                .await
                .map_err(iceberg(format!("appending to {}", table.name())))?;
            progress(Progress::Appended {
                table: table.name(),
                part,
                parts,
                rows,
            });
        }
        progress(Progress::TableDone {
            table: table.name(),
            rows,
            done: done + 1,
            total: TpchTable::ALL.len(),
        });
    }
    Ok(())
}

/// Makes room for a table: an existing one is an error, or with `overwrite` is dropped along
/// with its local files.
async fn prepare_slot(
    catalog: &dyn Catalog,
    ident: &TableIdent,
    options: &TpchOptions,
    warehouse: &str,
) -> Result<(), TpchError> {
    let exists = catalog
        .table_exists(ident)
        .await
        .map_err(|source| TpchError::Iceberg {
            what: format!("checking table {}", ident.name()),
            source,
        })?;
    if !exists {
        return Ok(());
    }
    if !options.overwrite {
        return Err(TpchError::Exists {
            table: format!("{}.{}", options.namespace, ident.name()),
            warehouse: warehouse.to_string(),
        });
    }
    let table = catalog
        .load_table(ident)
        .await
        .map_err(|source| TpchError::Iceberg {
            what: format!("loading table {}", ident.name()),
            source,
        })?;
    catalog
        .drop_table(ident)
        .await
        .map_err(|source| TpchError::Iceberg {
            what: format!("dropping table {}", ident.name()),
            source,
        })?;
    if let Some(dir) = table.metadata().location().strip_prefix("file://") {
        // Best effort: a table dropped from the catalog is gone even if its files linger.
        let _ = std::fs::remove_dir_all(dir);
    }
    Ok(())
}
