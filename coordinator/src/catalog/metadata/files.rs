//! Metadata tables read from the manifests of the pinned snapshot: `$manifests`, `$files`,
//! `$partitions`.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use arrow::array::{
    Array, ArrayBuilder, ArrayRef, BinaryBuilder, BooleanBuilder, Int32Array, Int32Builder,
    Int64Array, Int64Builder, ListBuilder, MapBuilder, RecordBatch, StringArray, StringBuilder,
    StructBuilder,
};
use arrow::datatypes::{DataType, Field, Fields, Schema, SchemaRef};
use datafusion::common::ScalarValue;
use futures::future::try_join_all;
use iceberg::spec::{DataContentType, DataFile, Datum, ManifestContentType, ManifestFile, Type};
use iceberg::table::Table;

use super::batch;
use super::column_stats::{ColumnStats, data_column, stats_columns};
use super::values::{PartitionColumn, bound_text, bytes_text, partition_values, struct_column};
use crate::catalog::{CatalogError, SnapshotId};

fn iceberg(what: &str) -> impl Fn(iceberg::Error) -> CatalogError + '_ {
    move |source| CatalogError::Metadata(format!("{what}: {source}"))
}

/// The manifests of `snapshot` (none for a table never written).
async fn manifest_list(
    table: &Table,
    snapshot: Option<SnapshotId>,
) -> Result<Vec<ManifestFile>, CatalogError> {
    let Some(snapshot) = snapshot.and_then(|id| table.metadata().snapshot_by_id(id.0)) else {
        return Ok(Vec::new());
    };
    let list = table
        .manifest_list_reader(snapshot)
        .load()
        .await
        .map_err(iceberg("manifest list"))?;
    Ok(list.entries().to_vec())
}

/// A live file of the snapshot and the partition spec its manifest was written with.
pub(super) struct LiveFile {
    pub file: DataFile,
    spec_id: i32,
}

/// Every live file (data and deletes) of `snapshot`.
pub(super) async fn live_files(
    table: &Table,
    snapshot: Option<SnapshotId>,
) -> Result<Vec<LiveFile>, CatalogError> {
    let manifests = manifest_list(table, snapshot).await?;
    let loaded = try_join_all(manifests.iter().map(|m| m.load_manifest(table.file_io())))
        .await
        .map_err(iceberg("manifest"))?;
    Ok(manifests
        .iter()
        .zip(&loaded)
        .flat_map(|(list_entry, manifest)| {
            manifest
                .entries()
                .iter()
                .filter(|e| e.is_alive())
                .map(|e| LiveFile {
                    file: e.data_file().clone(),
                    spec_id: list_entry.partition_spec_id,
                })
        })
        .collect())
}

/// The partition columns of every spec the table ever had, by partition field id, so files of
/// all specs share one `partition` struct (Trino does the same).
fn partition_columns(table: &Table) -> Vec<PartitionColumn> {
    let metadata = table.metadata();
    let schema = metadata.current_schema();
    let mut columns: Vec<PartitionColumn> = Vec::new();
    for spec in metadata.partition_specs_iter() {
        let Ok(ty) = spec.partition_type(schema) else {
            continue;
        };
        for field in ty.fields() {
            if columns.iter().any(|c| c.field_id == field.id) {
                continue;
            }
            if let Type::Primitive(p) = field.field_type.as_ref() {
                columns.push(PartitionColumn {
                    field_id: field.id,
                    name: field.name.clone(),
                    ty: p.clone(),
                });
            }
        }
    }
    columns
}

/// Partition field ids of spec `spec_id`, in the order its tuples list them.
fn spec_field_ids(table: &Table, spec_id: i32) -> Vec<i32> {
    table
        .metadata()
        .partition_spec_by_id(spec_id)
        .map(|s| s.fields().iter().map(|f| f.field_id).collect())
        .unwrap_or_default()
}

fn partition_field(columns: &[PartitionColumn]) -> Result<Option<(Field, ArrayRef)>, CatalogError> {
    if columns.is_empty() {
        return Ok(None);
    }
    let fields: Vec<_> = columns
        .iter()
        .map(|c| (c.name.clone(), c.ty.clone()))
        .collect();
    let empty = struct_column(&fields, &[])?;
    Ok(Some((
        Field::new("partition", empty.data_type().clone(), true),
        empty,
    )))
}

/// `$manifests`: the manifests of the snapshot, data and delete manifests alike (`content`
/// tells them apart).
pub async fn manifests(
    table: &Table,
    snapshot: Option<SnapshotId>,
) -> Result<RecordBatch, CatalogError> {
    let manifests = manifest_list(table, snapshot).await?;
    let summary_fields = Fields::from(vec![
        Field::new("contains_null", DataType::Boolean, false),
        Field::new("contains_nan", DataType::Boolean, true),
        Field::new("lower_bound", DataType::Utf8, true),
        Field::new("upper_bound", DataType::Utf8, true),
    ]);
    let mut summaries = ListBuilder::new(StructBuilder::new(
        summary_fields.clone(),
        vec![
            Box::new(BooleanBuilder::new()),
            Box::new(BooleanBuilder::new()),
            Box::new(StringBuilder::new()),
            Box::new(StringBuilder::new()),
        ],
    ));
    let schema_now = table.metadata().current_schema();
    for manifest in &manifests {
        let types: Vec<_> = table
            .metadata()
            .partition_spec_by_id(manifest.partition_spec_id)
            .and_then(|s| s.partition_type(schema_now).ok())
            .map(|t| {
                t.fields()
                    .iter()
                    .map(|f| f.field_type.as_primitive_type().cloned())
                    .collect()
            })
            .unwrap_or_default();
        for (i, summary) in manifest.partitions.iter().flatten().enumerate() {
            let ty = types.get(i).cloned().flatten();
            let text = |b: Option<&[u8]>| b.zip(ty.as_ref()).and_then(|(b, t)| bytes_text(b, t));
            let row = summaries.values();
            field::<BooleanBuilder>(row, 0).append_value(summary.contains_null);
            field::<BooleanBuilder>(row, 1).append_option(summary.contains_nan);
            field::<StringBuilder>(row, 2)
                .append_option(text(summary.lower_bound.as_ref().map(|b| b.as_slice())));
            field::<StringBuilder>(row, 3)
                .append_option(text(summary.upper_bound.as_ref().map(|b| b.as_slice())));
            row.append(true);
        }
        summaries.append(true);
    }
    let summaries = summaries.finish();
    let count = |f: fn(&ManifestFile) -> Option<u32>| -> ArrayRef {
        Arc::new(Int32Array::from_iter(
            manifests.iter().map(|m| f(m).map(|v| v as i32)),
        ))
    };
    let rows = |f: fn(&ManifestFile) -> Option<u64>| -> ArrayRef {
        Arc::new(Int64Array::from_iter(
            manifests.iter().map(|m| f(m).map(|v| v as i64)),
        ))
    };
    let schema: SchemaRef = Arc::new(Schema::new(vec![
        Field::new("path", DataType::Utf8, false),
        Field::new("length", DataType::Int64, false),
        Field::new("partition_spec_id", DataType::Int32, false),
        Field::new("added_snapshot_id", DataType::Int64, false),
        Field::new("added_data_files_count", DataType::Int32, true),
        Field::new("added_rows_count", DataType::Int64, true),
        Field::new("existing_data_files_count", DataType::Int32, true),
        Field::new("existing_rows_count", DataType::Int64, true),
        Field::new("deleted_data_files_count", DataType::Int32, true),
        Field::new("deleted_rows_count", DataType::Int64, true),
        Field::new("partition_summaries", summaries.data_type().clone(), true),
        Field::new("content", DataType::Int32, false),
    ]));
    batch(
        schema,
        vec![
            Arc::new(StringArray::from_iter_values(
                manifests.iter().map(|m| m.manifest_path.as_str()),
            )),
            Arc::new(Int64Array::from_iter_values(
                manifests.iter().map(|m| m.manifest_length),
            )),
            Arc::new(Int32Array::from_iter_values(
                manifests.iter().map(|m| m.partition_spec_id),
            )),
            Arc::new(Int64Array::from_iter_values(
                manifests.iter().map(|m| m.added_snapshot_id),
            )),
            count(|m| m.added_files_count),
            rows(|m| m.added_rows_count),
            count(|m| m.existing_files_count),
            rows(|m| m.existing_rows_count),
            count(|m| m.deleted_files_count),
            rows(|m| m.deleted_rows_count),
            Arc::new(summaries),
            Arc::new(Int32Array::from_iter_values(manifests.iter().map(
                |m| match m.content {
                    ManifestContentType::Data => 0,
                    ManifestContentType::Deletes => 1,
                },
            ))),
        ],
    )
}

fn field<T: ArrayBuilder>(row: &mut StructBuilder, i: usize) -> &mut T {
    row.field_builder::<T>(i)
        .unwrap_or_else(|| unreachable!("the struct builder was built with these field types"))
}

/// Iceberg's content codes: 0 data, 1 position deletes (vectors too), 2 equality deletes.
fn content_code(content: DataContentType) -> i32 {
    match content {
        DataContentType::Data => 0,
        DataContentType::PositionDeletes => 1,
        DataContentType::EqualityDeletes => 2,
    }
}

/// A `map(integer, ...)` column of per-column file statistics, keys in order.
fn stats_map<B: ArrayBuilder, V>(
    files: &[DataFile],
    values: B,
    entries: impl Fn(&DataFile) -> Vec<(i32, V)>,
    append: impl Fn(&mut B, V),
) -> ArrayRef {
    let mut map = MapBuilder::new(None, Int32Builder::new(), values);
    for file in files {
        let mut pairs = entries(file);
        pairs.sort_by_key(|(k, _)| *k);
        for (k, v) in pairs {
            map.keys().append_value(k);
            append(map.values(), v);
        }
        let _ = map.append(true);
    }
    Arc::new(map.finish())
}

fn counts_map(files: &[DataFile], counts: fn(&DataFile) -> &HashMap<i32, u64>) -> ArrayRef {
    stats_map(
        files,
        Int64Builder::new(),
        |f| counts(f).iter().map(|(k, v)| (*k, *v as i64)).collect(),
        |b, v| b.append_value(v),
    )
}

fn bounds_map(files: &[DataFile], bounds: fn(&DataFile) -> &HashMap<i32, Datum>) -> ArrayRef {
    stats_map(
        files,
        StringBuilder::new(),
        |f| bounds(f).iter().map(|(k, d)| (*k, bound_text(d))).collect(),
        |b, v| b.append_value(v),
    )
}

/// Trino's `readable_metrics`: each column's statistics by name, as JSON.
fn readable_metrics(table: &Table, file: &DataFile) -> String {
    let schema = table.metadata().current_schema();
    let mut out = serde_json::Map::new();
    for field in schema.as_struct().fields() {
        let id = field.id;
        let mut metrics = serde_json::Map::new();
        let mut put = |key: &str, value: Option<serde_json::Value>| {
            metrics.insert(key.into(), value.unwrap_or(serde_json::Value::Null));
        };
        put(
            "column_size",
            file.column_sizes().get(&id).map(|v| (*v).into()),
        );
        put(
            "value_count",
            file.value_counts().get(&id).map(|v| (*v).into()),
        );
        put(
            "null_value_count",
            file.null_value_counts().get(&id).map(|v| (*v).into()),
        );
        put(
            "nan_value_count",
            file.nan_value_counts().get(&id).map(|v| (*v).into()),
        );
        put(
            "lower_bound",
            file.lower_bounds().get(&id).map(|d| bound_text(d).into()),
        );
        put(
            "upper_bound",
            file.upper_bounds().get(&id).map(|d| bound_text(d).into()),
        );
        out.insert(field.name.clone(), serde_json::Value::Object(metrics));
    }
    serde_json::Value::Object(out).to_string()
}

/// `$files`: every live data and delete file of the snapshot, with its column statistics.
pub async fn files(
    table: &Table,
    snapshot: Option<SnapshotId>,
) -> Result<RecordBatch, CatalogError> {
    let mut live = live_files(table, snapshot).await?;
    live.sort_by(|a, b| a.file.file_path().cmp(b.file.file_path()));
    let spec_ids: Vec<i32> = live.iter().map(|l| l.spec_id).collect();
    let files: Vec<DataFile> = live.into_iter().map(|l| l.file).collect();
    let columns = partition_columns(table);
    let mut fields = vec![
        Field::new("content", DataType::Int32, false),
        Field::new("file_path", DataType::Utf8, false),
        Field::new("file_format", DataType::Utf8, false),
        Field::new("spec_id", DataType::Int32, false),
    ];
    let mut arrays: Vec<ArrayRef> = vec![
        Arc::new(Int32Array::from_iter_values(
            files.iter().map(|f| content_code(f.content_type())),
        )),
        Arc::new(StringArray::from_iter_values(
            files.iter().map(|f| f.file_path()),
        )),
        Arc::new(StringArray::from_iter_values(
            files
                .iter()
                .map(|f| format!("{:?}", f.file_format()).to_ascii_uppercase()),
        )),
        Arc::new(Int32Array::from_iter_values(spec_ids.iter().copied())),
    ];
    if let Some((field, _)) = partition_field(&columns)? {
        let rows: Vec<Vec<ScalarValue>> = files
            .iter()
            .zip(&spec_ids)
            .map(|(f, spec_id)| {
                partition_values(&columns, &spec_field_ids(table, *spec_id), f.partition())
            })
            .collect();
        let typed: Vec<_> = columns
            .iter()
            .map(|c| (c.name.clone(), c.ty.clone()))
            .collect();
        fields.push(field);
        arrays.push(struct_column(&typed, &rows)?);
    }
    let mut split_offsets = ListBuilder::new(Int64Builder::new());
    let mut equality_ids = ListBuilder::new(Int32Builder::new());
    let mut key_metadata = BinaryBuilder::new();
    for file in &files {
        match file.split_offsets() {
            Some(offsets) => {
                split_offsets.values().append_slice(offsets);
                split_offsets.append(true);
            }
            None => split_offsets.append(false),
        }
        match file.equality_ids() {
            Some(ids) => {
                equality_ids.values().append_slice(&ids);
                equality_ids.append(true);
            }
            None => equality_ids.append(false),
        }
        key_metadata.append_option(file.key_metadata());
    }
    let split_offsets = split_offsets.finish();
    let equality_ids = equality_ids.finish();
    fields.extend([
        Field::new("record_count", DataType::Int64, false),
        Field::new("file_size_in_bytes", DataType::Int64, false),
    ]);
    arrays.extend([
        Arc::new(Int64Array::from_iter_values(
            files.iter().map(|f| f.record_count() as i64),
        )) as ArrayRef,
        Arc::new(Int64Array::from_iter_values(
            files.iter().map(|f| f.file_size_in_bytes() as i64),
        )),
    ]);
    for (name, array) in [
        ("column_sizes", counts_map(&files, DataFile::column_sizes)),
        ("value_counts", counts_map(&files, DataFile::value_counts)),
        (
            "null_value_counts",
            counts_map(&files, DataFile::null_value_counts),
        ),
        (
            "nan_value_counts",
            counts_map(&files, DataFile::nan_value_counts),
        ),
        ("lower_bounds", bounds_map(&files, DataFile::lower_bounds)),
        ("upper_bounds", bounds_map(&files, DataFile::upper_bounds)),
    ] {
        fields.push(Field::new(name, array.data_type().clone(), true));
        arrays.push(array);
    }
    fields.extend([
        Field::new("key_metadata", DataType::Binary, true),
        Field::new("split_offsets", split_offsets.data_type().clone(), true),
        Field::new("equality_ids", equality_ids.data_type().clone(), true),
        Field::new("sort_order_id", DataType::Int32, true),
        Field::new("readable_metrics", DataType::Utf8, false),
    ]);
    arrays.extend([
        Arc::new(key_metadata.finish()) as ArrayRef,
        Arc::new(split_offsets),
        Arc::new(equality_ids),
        Arc::new(Int32Array::from_iter(
            files.iter().map(|f| f.sort_order_id()),
        )),
        Arc::new(StringArray::from_iter_values(
            files.iter().map(|f| readable_metrics(table, f)),
        )),
    ]);
    batch(Arc::new(Schema::new(fields)), arrays)
}

/// The data files of one partition, summed.
struct PartitionGroup {
    values: Vec<ScalarValue>,
    records: i64,
    files: i64,
    bytes: i64,
    stats: Vec<ColumnStats>,
}

/// `$partitions`: data files grouped by partition, with their rows, files, bytes and
/// per-column statistics.
pub async fn partitions(
    table: &Table,
    snapshot: Option<SnapshotId>,
) -> Result<RecordBatch, CatalogError> {
    let live = live_files(table, snapshot).await?;
    let columns = partition_columns(table);
    let stats_columns = stats_columns(table.metadata().current_schema());
    // Keyed by the partition values' text so equal tuples of different specs meet.
    let mut groups: BTreeMap<String, PartitionGroup> = BTreeMap::new();
    for LiveFile { file, spec_id } in live
        .iter()
        .filter(|l| l.file.content_type() == DataContentType::Data)
    {
        let values = partition_values(&columns, &spec_field_ids(table, *spec_id), file.partition());
        let key = format!("{values:?}");
        let group = groups.entry(key).or_insert_with(|| PartitionGroup {
            values,
            records: 0,
            files: 0,
            bytes: 0,
            stats: vec![ColumnStats::default(); stats_columns.len()],
        });
        group.records += file.record_count() as i64;
        group.files += 1;
        group.bytes += file.file_size_in_bytes() as i64;
        for (stats, column) in group.stats.iter_mut().zip(&stats_columns) {
            stats.add(column, file);
        }
    }
    let groups: Vec<_> = groups.into_values().collect();
    let mut fields = Vec::new();
    let mut arrays: Vec<ArrayRef> = Vec::new();
    if let Some((field, _)) = partition_field(&columns)? {
        let typed: Vec<_> = columns
            .iter()
            .map(|c| (c.name.clone(), c.ty.clone()))
            .collect();
        let rows: Vec<_> = groups.iter().map(|g| g.values.clone()).collect();
        fields.push(field);
        arrays.push(struct_column(&typed, &rows)?);
    }
    fields.extend([
        Field::new("record_count", DataType::Int64, false),
        Field::new("file_count", DataType::Int64, false),
        Field::new("total_size", DataType::Int64, false),
    ]);
    arrays.extend([
        Arc::new(Int64Array::from_iter_values(
            groups.iter().map(|g| g.records),
        )) as ArrayRef,
        Arc::new(Int64Array::from_iter_values(groups.iter().map(|g| g.files))),
        Arc::new(Int64Array::from_iter_values(groups.iter().map(|g| g.bytes))),
    ]);
    let stats: Vec<Vec<ColumnStats>> = groups.into_iter().map(|g| g.stats).collect();
    if let Some((field, array)) = data_column(&stats_columns, &stats)? {
        fields.push(field);
        arrays.push(array);
    }
    batch(Arc::new(Schema::new(fields)), arrays)
}
