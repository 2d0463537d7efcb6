//! The `system` catalog: the coordinator's own state as SQL tables, built fresh for each query.
//!
//! * `system.runtime.executors`: the executor registry (URL, running and started scan
//!   streams, draining).
//! * `system.runtime.cache`: the result cache's counters and size (one row; none when the
//!   cache is off).

use std::sync::Arc;

use arrow::array::{BooleanArray, RecordBatch, StringArray, UInt32Array, UInt64Array};
use arrow::datatypes::{DataType, Field, Schema};
use datafusion::catalog::{CatalogProvider, SchemaProvider};
use datafusion::catalog::{MemoryCatalogProvider, MemorySchemaProvider};
use datafusion::datasource::MemTable;
use datafusion::error::Result;

use crate::cache::CacheStats;
use crate::registry::ExecutorRegistry;

/// Name of the catalog.
pub const SYSTEM_CATALOG: &str = "system";

/// A `system` catalog over the current state of `registry`.
pub fn system_catalog(
    registry: Option<&ExecutorRegistry>,
    cache: Option<CacheStats>,
) -> Result<Arc<dyn CatalogProvider>> {
    let runtime = MemorySchemaProvider::new();
    runtime.register_table("executors".into(), Arc::new(executors_table(registry)?))?;
    runtime.register_table("cache".into(), Arc::new(cache_table(cache)?))?;
    let catalog = MemoryCatalogProvider::new();
    catalog.register_schema("runtime", Arc::new(runtime))?;
    Ok(Arc::new(catalog))
}

fn executors_table(registry: Option<&ExecutorRegistry>) -> Result<MemTable> {
    let executors = registry
        .map(ExecutorRegistry::executors)
        .unwrap_or_default();
    let schema = Arc::new(Schema::new(vec![
        Field::new("executor_id", DataType::Utf8, false),
        Field::new("url", DataType::Utf8, false),
        Field::new("running_tasks", DataType::UInt32, false),
        Field::new("scans_started", DataType::UInt64, false),
        Field::new("rows_scanned", DataType::UInt64, false),
        Field::new("bytes_scanned", DataType::UInt64, false),
        Field::new("draining", DataType::Boolean, false),
    ]));
    let batch = RecordBatch::try_new(
        schema.clone(),
        vec![
            Arc::new(StringArray::from_iter_values(
                executors.iter().map(|e| e.id.as_str()),
            )),
            Arc::new(StringArray::from_iter_values(
                executors.iter().map(|e| e.url.as_str()),
            )),
            Arc::new(UInt32Array::from_iter_values(
                executors.iter().map(|e| e.running_tasks),
            )),
            Arc::new(UInt64Array::from_iter_values(
                executors.iter().map(|e| e.scans_started),
            )),
            Arc::new(UInt64Array::from_iter_values(
                executors.iter().map(|e| e.rows_scanned),
            )),
            Arc::new(UInt64Array::from_iter_values(
                executors.iter().map(|e| e.bytes_scanned),
            )),
            Arc::new(BooleanArray::from_iter(
                executors.iter().map(|e| Some(e.draining)),
            )),
        ],
    )?;
    MemTable::try_new(schema, vec![vec![batch]])
}

fn cache_table(stats: Option<CacheStats>) -> Result<MemTable> {
    let names = [
        "hits",
        "misses",
        "coalesced",
        "evictions",
        "bytes",
        "entries",
    ];
    let schema = Arc::new(Schema::new(
        names
            .iter()
            .map(|name| Field::new(*name, DataType::UInt64, false))
            .collect::<Vec<_>>(),
    ));
    let rows: Vec<CacheStats> = stats.into_iter().collect();
    let column = |value: fn(&CacheStats) -> u64| -> arrow::array::ArrayRef {
        Arc::new(UInt64Array::from_iter_values(rows.iter().map(value)))
    };
    let batch = RecordBatch::try_new(
        schema.clone(),
        vec![
            column(|s| s.hits),
            column(|s| s.misses),
            column(|s| s.coalesced),
            column(|s| s.evictions),
            column(|s| s.bytes),
            column(|s| s.entries),
        ],
    )?;
    MemTable::try_new(schema, vec![vec![batch]])
}
