//! Errors of the Iceberg scan: planning, encoding and reading splits.

use datafusion::error::DataFusionError;

/// What went wrong in the scan, naming the table, file or message that failed.
#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    /// iceberg reported an error (catalog metadata, manifest, data or delete file).
    #[error("iceberg: {0}")]
    Iceberg(#[from] iceberg::Error),
    /// A JSON part of a scan message did not parse.
    #[error("scan message: invalid {what}: {source}")]
    Json {
        what: &'static str,
        #[source]
        source: serde_json::Error,
    },
    /// A scan message could not be decoded at all.
    #[error("scan message: {0}")]
    Decode(#[from] prost::DecodeError),
    /// The scan asked for a snapshot that the table's metadata does not have.
    #[error("table {table} has no snapshot {snapshot_id}")]
    UnknownSnapshot { table: String, snapshot_id: i64 },
    /// A projected column does not exist in the table schema.
    #[error("table {table} has no field with id {field_id}")]
    UnknownField { table: String, field_id: i32 },
    /// A data file could not be read (missing, unreadable, not Parquet).
    #[error("data file {path}: {source}")]
    DataFile {
        path: String,
        #[source]
        source: Box<iceberg::Error>,
    },
    /// A delete file (or a deletion vector's blob) could not be read as what its manifest
    /// entry says it is.
    #[error("delete file {path}: {reason}")]
    DeleteFile { path: String, reason: String },
    /// A data or delete file is in a format the scan does not read.
    #[error(
        "{path}: {what} in {format} format cannot be read (only Parquet, and Puffin deletion vectors)"
    )]
    UnsupportedFormat {
        path: String,
        what: &'static str,
        format: String,
    },
    /// Two deletion vectors claim the same data file, which the Iceberg spec forbids.
    #[error("data file {data_file} has two deletion vectors ({first} and {second})")]
    DuplicateDeletionVector {
        data_file: String,
        first: String,
        second: String,
    },
    /// The object store would not say when a file was written (`$file_modified_time`).
    #[error("{path}: cannot read its modification time: {reason}")]
    FileStat { path: String, reason: String },
    /// A failure shared by every reader waiting for the same delete file.
    #[error(transparent)]
    Shared(#[from] std::sync::Arc<ScanError>),
    /// Arrow could not rebuild a batch in the scan's output schema.
    #[error("arrow: {0}")]
    Arrow(#[from] arrow::error::ArrowError),
}

impl From<ScanError> for DataFusionError {
    fn from(err: ScanError) -> Self {
        match err {
            ScanError::Arrow(e) => DataFusionError::ArrowError(Box::new(e), None),
            other => DataFusionError::External(Box::new(other)),
        }
    }
}
