//! [`IcebergScanExec`]: the leaf of every plan that reads the lake.
//!
//! ```text
//!   coordinator                                   executor (task t)
//!   TableProvider::scan ──plan files──▶ splits ──▶ IcebergScanExec::execute(partition)
//!   (pinned snapshot, projection,        │            └─ SplitReader, per split: iceberg's
//!    pushed-down predicate)              │               Arrow reader (field ids, row filter),
//!                              balanced by bytes:        then position, vector and equality
//!                              tasks[t][partition]       deletes (see `deletes`)
//! ```
//!
//! Splits are grouped by task, then by output partition. A scan planned on the coordinator has
//! one task; the distributed planner scales it up (see [`super::distribute`]) so each task of
//! the leaf stage reads its own share of the files.
//!
//! The node is self-contained: it holds its splits and the scan-wide context, never a live
//! table handle, so the codec can ship it to any executor and the snapshot read there is the
//! one the coordinator pinned.

use std::fmt;
use std::sync::Arc;

use arrow::datatypes::SchemaRef;
use arrow::record_batch::{RecordBatch, RecordBatchOptions};
use datafusion::common::stats::Precision;
use datafusion::common::{ColumnStatistics, Statistics};
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::TaskContext;
use datafusion::physical_expr::EquivalenceProperties;
use datafusion::physical_plan::execution_plan::{Boundedness, EmissionType};
use datafusion::physical_plan::metrics::{
    BaselineMetrics, Count, ExecutionPlanMetricsSet, MetricBuilder, MetricsSet,
};
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::{
    DisplayAs, DisplayFormatType, ExecutionPlan, Partitioning, PlanProperties,
    SendableRecordBatchStream,
};
use datafusion_distributed::DistributedTaskContext;
use futures::{StreamExt, stream};
use iceberg::io::FileIO;
use lakegate_proto::scan as pb;
use lakegate_proto::trace_context::RemoteParent;

use crate::error::ScanError;
use crate::scan::read::SplitReader;
use crate::scan::split::ScanContext;
use crate::tracking::{RunningGuard, RunningTasks};

/// Reads a planned Iceberg scan: one output partition per group of splits.
#[derive(Debug, Clone)]
pub struct IcebergScanExec {
    table: String,
    snapshot_id: i64,
    context: ScanContext,
    tasks: Vec<Vec<Vec<pb::Split>>>,
    limit: Option<usize>,
    schema: SchemaRef,
    file_io: FileIO,
    properties: Arc<PlanProperties>,
    metrics: ExecutionPlanMetricsSet,
    running: Option<RunningTasks>,
    files_pruned: usize,
}

/// Everything needed to build an [`IcebergScanExec`]; see the field docs on the node's message
/// in `proto/lakegate/scan.proto`.
#[derive(Debug, Clone)]
pub struct IcebergScanParts {
    pub table: String,
    pub snapshot_id: i64,
    pub context: ScanContext,
    /// Splits by task, then by output partition.
    pub tasks: Vec<Vec<Vec<pb::Split>>>,
    pub limit: Option<usize>,
    /// Output schema: the projected columns, as the table provider declared them.
    pub schema: SchemaRef,
    pub file_io: FileIO,
}

impl IcebergScanExec {
    pub fn new(parts: IcebergScanParts) -> Self {
        let partition_count = parts.tasks.iter().map(Vec::len).max().unwrap_or(0).max(1);
        let properties = PlanProperties::new(
            EquivalenceProperties::new(parts.schema.clone()),
            Partitioning::UnknownPartitioning(partition_count),
            EmissionType::Incremental,
            Boundedness::Bounded,
        );
        Self {
            table: parts.table,
            snapshot_id: parts.snapshot_id,
            context: parts.context,
            tasks: parts.tasks,
            limit: parts.limit,
            schema: parts.schema,
            file_io: parts.file_io,
            properties: Arc::new(properties),
            metrics: ExecutionPlanMetricsSet::new(),
            running: None,
            files_pruned: 0,
        }
    }

    /// The same scan, noting that planning left `files` data files of the snapshot out.
    pub fn pruned(mut self, files: usize) -> Self {
        self.files_pruned = files;
        self
    }

    /// Data files of the snapshot that planning left out (partitions and column statistics
    /// that rule the filters out); known where the scan was planned, 0 where it was decoded.
    pub fn files_pruned(&self) -> usize {
        self.files_pruned
    }

    /// The same scan, counting its live output streams in `running`.
    pub fn counting(mut self, running: RunningTasks) -> Self {
        self.running = Some(running);
        self
    }

    /// Fully qualified name of the table read.
    pub fn table(&self) -> &str {
        &self.table
    }

    /// The snapshot every split belongs to.
    pub fn snapshot_id(&self) -> i64 {
        self.snapshot_id
    }

    /// Splits by task, then by output partition.
    pub fn tasks(&self) -> &[Vec<Vec<pb::Split>>] {
        &self.tasks
    }

    /// Every split of the scan, whichever task and partition reads it.
    pub fn splits(&self) -> impl Iterator<Item = &pb::Split> {
        self.tasks.iter().flatten().flatten()
    }

    /// Output partitions of each task.
    pub fn partition_count(&self) -> usize {
        self.properties.partitioning.partition_count()
    }

    /// Data files this scan reads, over all tasks and partitions.
    pub fn file_count(&self) -> usize {
        self.splits().count()
    }

    pub fn context(&self) -> &ScanContext {
        &self.context
    }

    pub fn limit(&self) -> Option<usize> {
        self.limit
    }

    /// The same scan with its splits regrouped (the distributed planner gives each task a share).
    pub fn with_tasks(&self, tasks: Vec<Vec<Vec<pb::Split>>>) -> Self {
        Self::new(IcebergScanParts {
            table: self.table.clone(),
            snapshot_id: self.snapshot_id,
            context: self.context.clone(),
            tasks,
            limit: self.limit,
            schema: self.schema.clone(),
            file_io: self.file_io.clone(),
        })
        .pruned(self.files_pruned)
    }
}

impl DisplayAs for IcebergScanExec {
    fn fmt_as(&self, t: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        let columns: Vec<&str> = self
            .schema
            .fields()
            .iter()
            .map(|c| c.name().as_str())
            .collect();
        write!(
            f,
            "IcebergScanExec: table={}, snapshot={}, files={}, tasks={}, partitions={}, projection=[{}]",
            self.table,
            self.snapshot_id,
            self.file_count(),
            self.tasks.len(),
            self.partition_count(),
            columns.join(", ")
        )?;
        if let Some(predicate) = &self.context.predicate {
            write!(f, ", predicate={predicate}")?;
        }
        if let Some(limit) = self.limit {
            write!(f, ", limit={limit}")?;
        }
        if matches!(t, DisplayFormatType::Verbose) {
            for (t, partitions) in self.tasks.iter().enumerate() {
                for (i, splits) in partitions.iter().enumerate() {
                    let paths: Vec<&str> =
                        splits.iter().map(|s| s.data_file_path.as_str()).collect();
                    write!(f, "\n  task {t} partition {i}: {}", paths.join(", "))?;
                }
            }
        }
        Ok(())
    }
}

impl ExecutionPlan for IcebergScanExec {
    fn name(&self) -> &str {
        "IcebergScanExec"
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        &self.properties
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        Vec::new()
    }

    fn with_new_children(
        self: Arc<Self>,
        children: Vec<Arc<dyn ExecutionPlan>>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        if children.is_empty() {
            Ok(self)
        } else {
            Err(DataFusionError::Internal(
                "IcebergScanExec is a leaf and takes no children".into(),
            ))
        }
    }

    fn execute(
        &self,
        partition: usize,
        context: Arc<TaskContext>,
    ) -> Result<SendableRecordBatchStream> {
        if partition >= self.partition_count() {
            return Err(DataFusionError::Internal(format!(
                "IcebergScanExec on {} has {} partitions, asked for partition {partition}",
                self.table,
                self.partition_count()
            )));
        }
        // A task with fewer partitions than the widest one reads nothing in the rest.
        let task = DistributedTaskContext::from_ctx(&context).task_index;
        let splits = self
            .tasks
            .get(task)
            .and_then(|partitions| partitions.get(partition))
            .cloned()
            .unwrap_or_default();
        let baseline = BaselineMetrics::new(&self.metrics, partition);
        let metric =
            |name: &'static str| MetricBuilder::new(&self.metrics).counter(name, partition);
        metric("files_scanned").add(splits.len());
        let bytes_scanned = metric("bytes_scanned");
        let rows_deleted = metric("rows_deleted");
        let reader = SplitReader {
            file_io: self.file_io.clone(),
            context: Arc::new(self.context.clone()),
            batch_size: context.session_config().batch_size(),
            bytes_scanned: bytes_scanned.clone(),
            rows_deleted: rows_deleted.clone(),
        };
        // Lives as long as the stream: closed, with what was read, when the scan ends. On an
        // executor its parent is the query's span on the coordinator.
        let span = tracing::info_span!(
            "scan",
            table = %self.table,
            task,
            partition,
            files = splits.len(),
            rows = tracing::field::Empty,
            bytes = tracing::field::Empty,
            rows_deleted = tracing::field::Empty,
        );
        if let Some(parent) = context.session_config().get_extension::<RemoteParent>() {
            parent.adopt(&span);
        }
        let read = ScanSpan {
            span,
            bytes: bytes_scanned,
            rows_deleted,
            rows: 0,
            running: self.running.as_ref().map(RunningTasks::start),
        };
        // Two files in flight at once: one decodes while the next one's first bytes arrive.
        let inner = stream::iter(splits)
            .map(move |split| reader.clone().read(split))
            .flatten_unordered(2);

        let schema = self.schema.clone();
        // Stops pulling from the reader once the limit is met, so no further file is opened.
        let batches = stream::try_unfold(
            (inner, self.limit, read),
            move |(mut inner, remaining, mut read)| {
                let schema = schema.clone();
                let baseline = baseline.clone();
                async move {
                    if remaining == Some(0) {
                        read.finish();
                        return Ok(None);
                    }
                    let Some(batch) = inner.next().await else {
                        read.finish();
                        return Ok(None);
                    };
                    let mut batch = conform(batch?, &schema)?;
                    let remaining = remaining.map(|left| {
                        if batch.num_rows() > left {
                            batch = batch.slice(0, left);
                        }
                        left - batch.num_rows()
                    });
                    baseline.record_output(batch.num_rows());
                    read.rows += batch.num_rows();
                    Ok::<_, DataFusionError>(Some((batch, (inner, remaining, read))))
                }
            },
        );
        Ok(Box::pin(RecordBatchStreamAdapter::new(
            self.schema.clone(),
            batches,
        )))
    }

    fn metrics(&self) -> Option<MetricsSet> {
        Some(self.metrics.clone_inner())
    }

    fn partition_statistics(&self, partition: Option<usize>) -> Result<Arc<Statistics>> {
        let splits: Vec<&pb::Split> = match partition {
            Some(p) => self
                .tasks
                .iter()
                .filter_map(|t| t.get(p))
                .flatten()
                .collect(),
            None => self.splits().collect(),
        };
        // Record counts ignore deletes and the predicate, so they are upper bounds.
        let rows = splits.iter().map(|s| s.record_count).sum::<Option<u64>>();
        let mut rows = rows.map_or(Precision::Absent, |r| Precision::Inexact(r as usize));
        if let (Some(limit), Precision::Inexact(r)) = (self.limit, rows) {
            rows = Precision::Inexact(r.min(limit));
        }
        let bytes: u64 = splits.iter().map(|s| s.length).sum();
        Ok(Arc::new(Statistics {
            num_rows: rows,
            total_byte_size: Precision::Inexact(bytes as usize),
            column_statistics: vec![ColumnStatistics::new_unknown(); self.schema.fields().len()],
        }))
    }

    fn fetch(&self) -> Option<usize> {
        self.limit
    }
}

/// The reader's batches carry iceberg's field-id metadata; the plan's schema does not. Columns
/// are the same arrays, so rewrapping them is free.
fn conform(batch: RecordBatch, schema: &SchemaRef) -> Result<RecordBatch, ScanError> {
    let options = RecordBatchOptions::new().with_row_count(Some(batch.num_rows()));
    Ok(RecordBatch::try_new_with_options(
        schema.clone(),
        batch.columns().to_vec(),
        &options,
    )?)
}

/// A scan stream's span and what it read, recorded as the scan ends: on the span, and in the
/// executor's totals its heartbeat reports. Its guard counts the stream as running until the
/// stream is dropped (finished, failed or cancelled).
struct ScanSpan {
    span: tracing::Span,
    bytes: Count,
    rows_deleted: Count,
    rows: usize,
    running: Option<RunningGuard>,
}

impl ScanSpan {
    fn finish(&self) {
        self.span.record("rows", self.rows);
        self.span.record("bytes", self.bytes.value());
        self.span.record("rows_deleted", self.rows_deleted.value());
        if let Some(running) = &self.running {
            running.read(self.rows as u64, self.bytes.value() as u64);
        }
    }
}
