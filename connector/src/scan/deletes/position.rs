//! Position delete files (v2): Parquet rows of `(file_path, pos)`, possibly for many data files.

use std::collections::HashMap;

use arrow::array::{Array, AsArray};
use arrow::datatypes::Int64Type;
use iceberg::io::FileIO;
use parquet::arrow::ProjectionMask;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use roaring::RoaringTreemap;

use crate::error::ScanError;

/// Column names the Iceberg spec fixes for position delete files.
const FILE_PATH: &str = "file_path";
const POS: &str = "pos";

/// The deleted positions a position delete file lists, by data file path.
pub type PositionsByFile = HashMap<String, RoaringTreemap>;

/// Reads a whole position delete file (they are small next to the data they delete).
pub async fn load_positions(file_io: &FileIO, path: &str) -> Result<PositionsByFile, ScanError> {
    let bytes = file_io.new_input(path)?.read().await?;
    parse_positions(bytes).map_err(|reason| ScanError::DeleteFile {
        path: path.to_string(),
        reason,
    })
}

fn parse_positions(bytes: bytes::Bytes) -> Result<PositionsByFile, String> {
    let builder = ParquetRecordBatchReaderBuilder::try_new(bytes)
        .map_err(|e| format!("not a readable Parquet file: {e}"))?;
    let schema = builder.parquet_schema();
    let column = |name: &str| {
        (0..schema.num_columns())
            .find(|&i| schema.column(i).path().string() == name)
            .ok_or_else(|| format!("no {name} column"))
    };
    let mask = ProjectionMask::leaves(schema, [column(FILE_PATH)?, column(POS)?]);
    let reader = builder
        .with_projection(mask)
        .build()
        .map_err(|e| e.to_string())?;
    let mut out = PositionsByFile::new();
    for batch in reader {
        let batch = batch.map_err(|e| e.to_string())?;
        let paths = batch
            .column_by_name(FILE_PATH)
            .ok_or("no file_path column")?;
        let paths = arrow::compute::cast(paths, &arrow::datatypes::DataType::Utf8)
            .map_err(|e| format!("file_path: {e}"))?;
        let paths = paths.as_string::<i32>();
        let positions = batch
            .column_by_name(POS)
            .ok_or("no pos column")?
            .as_primitive_opt::<Int64Type>()
            .ok_or("pos is not a long column")?;
        if paths.null_count() > 0 || positions.null_count() > 0 {
            return Err("null file_path or pos".into());
        }
        // Rows are sorted by file path: look the bitmap up once per run of equal paths.
        let mut row = 0;
        while row < batch.num_rows() {
            let path = paths.value(row);
            let bitmap = out.entry(path.to_string()).or_default();
            while row < batch.num_rows() && paths.value(row) == path {
                let pos = positions.value(row);
                let pos = u64::try_from(pos).map_err(|_| format!("negative position {pos}"))?;
                bitmap.insert(pos);
                row += 1;
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::array::{Int64Array, RecordBatch, StringArray};
    use arrow::datatypes::{DataType, Field, Schema};
    use parquet::arrow::ArrowWriter;

    use super::*;

    fn file(paths: &[&str], positions: &[i64]) -> bytes::Bytes {
        let schema = Arc::new(Schema::new(vec![
            Field::new(FILE_PATH, DataType::Utf8, false),
            Field::new(POS, DataType::Int64, false),
        ]));
        let batch = RecordBatch::try_new(
            schema.clone(),
            vec![
                Arc::new(StringArray::from(paths.to_vec())),
                Arc::new(Int64Array::from(positions.to_vec())),
            ],
        )
        .expect("batch");
        let mut out = Vec::new();
        let mut writer = ArrowWriter::try_new(&mut out, schema, None).expect("writer");
        writer.write(&batch).expect("write");
        writer.close().expect("close");
        out.into()
    }

    #[test]
    fn groups_positions_by_data_file() {
        let parsed = parse_positions(file(&["a", "a", "b"], &[3, 9, 0])).expect("parses");
        assert_eq!(parsed["a"].iter().collect::<Vec<_>>(), [3, 9]);
        assert_eq!(parsed["b"].iter().collect::<Vec<_>>(), [0]);
    }

    #[test]
    fn refuses_what_is_not_a_position_delete_file() {
        assert!(
            parse_positions(bytes::Bytes::from_static(b"not parquet"))
                .unwrap_err()
                .contains("Parquet")
        );
        assert!(
            parse_positions(file(&["a"], &[-1]))
                .unwrap_err()
                .contains("negative")
        );
    }
}
