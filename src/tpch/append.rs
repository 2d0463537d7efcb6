//! Appending Arrow batches to an Iceberg table: Parquet (zstd) data files written through
//! iceberg's writers, split by the table's partition spec, committed as one fast-append
//! snapshot.

use std::sync::Arc;

use arrow::record_batch::RecordBatch;
use iceberg::Catalog;
use iceberg::arrow::RecordBatchPartitionSplitter;
use iceberg::spec::DataFileFormat;
use iceberg::table::Table;
use iceberg::transaction::{ApplyTransactionAction, Transaction};
use iceberg::writer::base_writer::data_file_writer::DataFileWriterBuilder;
use iceberg::writer::file_writer::ParquetWriterBuilder;
use iceberg::writer::file_writer::location_generator::{
    DefaultFileNameGenerator, DefaultLocationGenerator,
};
use iceberg::writer::file_writer::rolling_writer::RollingFileWriterBuilder;
use iceberg::writer::partitioning::PartitioningWriter;
use iceberg::writer::partitioning::fanout_writer::FanoutWriter;
use iceberg::writer::{IcebergWriter, IcebergWriterBuilder};
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::WriterProperties;

/// Writes `batches` as new data files of `table` and commits them in one snapshot. Batches must
/// have the table's Arrow schema (with field ids, as `iceberg::arrow::schema_to_arrow_schema`
/// gives it). Returns the table as of the new snapshot.
pub async fn append_batches(
    catalog: &dyn Catalog,
    table: &Table,
    batches: Vec<RecordBatch>,
) -> iceberg::Result<Table> {
    let metadata = table.metadata();
    let schema = metadata.current_schema().clone();
    let spec = metadata.default_partition_spec().clone();
    let properties = WriterProperties::builder()
        .set_compression(Compression::ZSTD(ZstdLevel::default()))
        .build();
    let file_names = DefaultFileNameGenerator::new(
        format!("lakegate-{}", uuid::Uuid::new_v4()),
        None,
        DataFileFormat::Parquet,
    );
    let rolling = RollingFileWriterBuilder::new_with_default_file_size(
        ParquetWriterBuilder::new(properties, schema.clone()),
        table.file_io().clone(),
        DefaultLocationGenerator::new(metadata)?,
        file_names,
    );
    let data_files = DataFileWriterBuilder::new(rolling);

    let files = if spec.is_unpartitioned() {
        let mut writer = data_files.build(None).await?;
        for batch in batches {
            writer.write(batch).await?;
        }
        writer.close().await?
    } else {
        let splitter = RecordBatchPartitionSplitter::try_new_with_computed_values(schema, spec)?;
        let mut writer = FanoutWriter::new(data_files);
        for batch in batches {
            for (key, part) in splitter.split(&batch)? {
                writer.write(key, part).await?;
            }
        }
        writer.close().await?
    };

    let transaction = Transaction::new(table);
    let transaction = transaction
        .fast_append()
        .add_data_files(files)
        .apply(transaction)?;
    transaction.commit(catalog).await
}

/// Shared by the writer and tests: an `Arc`'d schema in the form batches must have.
pub fn arrow_schema_with_ids(table: &Table) -> iceberg::Result<arrow::datatypes::SchemaRef> {
    Ok(Arc::new(iceberg::arrow::schema_to_arrow_schema(
        table.metadata().current_schema(),
    )?))
}
