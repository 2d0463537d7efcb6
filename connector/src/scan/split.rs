//! Splits: iceberg's `FileScanTask`s turned into messages that travel to executors and back.
//!
//! A split is one byte range of one data file with the delete files that apply to it. The
//! coordinator plans them once per query against a pinned snapshot; executors rebuild the
//! `FileScanTask` that iceberg's Arrow reader wants from the split and the scan-wide context
//! ([`ScanContext`]) the node carries once instead of in every split.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use iceberg::expr::BoundPredicate;
use iceberg::scan::FileScanTask;
use iceberg::spec::{
    DataContentType, DataFileFormat, Literal, NameMapping, PartitionSpecRef, SchemaRef, Struct,
    Type,
};
use lakegate_proto::scan as pb;

use crate::error::ScanError;
use crate::scan::delete_index::DeleteIndex;

/// What every split of one scan shares: the schema, projection, predicate and partition specs.
#[derive(Debug, Clone)]
pub struct ScanContext {
    /// Iceberg schema of the table at the pinned snapshot.
    pub table_schema: SchemaRef,
    /// Field ids of the output columns, in output order.
    pub projected_field_ids: Vec<i32>,
    /// Predicate bound to `table_schema`, applied by the reader (inexact).
    pub predicate: Option<BoundPredicate>,
    /// Partition specs that splits refer to by id.
    pub partition_specs: HashMap<i32, PartitionSpecRef>,
    /// Fallback column-name to field-id mapping for files without field ids.
    pub name_mapping: Option<Arc<NameMapping>>,
    pub case_sensitive: bool,
}

/// Builds a split from a planned task. The task's schema, projection and predicate are the
/// scan's and travel once in [`ScanContext`]; `index` completes what iceberg's planner knows of
/// its delete files.
pub fn split_from_task(task: &FileScanTask, index: &DeleteIndex) -> Result<pb::Split, ScanError> {
    if task.data_file_format != DataFileFormat::Parquet {
        return Err(ScanError::UnsupportedFormat {
            path: task.data_file_path.clone(),
            what: "data file",
            format: format!("{:?}", task.data_file_format),
        });
    }
    let partition_json = match (&task.partition, &task.partition_spec) {
        (Some(partition), Some(spec)) => {
            let partition_type = spec.partition_type(&task.schema)?;
            let json =
                Literal::Struct(partition.clone()).try_into_json(&Type::Struct(partition_type))?;
            Some(json.to_string())
        }
        _ => None,
    };
    Ok(pb::Split {
        data_file_path: task.data_file_path.clone(),
        file_size_in_bytes: task.file_size_in_bytes,
        start: task.start,
        length: task.length,
        record_count: task.record_count,
        deletes: split_deletes(task, index)?,
        partition_spec_id: task
            .partition_spec
            .as_ref()
            .map_or(0, |spec| spec.spec_id()),
        partition_json,
    })
}

/// Rebuilds the reader's task for one split.
pub fn task_from_split(split: &pb::Split, ctx: &ScanContext) -> Result<FileScanTask, ScanError> {
    let partition_spec = ctx.partition_specs.get(&split.partition_spec_id).cloned();
    let partition = match (&split.partition_json, &partition_spec) {
        (Some(json), Some(spec)) => {
            let value: serde_json::Value =
                serde_json::from_str(json).map_err(|source| ScanError::Json {
                    what: "partition tuple",
                    source,
                })?;
            let partition_type = Type::Struct(spec.partition_type(&ctx.table_schema)?);
            match Literal::try_from_json(value, &partition_type)? {
                Some(Literal::Struct(s)) => Some(s),
                _ => Some(Struct::empty()),
            }
        }
        _ => None,
    };
    Ok(FileScanTask {
        file_size_in_bytes: split.file_size_in_bytes,
        start: split.start,
        length: split.length,
        record_count: split.record_count,
        data_file_path: split.data_file_path.clone(),
        data_file_format: DataFileFormat::Parquet,
        schema: ctx.table_schema.clone(),
        project_field_ids: ctx.projected_field_ids.clone(),
        predicate: ctx.predicate.clone(),
        // Deletes are applied by our reader (see `read`), never handed to iceberg's.
        deletes: Vec::new(),
        partition,
        partition_spec,
        name_mapping: ctx.name_mapping.clone(),
        case_sensitive: ctx.case_sensitive,
    })
}

/// The delete files of one data file, as the split carries them.
///
/// iceberg lists a Puffin file once per deletion vector in it, and a position delete file even
/// when its entry names another data file; each path is resolved against the manifests here.
/// A deletion vector replaces the position delete files of its data file: v3 writers merge
/// those into the vector (Iceberg spec, "Deletion Vectors"), so applying both would be wasted
/// work, never a different answer.
fn split_deletes(
    task: &FileScanTask,
    index: &DeleteIndex,
) -> Result<Vec<pb::DeleteFile>, ScanError> {
    let mut seen = HashSet::new();
    let mut files = Vec::new();
    let mut vector: Option<pb::DeleteFile> = None;
    for delete in &task.deletes {
        if !seen.insert(delete.file_path.as_str()) {
            continue;
        }
        let base = pb::DeleteFile {
            file_path: delete.file_path.clone(),
            file_size_in_bytes: delete.file_size_in_bytes,
            partition_spec_id: delete.partition_spec_id,
            ..Default::default()
        };
        if delete.file_type == DataContentType::EqualityDeletes {
            files.push(pb::DeleteFile {
                content: pb::DeleteContent::EqualityDeletes as i32,
                equality_ids: delete.equality_ids.clone().unwrap_or_default(),
                ..base
            });
            continue;
        }
        if !index.knows(&delete.file_path) {
            // Not in this snapshot's delete manifests: take iceberg's word that it applies.
            files.push(base);
            continue;
        }
        for entry in index.entries_for(&delete.file_path, &task.data_file_path) {
            match entry.format {
                DataFileFormat::Parquet => files.push(pb::DeleteFile {
                    referenced_data_file: entry.referenced_data_file.clone(),
                    ..base.clone()
                }),
                DataFileFormat::Puffin => {
                    let found = pb::DeleteFile {
                        content: pb::DeleteContent::DeletionVector as i32,
                        content_offset: non_negative(entry.content_offset, &delete.file_path)?,
                        content_size_in_bytes: non_negative(
                            entry.content_size_in_bytes,
                            &delete.file_path,
                        )?,
                        referenced_data_file: entry.referenced_data_file.clone(),
                        ..base.clone()
                    };
                    if let Some(first) = &vector {
                        return Err(ScanError::DuplicateDeletionVector {
                            data_file: task.data_file_path.clone(),
                            first: first.file_path.clone(),
                            second: found.file_path,
                        });
                    }
                    vector = Some(found);
                }
                other => {
                    return Err(ScanError::UnsupportedFormat {
                        path: delete.file_path.clone(),
                        what: "delete file",
                        format: format!("{other:?}"),
                    });
                }
            }
        }
    }
    if let Some(vector) = vector {
        files.retain(|f| f.content() != pb::DeleteContent::PositionDeletes);
        files.push(vector);
    }
    Ok(files)
}

/// A deletion vector's offset or size from its manifest entry, which must be there.
fn non_negative(value: Option<i64>, path: &str) -> Result<u64, ScanError> {
    value
        .and_then(|v| u64::try_from(v).ok())
        .ok_or_else(|| ScanError::DeleteFile {
            path: path.to_string(),
            reason: "deletion vector without a valid content offset and size".into(),
        })
}

/// Spreads splits over at most `target` partitions so each reads about the same number of
/// bytes: largest split first, each to the partition with the fewest bytes so far.
pub fn balance_by_bytes(mut splits: Vec<pb::Split>, target: usize) -> Vec<Vec<pb::Split>> {
    let count = target.max(1).min(splits.len().max(1));
    let mut partitions: Vec<(u64, Vec<pb::Split>)> = (0..count).map(|_| (0, Vec::new())).collect();
    splits.sort_by_key(|s| std::cmp::Reverse(s.length));
    for split in splits {
        if let Some(lightest) = partitions.iter_mut().min_by_key(|(bytes, _)| *bytes) {
            lightest.0 += split.length;
            lightest.1.push(split);
        }
    }
    partitions.into_iter().map(|(_, splits)| splits).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(path: &str, length: u64) -> pb::Split {
        pb::Split {
            data_file_path: path.into(),
            length,
            ..Default::default()
        }
    }

    #[test]
    fn balance_spreads_bytes_evenly() {
        let splits = vec![
            split("a", 100),
            split("b", 60),
            split("c", 50),
            split("d", 10),
        ];
        let partitions = balance_by_bytes(splits, 2);
        let bytes: Vec<u64> = partitions
            .iter()
            .map(|p| p.iter().map(|s| s.length).sum())
            .collect();
        assert_eq!(bytes.iter().sum::<u64>(), 220);
        assert_eq!(bytes, vec![110, 110]);
    }

    #[test]
    fn balance_never_makes_empty_partitions_beyond_the_splits() {
        assert_eq!(balance_by_bytes(vec![split("a", 1)], 8).len(), 1);
        assert_eq!(balance_by_bytes(Vec::new(), 8).len(), 1);
    }
}
