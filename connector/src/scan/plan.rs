//! Planning a scan: iceberg's file planning against one snapshot, turned into a scan node.

use std::collections::HashMap;
use std::sync::Arc;

use futures::TryStreamExt;
use iceberg::expr::{Bind, Predicate};
use iceberg::spec::NameMapping;
use iceberg::table::Table;

use crate::error::ScanError;
use crate::scan::delete_index::DeleteIndex;
use crate::scan::exec::{IcebergScanExec, IcebergScanParts};
use crate::scan::schema::{field_ids_at, projected_arrow_schema};
use crate::scan::split::{ScanContext, balance_by_bytes, split_from_task};

/// Table property that holds the default name mapping (Iceberg spec, "Column Projection").
const NAME_MAPPING_PROPERTY: &str = "schema.name-mapping.default";

/// One scan to plan: a table pinned at a snapshot, the columns wanted and the pushed filters.
pub struct ScanRequest<'a> {
    /// The loaded table; only its metadata and file IO are used, never its current snapshot.
    pub table: &'a Table,
    /// Fully qualified name, for EXPLAIN and errors.
    pub table_name: String,
    pub snapshot_id: i64,
    /// Indices into the table's Arrow schema; `None` reads every column.
    pub projection: Option<Vec<usize>>,
    /// Conjuncts to push down (see [`crate::scan::to_iceberg_predicate`]).
    pub filters: Vec<Predicate>,
    pub limit: Option<usize>,
    /// How many output partitions to spread the splits over.
    pub target_partitions: usize,
}

/// Plans the files of one scan and returns the node that reads them.
///
/// Manifest and partition pruning happen in iceberg's planner with the filters; the reader
/// applies them again to row groups. With a limit and no filter, planning stops adding files
/// once their record counts cover the limit.
#[tracing::instrument(level = "debug", skip_all, fields(table = %request.table_name, snapshot = request.snapshot_id))]
pub async fn plan_scan(request: ScanRequest<'_>) -> Result<IcebergScanExec, ScanError> {
    let metadata = request.table.metadata();
    let snapshot = metadata
        .snapshot_by_id(request.snapshot_id)
        .ok_or_else(|| ScanError::UnknownSnapshot {
            table: request.table_name.clone(),
            snapshot_id: request.snapshot_id,
        })?;
    let table_schema = snapshot.schema(metadata)?;
    let field_ids = match &request.projection {
        Some(indices) => field_ids_at(&table_schema, indices),
        None => table_schema
            .as_struct()
            .fields()
            .iter()
            .map(|f| f.id)
            .collect(),
    };
    let schema = projected_arrow_schema(&request.table_name, &table_schema, &field_ids)?;

    // A conjunct that does not bind (a type iceberg will not compare) is left to DataFusion.
    let predicate = request
        .filters
        .into_iter()
        .filter(|p| p.bind(table_schema.clone(), true).is_ok())
        .reduce(Predicate::and);

    let column_names: Vec<String> = field_ids
        .iter()
        .filter_map(|id| table_schema.field_by_id(*id).map(|f| f.name.clone()))
        .collect();
    let mut builder = request.table.scan().snapshot_id(request.snapshot_id);
    builder = if column_names.is_empty() {
        builder.select_empty()
    } else {
        builder.select(column_names)
    };
    if let Some(predicate) = predicate.clone() {
        builder = builder.with_filter(predicate);
    }
    let tasks: Vec<_> = builder.build()?.plan_files().await?.try_collect().await?;

    let index = if tasks.iter().any(|t| !t.deletes.is_empty()) {
        DeleteIndex::load(request.table, request.snapshot_id).await?
    } else {
        DeleteIndex::default()
    };
    let mut splits = tasks
        .iter()
        .map(|task| split_from_task(task, &index))
        .collect::<Result<Vec<_>, _>>()?;
    if let (Some(limit), None) = (request.limit, &predicate) {
        splits = cover_limit(splits, limit as u64);
    }
    // The snapshot's own count of its data files, against those planned.
    let files_pruned = snapshot
        .summary()
        .additional_properties
        .get("total-data-files")
        .and_then(|n| n.parse::<usize>().ok())
        .map_or(0, |total| total.saturating_sub(tasks.len()));
    tracing::debug!(
        files = splits.len(),
        files_pruned,
        with_deletes = splits.iter().filter(|s| !s.deletes.is_empty()).count(),
        "planned"
    );

    let context = ScanContext {
        table_schema: table_schema.clone(),
        projected_field_ids: field_ids,
        predicate: tasks.first().and_then(|t| t.predicate.clone()),
        partition_specs: metadata
            .partition_specs_iter()
            .map(|spec| (spec.spec_id(), spec.clone()))
            .collect::<HashMap<_, _>>(),
        name_mapping: name_mapping(request.table)?,
        case_sensitive: true,
    };
    Ok(IcebergScanExec::new(IcebergScanParts {
        table: request.table_name,
        snapshot_id: request.snapshot_id,
        context,
        tasks: vec![balance_by_bytes(splits, request.target_partitions)],
        limit: request.limit,
        schema,
        file_io: request.table.file_io().clone(),
    })
    .pruned(files_pruned))
}

/// The fewest leading splits whose record counts reach `limit`. A split with an unknown count or
/// with deletes (its rows may be fewer than its count) is kept but counts for nothing.
fn cover_limit(
    splits: Vec<lakegate_proto::scan::Split>,
    limit: u64,
) -> Vec<lakegate_proto::scan::Split> {
    let mut covered = 0u64;
    let mut kept = Vec::new();
    for split in splits {
        if covered >= limit {
            break;
        }
        match split.record_count {
            Some(count) if split.deletes.is_empty() => covered += count,
            _ => {}
        }
        kept.push(split);
    }
    kept
}

fn name_mapping(table: &Table) -> Result<Option<Arc<NameMapping>>, ScanError> {
    table
        .metadata()
        .properties()
        .get(NAME_MAPPING_PROPERTY)
        .map(|json| {
            serde_json::from_str(json)
                .map(Arc::new)
                .map_err(|source| ScanError::Json {
                    what: "name mapping",
                    source,
                })
        })
        .transpose()
}
