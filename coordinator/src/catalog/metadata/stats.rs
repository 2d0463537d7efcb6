//! `"t$stats"`, what Trino's `SHOW STATS FOR t` answers: a row per top-level column with its
//! on-disk size, NULL fraction and value range, and a last row (no column name) with the row
//! count, all from the statistics the data files of the pinned snapshot carry in their
//! manifests. Nothing is read from the data files themselves.
//!
//! The row count is the data files' records less the rows position deletes (and deletion
//! vectors) remove; equality deletes are not subtracted, since what they match is unknown
//! until the data is read, so it is an upper bound then. Distinct counts are left NULL: they
//! need Puffin sketches that no writer of this lake produces. A statistic some file did not
//! report is NULL, not a partial sum.

use std::sync::Arc;

use arrow::array::{ArrayRef, Float64Array, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Schema};
use iceberg::spec::{DataContentType, PrimitiveType};
use iceberg::table::Table;

use super::batch;
use super::column_stats::{ColumnStats, stats_columns};
use super::files::live_files;
use super::values::bound_text;
use crate::catalog::{CatalogError, SnapshotId};

pub async fn stats(
    table: &Table,
    snapshot: Option<SnapshotId>,
) -> Result<RecordBatch, CatalogError> {
    let live = live_files(table, snapshot).await?;
    let columns = stats_columns(table.metadata().current_schema());
    let mut column_stats = vec![ColumnStats::default(); columns.len()];
    let mut sizes: Vec<Option<u64>> = vec![Some(0); columns.len()];
    let mut records: u64 = 0;
    let mut deleted: u64 = 0;
    for live in &live {
        let file = &live.file;
        match file.content_type() {
            DataContentType::Data => {
                records += file.record_count();
                for ((stats, size), column) in column_stats.iter_mut().zip(&mut sizes).zip(&columns)
                {
                    stats.add(column, file);
                    *size = size
                        .zip(file.column_sizes().get(&column.field_id).copied())
                        .map(|(total, more)| total + more);
                }
            }
            DataContentType::PositionDeletes => deleted += file.record_count(),
            DataContentType::EqualityDeletes => {}
        }
    }
    let rows = records.saturating_sub(deleted) as f64;
    let mut names: Vec<Option<String>> = Vec::with_capacity(columns.len() + 1);
    let mut data_size: Vec<Option<f64>> = Vec::new();
    let mut nulls_fraction: Vec<Option<f64>> = Vec::new();
    let mut low: Vec<Option<String>> = Vec::new();
    let mut high: Vec<Option<String>> = Vec::new();
    for ((column, stats), size) in columns.iter().zip(&column_stats).zip(&sizes) {
        names.push(Some(column.name.clone()));
        data_size.push(size.map(|s| s as f64));
        nulls_fraction.push(match (stats.null_count(), records) {
            (_, 0) => Some(0.0),
            (Some(nulls), _) => Some(nulls as f64 / records as f64),
            (None, _) => None,
        });
        let ranged = has_range(&column.ty);
        low.push(stats.min().filter(|_| ranged).map(bound_text));
        high.push(stats.max().filter(|_| ranged).map(bound_text));
    }
    // The table's own row: no column, the row count.
    names.push(None);
    data_size.push(None);
    nulls_fraction.push(None);
    low.push(None);
    high.push(None);
    let mut row_count = vec![None; columns.len()];
    row_count.push(Some(rows));
    let distinct = vec![None::<f64>; names.len()];
    let schema = Arc::new(Schema::new(vec![
        Field::new("column_name", DataType::Utf8, true),
        Field::new("data_size", DataType::Float64, true),
        Field::new("distinct_values_count", DataType::Float64, true),
        Field::new("nulls_fraction", DataType::Float64, true),
        Field::new("row_count", DataType::Float64, true),
        Field::new("low_value", DataType::Utf8, true),
        Field::new("high_value", DataType::Utf8, true),
    ]));
    batch(
        schema,
        vec![
            Arc::new(StringArray::from(names)) as ArrayRef,
            Arc::new(Float64Array::from(data_size)),
            Arc::new(Float64Array::from(distinct)),
            Arc::new(Float64Array::from(nulls_fraction)),
            Arc::new(Float64Array::from(row_count)),
            Arc::new(StringArray::from(low)),
            Arc::new(StringArray::from(high)),
        ],
    )
}

/// Whether Trino shows a column's range: numbers, dates and times, not text or bytes.
fn has_range(ty: &PrimitiveType) -> bool {
    !matches!(
        ty,
        PrimitiveType::String
            | PrimitiveType::Binary
            | PrimitiveType::Fixed(_)
            | PrimitiveType::Uuid
            | PrimitiveType::Boolean
    )
}
