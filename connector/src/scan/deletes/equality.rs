//! Equality delete files: rows whose equality columns name the rows to drop.
//!
//! iceberg 0.10 turns an equality delete file into one `NOT (a = x AND b = y)` predicate per
//! deleted row, which costs a kernel per deleted row per batch: a CDC table with a million
//! upserts would never finish. Here the deleted keys become a hash set of Arrow row encodings
//! and each batch is probed once, so the cost is one hash lookup per row read.

use std::collections::HashSet;

use ahash::RandomState;

use arrow::array::{ArrayRef, BooleanArray};
use arrow::row::{RowConverter, SortField};
use futures::TryStreamExt;
use iceberg::io::FileIO;
use iceberg::scan::FileScanTask;
use iceberg::spec::DataFileFormat;

use crate::error::ScanError;
use crate::scan::file_read::read_by_field_id;
use crate::scan::split::ScanContext;

/// The keys one equality delete file deletes.
pub struct EqualityDeletes {
    /// Field ids of the equality columns, in the order keys are encoded.
    pub field_ids: Vec<i32>,
    converter: RowConverter,
    /// aHash, not SipHash: every row read is probed, and keys are not attacker-chosen.
    keys: HashSet<Box<[u8]>, RandomState>,
    bytes: usize,
}

impl std::fmt::Debug for EqualityDeletes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EqualityDeletes")
            .field("field_ids", &self.field_ids)
            .field("keys", &self.keys.len())
            .finish()
    }
}

impl EqualityDeletes {
    /// For each row of `columns` (the equality columns, in [`Self::field_ids`] order), whether
    /// a delete names it. NULL matches NULL, as the Iceberg spec says for equality deletes.
    pub fn deleted(&self, columns: &[ArrayRef]) -> Result<BooleanArray, ScanError> {
        let rows = self.converter.convert_columns(columns)?;
        Ok(rows
            .iter()
            .map(|row| Some(self.keys.contains(row.as_ref())))
            .collect())
    }

    /// Approximate heap size, for the delete cache's budget.
    pub fn size_in_bytes(&self) -> usize {
        self.bytes
    }
}

/// Reads the equality columns of an equality delete file with the table schema of the pinned
/// snapshot, so columns match the data by field id (renames and type promotions included).
pub async fn load_equality(
    file_io: &FileIO,
    path: &str,
    file_size_in_bytes: u64,
    field_ids: &[i32],
    ctx: &ScanContext,
) -> Result<EqualityDeletes, ScanError> {
    let named = |source: ScanError| ScanError::DeleteFile {
        path: path.to_string(),
        reason: source.to_string(),
    };
    let types = super::field_types(ctx, field_ids).map_err(named)?;
    let task = FileScanTask {
        file_size_in_bytes,
        start: 0,
        length: 0,
        record_count: None,
        data_file_path: path.to_string(),
        data_file_format: DataFileFormat::Parquet,
        schema: ctx.table_schema.clone(),
        project_field_ids: field_ids.to_vec(),
        predicate: None,
        deletes: Vec::new(),
        partition: None,
        partition_spec: None,
        name_mapping: ctx.name_mapping.clone(),
        case_sensitive: ctx.case_sensitive,
    };
    let batches: Vec<_> = read_by_field_id(file_io, None, task)
        .map_err(|e| named(e.into()))?
        .batches
        .try_collect()
        .await
        .map_err(|e| named(e.into()))?;

    let converter = RowConverter::new(types.into_iter().map(SortField::new).collect())?;
    let mut keys = HashSet::with_hasher(RandomState::new());
    let mut bytes = 0;
    for batch in batches {
        let rows = converter.convert_columns(batch.columns())?;
        for row in rows.iter() {
            bytes += row.as_ref().len() + 16;
            keys.insert(Box::<[u8]>::from(row.as_ref()));
        }
    }
    Ok(EqualityDeletes {
        field_ids: field_ids.to_vec(),
        converter,
        keys,
        bytes,
    })
}
