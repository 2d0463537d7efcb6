//! Reading one split: its data file through iceberg's Arrow reader, then its deletes.
//!
//! A split without deletes is read as iceberg reads it, with the pushed predicate pruning row
//! groups and rows. A split with position deletes (files or a deletion vector) is read whole
//! and in file order instead, so that the n-th row read is the file's row n and positions apply
//! by counting; the predicate is dropped for it (the plan filters above the scan anyway).
//! Equality deletes need no positions: they apply to whatever rows the predicate kept.
//! Equality columns the query does not select are read too, then dropped.

use std::sync::Arc;

use arrow::array::{BooleanBufferBuilder, RecordBatch};
use arrow::compute::filter_record_batch;
use datafusion::physical_plan::metrics::Count;
use futures::stream::BoxStream;
use futures::{StreamExt, TryStreamExt, stream};
use iceberg::io::FileIO;
use iceberg::scan::FileScanTask;
use lakegate_proto::scan as pb;
use roaring::RoaringTreemap;

use crate::error::ScanError;
use crate::scan::deletes::{EqualityDeletes, SplitDeletes};
use crate::scan::file_read::read_by_field_id;
use crate::scan::hidden::HiddenValues;
use crate::scan::split::{ScanContext, task_from_split};

/// Batches of one split, in the scan's projection.
pub type SplitStream = BoxStream<'static, Result<RecordBatch, ScanError>>;

/// How one partition of a scan reads its splits.
#[derive(Clone)]
pub struct SplitReader {
    pub file_io: FileIO,
    pub context: Arc<ScanContext>,
    pub batch_size: usize,
    /// Bytes read from storage, data and delete files alike.
    pub bytes_scanned: Count,
    /// Rows dropped by position, vector or equality deletes.
    pub rows_deleted: Count,
}

impl SplitReader {
    /// The rows of `split` that no delete removes.
    pub fn read(self, split: pb::Split) -> SplitStream {
        stream::once(self.open(split)).try_flatten().boxed()
    }

    async fn open(self, split: pb::Split) -> Result<SplitStream, ScanError> {
        let mut task = task_from_split(&split, &self.context)?;
        let hidden = HiddenValues::take(
            &mut task.project_field_ids,
            &self.file_io,
            &split.data_file_path,
        )
        .await?;
        let rows = self.live_rows(split, task).await?;
        Ok(match hidden {
            Some(hidden) => rows
                .and_then(move |batch| futures::future::ready(hidden.insert(batch)))
                .boxed(),
            None => rows,
        })
    }

    /// The rows of the split's file that no delete removes, in `task`'s projection.
    async fn live_rows(
        &self,
        split: pb::Split,
        mut task: FileScanTask,
    ) -> Result<SplitStream, ScanError> {
        if split.deletes.is_empty() {
            return self.data_file(task);
        }
        let deletes = SplitDeletes::load(&split, &self.context, &self.file_io).await?;
        if deletes.is_empty() {
            return self.data_file(task);
        }
        if !deletes.positions.is_empty() {
            // Whole file, every row group, in order: row n of the stream is row n of the file.
            // Equality deletes alone need no positions, so their splits keep the predicate.
            task.predicate = None;
            task.start = 0;
            task.length = 0;
        }
        let width = task.project_field_ids.len();
        let equality: Vec<(Arc<EqualityDeletes>, Vec<usize>)> = deletes
            .equality
            .iter()
            .map(|eq| {
                let columns = eq
                    .field_ids
                    .iter()
                    .map(|id| column_of(&mut task.project_field_ids, *id))
                    .collect();
                (eq.clone(), columns)
            })
            .collect();
        let positions = Arc::new(deletes.positions);
        let rows_deleted = self.rows_deleted.clone();
        let mut next_position = 0u64;
        let rows = self.data_file(task)?;
        Ok(rows
            .and_then(move |batch| {
                let first = next_position;
                next_position += batch.num_rows() as u64;
                let kept = apply_deletes(batch, first, &positions, &equality, width);
                if let Ok((_, deleted)) = &kept {
                    rows_deleted.add(*deleted);
                }
                futures::future::ready(kept.map(|(batch, _)| batch))
            })
            .boxed())
    }

    /// The batches iceberg's reader makes of one data file.
    fn data_file(&self, task: FileScanTask) -> Result<SplitStream, ScanError> {
        let path = task.data_file_path.clone();
        let named = move |source| ScanError::DataFile {
            path: path.clone(),
            source: Box::new(source),
        };
        let read =
            read_by_field_id(&self.file_io, Some(self.batch_size), task).map_err(named.clone())?;
        let metrics = read.metrics;
        let bytes_scanned = self.bytes_scanned.clone();
        let mut reported = 0u64;
        Ok(read
            .batches
            .map(move |batch| {
                let read = metrics.bytes_read();
                if read > reported {
                    bytes_scanned.add((read - reported) as usize);
                    reported = read;
                }
                batch.map_err(named.clone())
            })
            .boxed())
    }
}

/// The index of field `id` in the reader's projection, appending it when not projected.
fn column_of(projection: &mut Vec<i32>, id: i32) -> usize {
    match projection.iter().position(|p| *p == id) {
        Some(index) => index,
        None => {
            projection.push(id);
            projection.len() - 1
        }
    }
}

/// Drops the deleted rows of `batch`, whose first row is the file's row `first`, and the
/// columns past `width` read only for equality deletes; returns the batch and how many rows
/// were dropped.
fn apply_deletes(
    batch: RecordBatch,
    first: u64,
    positions: &RoaringTreemap,
    equality: &[(Arc<EqualityDeletes>, Vec<usize>)],
    width: usize,
) -> Result<(RecordBatch, usize), ScanError> {
    let rows = batch.num_rows();
    let mut keep = BooleanBufferBuilder::new(rows);
    keep.append_n(rows, true);
    let mut deleted = positions.iter();
    deleted.advance_to(first);
    for position in deleted.take_while(|p| *p < first + rows as u64) {
        keep.set_bit((position - first) as usize, false);
    }
    let mut keep = arrow::array::BooleanArray::new(keep.finish(), None);
    for (deletes, columns) in equality {
        let keys: Vec<_> = columns.iter().map(|c| batch.column(*c).clone()).collect();
        let hit = deletes.deleted(&keys)?;
        keep = arrow::compute::and_not(&keep, &hit)?;
    }
    let dropped = rows - keep.true_count();
    let batch = batch.project(&(0..width).collect::<Vec<_>>())?;
    if dropped == 0 {
        return Ok((batch, 0));
    }
    Ok((filter_record_batch(&batch, &keep)?, dropped))
}

#[cfg(test)]
mod tests {
    use arrow::array::{AsArray, Int64Array, StringArray};
    use arrow::datatypes::{DataType, Field, Schema};

    use super::*;

    fn batch(ids: Vec<i64>) -> RecordBatch {
        let names: Vec<String> = ids.iter().map(|i| format!("n{i}")).collect();
        RecordBatch::try_new(
            Arc::new(Schema::new(vec![
                Field::new("id", DataType::Int64, false),
                Field::new("name", DataType::Utf8, false),
            ])),
            vec![
                Arc::new(Int64Array::from(ids)),
                Arc::new(StringArray::from(names)),
            ],
        )
        .expect("batch")
    }

    #[test]
    fn positions_count_from_the_batch_start_in_the_file() {
        let positions: RoaringTreemap = [1, 10, 11, 25].into_iter().collect();
        // The file's rows 10..20: positions 10 and 11 fall here, 1 and 25 do not.
        let (kept, dropped) =
            apply_deletes(batch((10..20).collect()), 10, &positions, &[], 2).expect("applies");
        assert_eq!(dropped, 2);
        let ids = kept.column(0).as_primitive::<arrow::datatypes::Int64Type>();
        assert_eq!(ids.values().to_vec(), (12..20).collect::<Vec<i64>>());
    }

    #[test]
    fn columns_read_for_equality_deletes_are_dropped() {
        let (kept, dropped) =
            apply_deletes(batch(vec![1, 2]), 0, &RoaringTreemap::new(), &[], 1).expect("applies");
        assert_eq!((kept.num_columns(), kept.num_rows(), dropped), (1, 2, 0));
    }
}
