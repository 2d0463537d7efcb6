//! Trino's hidden columns of an Iceberg table: `"$path"` (the data file a row was read from)
//! and `"$file_modified_time"` (when that file was last written, as the object store says).
//!
//! They are not in the table's schema: the scan asks for them by pseudo field ids outside the
//! range Iceberg assigns (and outside its own reserved metadata ids), and fills them per split
//! as constants, after the data file's own columns are read and its deletes applied.

use std::sync::Arc;
use std::time::UNIX_EPOCH;

use arrow::array::{ArrayRef, RecordBatch, StringArray, TimestampMillisecondArray};
use arrow::datatypes::{DataType, Field, TimeUnit};
use iceberg::io::FileIO;

use crate::error::ScanError;

/// Pseudo field id of `"$path"`.
pub const PATH_FIELD_ID: i32 = i32::MAX - 1000;
/// Pseudo field id of `"$file_modified_time"`.
pub const FILE_MODIFIED_TIME_FIELD_ID: i32 = i32::MAX - 1001;

/// A hidden column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HiddenColumn {
    Path,
    FileModifiedTime,
}

impl HiddenColumn {
    /// In the order a table exposes them after its own columns.
    pub const ALL: [HiddenColumn; 2] = [HiddenColumn::Path, HiddenColumn::FileModifiedTime];

    pub fn of(field_id: i32) -> Option<HiddenColumn> {
        match field_id {
            PATH_FIELD_ID => Some(HiddenColumn::Path),
            FILE_MODIFIED_TIME_FIELD_ID => Some(HiddenColumn::FileModifiedTime),
            _ => None,
        }
    }

    pub fn field_id(self) -> i32 {
        match self {
            HiddenColumn::Path => PATH_FIELD_ID,
            HiddenColumn::FileModifiedTime => FILE_MODIFIED_TIME_FIELD_ID,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            HiddenColumn::Path => "$path",
            HiddenColumn::FileModifiedTime => "$file_modified_time",
        }
    }

    /// Trino's types: `varchar` and `timestamp(3) with time zone`.
    pub fn field(self) -> Field {
        match self {
            HiddenColumn::Path => Field::new(self.name(), DataType::Utf8, false),
            HiddenColumn::FileModifiedTime => Field::new(
                self.name(),
                DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into())),
                true,
            ),
        }
    }
}

/// Where hidden columns go in a split's output, and their values for its file.
#[derive(Debug, Clone)]
pub struct HiddenValues {
    /// `(output position, column)`, by position.
    columns: Vec<(usize, HiddenColumn)>,
    path: String,
    modified_ms: Option<i64>,
}

impl HiddenValues {
    /// Takes the hidden columns out of `projection` (they are not read from the file) and
    /// looks up what they need for the file at `path`.
    pub async fn take(
        projection: &mut Vec<i32>,
        file_io: &FileIO,
        path: &str,
    ) -> Result<Option<HiddenValues>, ScanError> {
        let columns: Vec<(usize, HiddenColumn)> = projection
            .iter()
            .enumerate()
            .filter_map(|(at, id)| HiddenColumn::of(*id).map(|c| (at, c)))
            .collect();
        if columns.is_empty() {
            return Ok(None);
        }
        projection.retain(|id| HiddenColumn::of(*id).is_none());
        let modified_ms = if columns
            .iter()
            .any(|(_, c)| *c == HiddenColumn::FileModifiedTime)
        {
            super::file_stat::modified(file_io, path)
                .await?
                .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
                .map(|d| d.as_millis() as i64)
        } else {
            None
        };
        Ok(Some(HiddenValues {
            columns,
            path: path.to_string(),
            modified_ms,
        }))
    }

    /// `batch` (the file's own columns) with the hidden columns put back in place.
    pub fn insert(&self, batch: RecordBatch) -> Result<RecordBatch, ScanError> {
        let rows = batch.num_rows();
        let mut fields: Vec<Arc<Field>> = batch.schema().fields().iter().cloned().collect();
        let mut columns: Vec<ArrayRef> = batch.columns().to_vec();
        for (at, column) in &self.columns {
            let array: ArrayRef = match column {
                HiddenColumn::Path => Arc::new(StringArray::from_iter_values(std::iter::repeat_n(
                    self.path.as_str(),
                    rows,
                ))),
                HiddenColumn::FileModifiedTime => Arc::new(
                    TimestampMillisecondArray::from(vec![self.modified_ms; rows])
                        .with_timezone("UTC"),
                ),
            };
            fields.insert(*at, Arc::new(column.field()));
            columns.insert(*at, array);
        }
        let options = arrow::record_batch::RecordBatchOptions::new().with_row_count(Some(rows));
        Ok(RecordBatch::try_new_with_options(
            Arc::new(arrow::datatypes::Schema::new(fields)),
            columns,
            &options,
        )?)
    }
}
