//! One Parquet file through iceberg's Arrow reader, its columns matched by field id.
//!
//! iceberg 0.10's reader hands Parquet's columns (in the file's order) to a transformer that
//! puts them in the requested order. When the file's columns, in file order, have the same
//! types and nullability as the requested ones in requested order, the transformer takes it
//! for a mere renaming and relabels the columns without moving them: `[note, region]` asked of
//! a file written `[region, note]` comes back with the two swapped. That happens whenever a
//! projection's order is not the file's: equality columns appended to a projection, a file
//! written before its columns were reordered. Adding the `_file` metadata column (a constant,
//! stored run-end encoded) gives the requested schema one field more than the file, which
//! sends every read down the transformer's field-id path; it is dropped again here.

use arrow::array::RecordBatch;
use futures::stream::BoxStream;
use futures::{StreamExt, stream};
use iceberg::arrow::{ArrowReaderBuilder, ScanMetrics};
use iceberg::io::FileIO;
use iceberg::metadata_columns::RESERVED_FIELD_ID_FILE;
use iceberg::scan::FileScanTask;

/// The batches of one file, exactly in `task.project_field_ids` order, and the reader's byte
/// counter.
pub struct FileRead {
    pub batches: BoxStream<'static, iceberg::Result<RecordBatch>>,
    pub metrics: ScanMetrics,
}

/// Reads the file `task` names (see the module doc for why `_file` is requested too).
pub fn read_by_field_id(
    file_io: &FileIO,
    batch_size: Option<usize>,
    mut task: FileScanTask,
) -> iceberg::Result<FileRead> {
    let width = task.project_field_ids.len();
    task.project_field_ids.push(RESERVED_FIELD_ID_FILE);
    let mut builder = ArrowReaderBuilder::new(file_io.clone(), iceberg::Runtime::try_current()?)
        .with_row_group_filtering_enabled(true);
    if let Some(rows) = batch_size {
        builder = builder.with_batch_size(rows);
    }
    let scan = builder.build().read(Box::pin(stream::iter([Ok(task)])))?;
    let metrics = scan.metrics().clone();
    let kept: Vec<usize> = (0..width).collect();
    let batches = scan
        .stream()
        .map(move |batch| {
            batch.and_then(|batch| {
                batch.project(&kept).map_err(|e| {
                    iceberg::Error::new(iceberg::ErrorKind::Unexpected, "dropping _file")
                        .with_source(e)
                })
            })
        })
        .boxed();
    Ok(FileRead { batches, metrics })
}
