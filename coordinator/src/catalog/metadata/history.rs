//! Metadata tables read from the table metadata alone: `$snapshots`, `$history`, `$refs`,
//! `$properties`.

use std::collections::HashSet;
use std::sync::Arc;

use arrow::array::{
    ArrayRef, BooleanArray, Int32Array, Int64Array, MapBuilder, StringArray, StringBuilder,
    TimestampMillisecondArray,
};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use iceberg::spec::TableMetadata;

use super::batch;
use crate::catalog::CatalogError;

/// Trino's `timestamp(3) with time zone`.
fn committed_at_type() -> DataType {
    DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into()))
}

fn timestamps(values: Vec<i64>) -> ArrayRef {
    Arc::new(TimestampMillisecondArray::from(values).with_timezone("UTC"))
}

/// `$snapshots`: every snapshot the metadata still holds.
pub fn snapshots(metadata: &TableMetadata) -> Result<arrow::array::RecordBatch, CatalogError> {
    let mut snapshots: Vec<_> = metadata.snapshots().collect();
    snapshots.sort_by_key(|s| (s.timestamp_ms(), s.sequence_number()));
    let schema: SchemaRef = Arc::new(Schema::new(vec![
        Field::new("committed_at", committed_at_type(), false),
        Field::new("snapshot_id", DataType::Int64, false),
        Field::new("parent_id", DataType::Int64, true),
        Field::new("operation", DataType::Utf8, true),
        Field::new("manifest_list", DataType::Utf8, false),
        Field::new(
            "summary",
            DataType::Map(
                Arc::new(Field::new(
                    "entries",
                    DataType::Struct(
                        vec![
                            Field::new("keys", DataType::Utf8, false),
                            Field::new("values", DataType::Utf8, true),
                        ]
                        .into(),
                    ),
                    false,
                )),
                false,
            ),
            true,
        ),
    ]));
    let mut summary = MapBuilder::new(None, StringBuilder::new(), StringBuilder::new());
    for snapshot in &snapshots {
        let mut entries: Vec<_> = snapshot.summary().additional_properties.iter().collect();
        entries.sort();
        for (key, value) in entries {
            summary.keys().append_value(key);
            summary.values().append_value(value);
        }
        summary
            .append(true)
            .map_err(|e| CatalogError::Metadata(e.to_string()))?;
    }
    batch(
        schema,
        vec![
            timestamps(snapshots.iter().map(|s| s.timestamp_ms()).collect()),
            Arc::new(Int64Array::from_iter_values(
                snapshots.iter().map(|s| s.snapshot_id()),
            )),
            Arc::new(Int64Array::from_iter(
                snapshots.iter().map(|s| s.parent_snapshot_id()),
            )),
            Arc::new(StringArray::from_iter(
                snapshots
                    .iter()
                    .map(|s| Some(s.summary().operation.as_str())),
            )),
            Arc::new(StringArray::from_iter_values(
                snapshots.iter().map(|s| s.manifest_list()),
            )),
            Arc::new(summary.finish()),
        ],
    )
}

/// `$history`: when each snapshot became current, and whether it is still an ancestor of the
/// current one (a rolled-back snapshot is not).
pub fn history(metadata: &TableMetadata) -> Result<arrow::array::RecordBatch, CatalogError> {
    let mut ancestors = HashSet::new();
    let mut next = metadata.current_snapshot_id();
    while let Some(id) = next {
        if !ancestors.insert(id) {
            break;
        }
        next = metadata
            .snapshot_by_id(id)
            .and_then(|s| s.parent_snapshot_id());
    }
    let log = metadata.history();
    let schema: SchemaRef = Arc::new(Schema::new(vec![
        Field::new("made_current_at", committed_at_type(), false),
        Field::new("snapshot_id", DataType::Int64, false),
        Field::new("parent_id", DataType::Int64, true),
        Field::new("is_current_ancestor", DataType::Boolean, false),
    ]));
    batch(
        schema,
        vec![
            timestamps(log.iter().map(|e| e.timestamp_ms).collect()),
            Arc::new(Int64Array::from_iter_values(
                log.iter().map(|e| e.snapshot_id),
            )),
            Arc::new(Int64Array::from_iter(log.iter().map(|e| {
                metadata
                    .snapshot_by_id(e.snapshot_id)
                    .and_then(|s| s.parent_snapshot_id())
            }))),
            Arc::new(BooleanArray::from_iter(
                log.iter().map(|e| Some(ancestors.contains(&e.snapshot_id))),
            )),
        ],
    )
}

/// `$refs`: branches and tags. iceberg 0.10 has no accessor for all references, so they are
/// read from the metadata's own JSON form, which lists them under `refs`.
pub fn refs(metadata: &TableMetadata) -> Result<arrow::array::RecordBatch, CatalogError> {
    let json = serde_json::to_value(metadata)
        .map_err(|e| CatalogError::Metadata(format!("table metadata: {e}")))?;
    let mut refs: Vec<(String, serde_json::Value)> = json
        .get("refs")
        .and_then(|r| r.as_object())
        .map(|r| r.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default();
    refs.sort_by(|a, b| a.0.cmp(&b.0));
    let long = |v: &serde_json::Value, key: &str| v.get(key).and_then(|x| x.as_i64());
    let schema: SchemaRef = Arc::new(Schema::new(vec![
        Field::new("name", DataType::Utf8, false),
        Field::new("type", DataType::Utf8, false),
        Field::new("snapshot_id", DataType::Int64, false),
        Field::new("max_reference_age_in_ms", DataType::Int64, true),
        Field::new("min_snapshots_to_keep", DataType::Int32, true),
        Field::new("max_snapshot_age_in_ms", DataType::Int64, true),
    ]));
    batch(
        schema,
        vec![
            Arc::new(StringArray::from_iter_values(refs.iter().map(|(n, _)| n))),
            Arc::new(StringArray::from_iter_values(refs.iter().map(|(_, r)| {
                r.get("type")
                    .and_then(|t| t.as_str())
                    .unwrap_or("branch")
                    .to_ascii_uppercase()
            }))),
            Arc::new(Int64Array::from_iter_values(
                refs.iter()
                    .map(|(_, r)| long(r, "snapshot-id").unwrap_or_default()),
            )),
            Arc::new(Int64Array::from_iter(
                refs.iter().map(|(_, r)| long(r, "max-ref-age-ms")),
            )),
            Arc::new(Int32Array::from_iter(refs.iter().map(|(_, r)| {
                long(r, "min-snapshots-to-keep").and_then(|v| i32::try_from(v).ok())
            }))),
            Arc::new(Int64Array::from_iter(
                refs.iter().map(|(_, r)| long(r, "max-snapshot-age-ms")),
            )),
        ],
    )
}

/// `$properties`: the table's properties.
pub fn properties(metadata: &TableMetadata) -> Result<arrow::array::RecordBatch, CatalogError> {
    let mut properties: Vec<_> = metadata.properties().iter().collect();
    properties.sort();
    let schema: SchemaRef = Arc::new(Schema::new(vec![
        Field::new("key", DataType::Utf8, false),
        Field::new("value", DataType::Utf8, false),
    ]));
    batch(
        schema,
        vec![
            Arc::new(StringArray::from_iter_values(
                properties.iter().map(|(k, _)| k.as_str()),
            )),
            Arc::new(StringArray::from_iter_values(
                properties.iter().map(|(_, v)| v.as_str()),
            )),
        ],
    )
}
